/// How one data series is drawn. Colours come in pairs with dash patterns, so series stay
/// apart in grey print.
public struct SeriesStyle: Sendable, Equatable {
    public var color: Color
    public var dash: [Double]
    public var lineWidth: Double

    public init(color: Color, dash: [Double] = [], lineWidth: Double = 1.5) {
        self.color = color; self.dash = dash; self.lineWidth = lineWidth
    }

    /// The default cycle: Okabe-Ito colours (safe for colour-blind readers) of different
    /// lightness, each with its own dash pattern.
    public static func cycle(_ i: Int) -> SeriesStyle {
        let styles: [SeriesStyle] = [
            SeriesStyle(color: Color(hex: 0x1F3B5C)),                          // dark navy, solid
            SeriesStyle(color: Color(hex: 0xD55E00), dash: [5, 2.5]),          // vermillion, dashed
            SeriesStyle(color: Color(hex: 0x009E73), dash: [1.2, 2]),          // bluish green, dotted
            SeriesStyle(color: Color(hex: 0xCC79A7), dash: [6, 2, 1.2, 2]),    // purple, dash-dot
            SeriesStyle(color: Color(hex: 0x0072B2), dash: [9, 3]),            // blue, long dash
            SeriesStyle(color: Color(hex: 0xE69F00), dash: [3, 1.5]),          // orange, short dash
        ]
        return styles[((i % styles.count) + styles.count) % styles.count]
    }
}
