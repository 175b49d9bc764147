/// An sRGB colour with alpha, components in 0...1.
public struct Color: Sendable, Equatable {
    public var red: Double
    public var green: Double
    public var blue: Double
    public var alpha: Double

    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red; self.green = green; self.blue = blue; self.alpha = alpha
    }

    /// A colour from a packed 0xRRGGBB value.
    public init(hex: UInt32, alpha: Double = 1) {
        red = Double((hex >> 16) & 0xFF) / 255
        green = Double((hex >> 8) & 0xFF) / 255
        blue = Double(hex & 0xFF) / 255
        self.alpha = alpha
    }

    /// A grey of the given lightness.
    public init(grey: Double, alpha: Double = 1) { self.init(red: grey, green: grey, blue: grey, alpha: alpha) }

    public func withAlpha(_ a: Double) -> Color { Color(red: red, green: green, blue: blue, alpha: a) }

    /// Relative luminance (ITU-R BT.709 weights on sRGB values): what the colour becomes in grey print.
    public var luminance: Double { 0.2126 * red + 0.7152 * green + 0.0722 * blue }

    /// Mix with white by `t` (0 = unchanged, 1 = white).
    public func lightened(_ t: Double) -> Color {
        Color(red: red + (1 - red) * t, green: green + (1 - green) * t, blue: blue + (1 - blue) * t, alpha: alpha)
    }

    public static let black = Color(grey: 0)
    public static let white = Color(grey: 1)
}

/// The report's colours, chosen to stay distinct in grey print (dark ink, light fills).
public enum Palette {
    public static let ink = Color(hex: 0x1A1A1A)
    public static let mutedInk = Color(hex: 0x5A5F66)
    public static let accent = Color(hex: 0x1F3B5C)
    public static let rule = Color(hex: 0xB8C0C8)
    public static let gridLine = Color(hex: 0xE1E5EA)
    public static let tableHeader = Color(hex: 0xE3E8EE)
    public static let zebra = Color(hex: 0xF4F6F8)
    public static let pass = Color(hex: 0x1E6B3A)
    public static let passFill = Color(hex: 0xE3F1E7)
    public static let fail = Color(hex: 0xA3221B)
    public static let failFill = Color(hex: 0xF8E1DF)
    public static let warn = Color(hex: 0x8A5A00)
    public static let warnFill = Color(hex: 0xFBF0D9)
    public static let note = Color(hex: 0x1F3B5C)
    public static let noteFill = Color(hex: 0xE6EDF5)
}
