/// One axis of a plot: its label, and either a fixed range or one chosen from the data.
public struct Axis: Sendable {
    public enum TickFormat: Sendable { case auto, percent }

    public var label: String
    /// Fixed range; nil chooses a nice range around the data.
    public var range: ClosedRange<Double>?
    public var maxTicks: Int
    public var format: TickFormat

    public init(_ label: String, range: ClosedRange<Double>? = nil, maxTicks: Int = 6, format: TickFormat = .auto) {
        self.label = label; self.range = range; self.maxTicks = maxTicks; self.format = format
    }

    /// The axis's scale for data spanning `lo...hi`.
    func scale(dataMin lo: Double, dataMax hi: Double) -> AxisScale {
        if let range {
            let nice = NiceScale(min: range.lowerBound, max: range.upperBound, maxTicks: maxTicks)
            let ticks = nice.ticks.filter { $0 >= range.lowerBound - 1e-9 && $0 <= range.upperBound + 1e-9 }
            return AxisScale(lower: range.lowerBound, upper: range.upperBound, ticks: ticks, nice: nice, format: format)
        }
        let nice = NiceScale(min: lo, max: hi, maxTicks: maxTicks)
        return AxisScale(lower: nice.lower, upper: nice.upper, ticks: nice.ticks, nice: nice, format: format)
    }
}

/// A resolved axis: its span and tick positions.
struct AxisScale {
    let lower: Double
    let upper: Double
    let ticks: [Double]
    let nice: NiceScale
    let format: Axis.TickFormat

    func label(_ v: Double) -> String {
        switch format {
        case .auto: return nice.label(v)
        case .percent: return Format.fixed(v * 100, digits: max(0, nice.fractionDigits - 2)) + "%"
        }
    }

    /// Position of `v` as a fraction 0...1 of the axis.
    func fraction(_ v: Double) -> Double { upper == lower ? 0.5 : (v - lower) / (upper - lower) }
}

/// A legend entry: a line sample, a filled box, or a marker.
public struct LegendEntry: Sendable {
    public enum Sample: Sendable { case line(SeriesStyle), box(Color, border: Color), marker(Color) }
    public var label: String
    public var sample: Sample
    public init(_ label: String, _ sample: Sample) { self.label = label; self.sample = sample }
}

/// Where a legend goes: inside the plot in the emptiest corner, or under the plot.
public enum LegendPlacement: Sendable { case auto, below, none }

/// The frame of a plot inside its rectangle: title, axes with ticks and labels, grid, and
/// the legend's place.
struct PlotFrame {
    let area: Rect
    let x: AxisScale
    let y: AxisScale
    let legendBelow: Rect?

    static let tickFont = Font(.sans, 7.0)
    static let labelFont = Font(.sans, 7.6)
    static let titleFont = Font(.sansBold, 8.8)
    static let subtitleFont = Font(.sans, 7.2)
    static let legendFont = Font(.sans, 7.0)

    func px(_ v: Double) -> Double { area.minX + x.fraction(v) * area.width }
    func py(_ v: Double) -> Double { area.maxY - y.fraction(v) * area.height }
    func point(_ vx: Double, _ vy: Double) -> Point { Point(x: px(vx), y: py(vy)) }

    /// Works out the plot area inside `rect`, leaving room for titles, tick labels, axis
    /// labels and (if it will not fit inside) the legend.
    static func layout(_ cx: CairoContext, rect: Rect, title: String?, subtitle: String?, x: AxisScale, y: AxisScale,
                       xLabel: String, yLabel: String, aspect: Double?, legend: [LegendEntry],
                       placement: LegendPlacement, rightReserve: Double = 0, xTickLabels: Bool = true) -> PlotFrame {
        var top = rect.minY + 2
        if title != nil { top += 12 }
        if subtitle != nil { top += 10 }
        top += 4
        let yTickWidth = y.ticks.map { cx.width(y.label($0), tickFont) }.max() ?? 0
        let left = rect.minX + (yLabel.isEmpty ? 0 : 12) + yTickWidth + 6
        var bottom = rect.maxY - (xTickLabels ? 12 : 2) - (xLabel.isEmpty ? 0 : 11)
        let lastX = x.ticks.last.map { cx.width(x.label($0), tickFont) / 2 + 1 } ?? 0
        var right = rect.maxX - max(4, xTickLabels ? lastX : 0) - rightReserve
        var legendRect: Rect? = nil
        let size = Legend.size(cx, legend)
        if !legend.isEmpty && placement != .none {
            let below = placement == .below || size.width > (right - left) * 0.72
            if below {
                let h = Legend.rowWidth(cx, legend) <= right - left ? Legend.lineHeight + 2 : size.height
                legendRect = Rect(x: left, y: rect.maxY - h, width: right - left, height: h)
                bottom -= h + 4
            }
        }
        var area = Rect(x: left, y: top, width: max(10, right - left), height: max(10, bottom - top))
        if let aspect {
            let fitted = area.fitting(aspect: aspect)
            area = Rect(x: left + (area.width - fitted.width) / 2, y: top, width: fitted.width, height: fitted.height)
            if let lr = legendRect {
                legendRect = Rect(x: area.minX, y: area.maxY + (xTickLabels ? 12 : 2) + (xLabel.isEmpty ? 0 : 11) + 4,
                                  width: area.width, height: lr.height)
            }
            right = area.maxX
        }
        return PlotFrame(area: area, x: x, y: y, legendBelow: legendRect)
    }

    /// Title, subtitle, grid lines (before the data).
    func drawBackground(_ cx: CairoContext, title: String?, subtitle: String?, grid: Bool = true) {
        var ty = area.minY - 6
        if subtitle != nil { ty -= 10 }
        if let title { cx.text(title, x: area.midX, baseline: ty - 1, font: PlotFrame.titleFont, color: Palette.ink, anchor: .center) }
        if let subtitle {
            cx.text(subtitle, x: area.midX, baseline: area.minY - 6, font: PlotFrame.subtitleFont, color: Palette.mutedInk, anchor: .center)
        }
        cx.fill(area, .white)
        guard grid else { return }
        for t in x.ticks where t > x.lower + 1e-9 && t < x.upper - 1e-9 {
            cx.line(from: Point(x: px(t), y: area.minY), to: Point(x: px(t), y: area.maxY), color: Palette.gridLine, width: 0.45)
        }
        for t in y.ticks where t > y.lower + 1e-9 && t < y.upper - 1e-9 {
            cx.line(from: Point(x: area.minX, y: py(t)), to: Point(x: area.maxX, y: py(t)), color: Palette.gridLine, width: 0.45)
        }
    }

    /// Frame, ticks, tick labels and axis labels (after the data).
    func drawAxes(_ cx: CairoContext, xLabel: String, yLabel: String, xTickLabels: Bool = true) {
        cx.strokeRect(area, Palette.mutedInk, width: 0.6)
        let tick = 3.0
        for t in x.ticks {
            let X = px(t)
            cx.line(from: Point(x: X, y: area.maxY), to: Point(x: X, y: area.maxY + tick), color: Palette.mutedInk, width: 0.6)
            if xTickLabels {
                cx.text(x.label(t), x: X, baseline: area.maxY + tick + 7.5, font: PlotFrame.tickFont, color: Palette.ink, anchor: .center)
            }
        }
        for t in y.ticks {
            let Y = py(t)
            cx.line(from: Point(x: area.minX - tick, y: Y), to: Point(x: area.minX, y: Y), color: Palette.mutedInk, width: 0.6)
            cx.text(y.label(t), x: area.minX - tick - 2, centerY: Y, font: PlotFrame.tickFont, color: Palette.ink, anchor: .right)
        }
        if !xLabel.isEmpty {
            cx.text(xLabel, x: area.midX, baseline: area.maxY + tick + (xTickLabels ? 19 : 9), font: PlotFrame.labelFont,
                    color: Palette.ink, anchor: .center)
        }
        if !yLabel.isEmpty {
            let tickWidth = y.ticks.map { cx.width(y.label($0), PlotFrame.tickFont) }.max() ?? 0
            cx.withState {
                cx.translate(area.minX - tick - tickWidth - 7, area.midY)
                cx.rotate(-Double.pi / 2)
                cx.text(yLabel, x: 0, baseline: 0, font: PlotFrame.labelFont, color: Palette.ink, anchor: .center)
            }
        }
    }

    /// Draws the legend: under the plot if reserved, else in the corner covering the fewest
    /// of `avoid` (data points in page coordinates).
    func drawLegend(_ cx: CairoContext, _ entries: [LegendEntry], placement: LegendPlacement, avoid: [Point]) {
        guard !entries.isEmpty, placement != .none else { return }
        if let below = legendBelow {
            let row = Legend.rowWidth(cx, entries)
            if row <= below.width {
                Legend.drawRow(cx, entries, at: Point(x: below.midX - row / 2, y: below.minY))
            } else {
                Legend.draw(cx, entries, at: Point(x: below.minX, y: below.minY), framed: false, maxWidth: below.width)
            }
            return
        }
        let best = bestCorner(cx, entries, avoid: avoid)
        Legend.draw(cx, entries, at: best.origin, framed: true, maxWidth: Legend.size(cx, entries).width)
    }

    /// The inside corner whose legend box covers the fewest of `avoid`, and how many it covers.
    func bestCorner(_ cx: CairoContext, _ entries: [LegendEntry], avoid: [Point]) -> (origin: Point, covered: Int) {
        let size = Legend.size(cx, entries)
        let m = 5.0
        let corners = [
            Point(x: area.maxX - size.width - m, y: area.maxY - size.height - m),  // lower right
            Point(x: area.minX + m, y: area.minY + m),                              // upper left
            Point(x: area.maxX - size.width - m, y: area.minY + m),                 // upper right
            Point(x: area.minX + m, y: area.maxY - size.height - m),                // lower left
        ]
        var best = corners[0], bestCount = Int.max
        for c in corners {
            let box = Rect(x: c.x - 2, y: c.y - 2, width: size.width + 4, height: size.height + 4)
            let count = avoid.filter { $0.x >= box.minX && $0.x <= box.maxX && $0.y >= box.minY && $0.y <= box.maxY }.count
            if count < bestCount { best = c; bestCount = count }
        }
        return (best, bestCount)
    }
}

/// Legend boxes: a sample of each series and its label, one entry per line.
enum Legend {
    static let sampleWidth = 16.0
    static let lineHeight = 10.0
    static let pad = 4.0

    static func size(_ cx: CairoContext, _ entries: [LegendEntry]) -> (width: Double, height: Double) {
        let w = entries.map { cx.width($0.label, PlotFrame.legendFont) }.max() ?? 0
        return (w + sampleWidth + 5 + 2 * pad, Double(entries.count) * lineHeight + 2 * pad - 1)
    }

    static let rowGap = 10.0

    /// Width of all entries side by side.
    static func rowWidth(_ cx: CairoContext, _ entries: [LegendEntry]) -> Double {
        entries.reduce(0) { $0 + sampleWidth + 5 + cx.width($1.label, PlotFrame.legendFont) } + rowGap * Double(max(entries.count - 1, 0))
    }

    /// Entries side by side on one line (under a plot).
    static func drawRow(_ cx: CairoContext, _ entries: [LegendEntry], at origin: Point) {
        var x = origin.x
        for e in entries {
            drawSample(cx, e.sample, x: x, cy: origin.y + lineHeight / 2 + 1)
            cx.text(e.label, x: x + sampleWidth + 5, centerY: origin.y + lineHeight / 2 + 1, font: PlotFrame.legendFont, color: Palette.ink)
            x += sampleWidth + 5 + cx.width(e.label, PlotFrame.legendFont) + rowGap
        }
    }

    static func drawSample(_ cx: CairoContext, _ sample: LegendEntry.Sample, x sx: Double, cy: Double) {
        switch sample {
        case .line(let st):
            cx.line(from: Point(x: sx, y: cy), to: Point(x: sx + sampleWidth, y: cy), color: st.color,
                    width: min(st.lineWidth, 1.6), dash: st.dash)
        case .box(let fill, let border):
            let r = Rect(x: sx + 3, y: cy - 3.5, width: sampleWidth - 6, height: 7)
            cx.fill(r, fill)
            cx.strokeRect(r, border, width: 0.6)
        case .marker(let c):
            cx.setColor(c); cx.arc(center: Point(x: sx + sampleWidth / 2, y: cy), radius: 2.2); cx.fill()
        }
    }

    static func draw(_ cx: CairoContext, _ entries: [LegendEntry], at origin: Point, framed: Bool, maxWidth: Double) {
        let s = size(cx, entries)
        if framed {
            let box = Rect(x: origin.x, y: origin.y, width: s.width, height: s.height)
            cx.fill(box, Color.white.withAlpha(0.92))
            cx.strokeRect(box, Palette.rule, width: 0.5)
        }
        for (i, e) in entries.enumerated() {
            let cy = origin.y + pad + Double(i) * lineHeight + lineHeight / 2 - 0.5
            let sx = origin.x + pad
            drawSample(cx, e.sample, x: sx, cy: cy)
            cx.text(e.label, x: sx + sampleWidth + 5, centerY: cy, font: PlotFrame.legendFont, color: Palette.ink)
        }
    }
}
