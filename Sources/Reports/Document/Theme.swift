/// Page geometry and type scale of the report (A4, DejaVu Sans 9.2 pt body).
public struct Theme: Sendable {
    /// A4 in points.
    public var pageWidth = 595.276
    public var pageHeight = 841.890
    public var marginLeft = 56.0
    public var marginRight = 56.0
    public var marginTop = 66.0
    public var marginBottom = 64.0

    public var body = Font(.sans, 9.2)
    public var bodyLeading = 13.4
    public var small = Font(.sans, 7.6)
    public var tableFont = Font(.sans, 8.0)
    public var tableLeading = 10.6
    public var mono = Font(.mono, 7.8)
    public var title = Font(.sansBold, 22)
    public var subtitle = Font(.sans, 12.5)
    public var h1 = Font(.sansBold, 15)
    public var h2 = Font(.sansBold, 11.5)
    public var h3 = Font(.sansBold, 9.8)
    public var paragraphGap = 6.0

    public init() {}

    /// The area between the margins.
    public var contentRect: Rect {
        Rect(x: marginLeft, y: marginTop, width: pageWidth - marginLeft - marginRight,
             height: pageHeight - marginTop - marginBottom)
    }
}

/// The fonts used for inline styles at one size.
struct TextStyle {
    var regular: Font
    var color: Color

    init(_ regular: Font, color: Color = Palette.ink) { self.regular = regular; self.color = color }

    func font(for style: Span.Style) -> Font {
        switch style {
        case .regular: return regular
        case .bold: return Font(regular.face == .mono ? .monoBold : .sansBold, regular.size)
        case .italic: return Font(.sansOblique, regular.size)
        case .mono: return Font(.mono, regular.size * 0.94)
        }
    }
}
