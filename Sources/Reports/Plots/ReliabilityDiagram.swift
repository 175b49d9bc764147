/// A reliability (calibration) diagram: for each probability bin, the observed frequency of
/// the class as a bar over the bin, against the diagonal of perfect calibration, with the
/// number of cases per bin in a strip underneath.
public struct ReliabilityDiagram: Sendable, FigureBody {
    public var title: String?
    public var subtitle: String?
    public var bins: [ReliabilityBin]
    public var barColor: Color
    public var aspect: Double
    /// The bars' meaning (y axis) and the bins' (x axis), e.g. "Accuracy" / "Top-class confidence".
    public var observedLabel = "Observed frequency"
    public var predictedLabel = "Mean predicted probability"

    public init(title: String? = nil, subtitle: String? = nil, bins: [ReliabilityBin],
                barColor: Color = ColorMap.viridis.color(0.35), aspect: Double = 1.0) {
        self.title = title; self.subtitle = subtitle; self.bins = bins; self.barColor = barColor; self.aspect = aspect
    }

    var summary: String { "reliability(\(bins.count) bins)" }

    func draw(_ cx: CairoContext, in rect: Rect) throws {
        for b in bins where !(b.lower < b.upper) || b.lower < 0 || b.upper > 1 {
            throw ReportsError.invalidInput(what: "reliability bin", problem: "bounds \(b.lower)...\(b.upper) are not inside 0...1")
        }
        let unit = Axis("", range: 0...1).scale(dataMin: 0, dataMax: 1)
        let entries = [
            LegendEntry(observedLabel.lowercased(), .box(barColor.lightened(0.45), border: barColor)),
            LegendEntry("mean predicted in bin", .marker(Palette.ink)),
            LegendEntry("perfect calibration", .line(SeriesStyle(color: Palette.mutedInk, dash: [2.5, 2.5], lineWidth: 0.8))),
        ]
        // Main panel above, count strip below (22 % of the height).
        let stripHeight = max(22, rect.height * 0.13)
        let stripBlock = stripHeight + 12 + 24
        let main = Rect(x: rect.minX, y: rect.minY, width: rect.width, height: rect.height - stripBlock)
        let frame = PlotFrame.layout(cx, rect: main, title: title, subtitle: subtitle, x: unit, y: unit, xLabel: "",
                                     yLabel: observedLabel, aspect: nil, legend: entries, placement: .auto,
                                     xTickLabels: false)
        frame.drawBackground(cx, title: title, subtitle: subtitle)
        var avoid: [Point] = []
        cx.withState {
            cx.clip(frame.area)
            for b in bins where b.count > 0 {
                let r = Rect(x: frame.px(b.lower), y: frame.py(b.observedFrequency), width: frame.px(b.upper) - frame.px(b.lower),
                             height: frame.py(0) - frame.py(b.observedFrequency))
                cx.fill(r.inset(top: 0, left: 0.6, bottom: 0, right: 0.6), barColor.lightened(0.45))
                cx.strokeRect(r.inset(top: 0, left: 0.6, bottom: 0, right: 0.6), barColor, width: 0.6)
                for k in 0...4 { avoid.append(Point(x: r.minX + r.width * Double(k) / 4, y: r.minY + 2)) }
                var y = r.minY
                while y < r.maxY { avoid.append(Point(x: r.midX, y: y)); y += 4 }
            }
            cx.line(from: frame.point(0, 0), to: frame.point(1, 1), color: Palette.mutedInk, width: 0.8, dash: [2.5, 2.5])
            for k in 0...20 { let t = Double(k) / 20; avoid.append(frame.point(t, t)) }
            for b in bins where b.count > 0 {
                let p = frame.point(b.meanPredicted, b.observedFrequency)
                cx.setColor(Palette.ink); cx.arc(center: p, radius: 1.8); cx.fill()
            }
        }
        frame.drawAxes(cx, xLabel: "", yLabel: observedLabel, xTickLabels: false)
        frame.drawLegend(cx, entries, placement: .auto, avoid: avoid)

        // Count strip: same x axis, bars of the number of cases per bin.
        let maxCount = bins.map(\.count).max() ?? 1
        let countScale = NiceScale(min: 0, max: Double(max(maxCount, 1)), maxTicks: 3)
        let strip = Rect(x: frame.area.minX, y: frame.area.maxY + 12, width: frame.area.width, height: stripHeight)
        cx.fill(strip, .white)
        for b in bins where b.count > 0 {
            let h = strip.height * Double(b.count) / countScale.upper
            let r = Rect(x: strip.minX + b.lower * strip.width + 0.6, y: strip.maxY - h,
                         width: (b.upper - b.lower) * strip.width - 1.2, height: h)
            cx.fill(r, Palette.mutedInk.lightened(0.35))
        }
        cx.strokeRect(strip, Palette.mutedInk, width: 0.6)
        cx.text("patients per bin", x: strip.maxX, baseline: strip.minY - 2.5, font: Font(.sans, 5.8), color: Palette.mutedInk, anchor: .right)
        for t in [0, countScale.upper] {
            let Y = strip.maxY - strip.height * t / countScale.upper
            cx.line(from: Point(x: strip.minX - 3, y: Y), to: Point(x: strip.minX, y: Y), color: Palette.mutedInk, width: 0.6)
            cx.text(countScale.label(t), x: strip.minX - 5, centerY: Y, font: PlotFrame.tickFont, color: Palette.ink, anchor: .right)
        }
        for t in unit.ticks {
            let X = strip.minX + t * strip.width
            cx.line(from: Point(x: X, y: strip.maxY), to: Point(x: X, y: strip.maxY + 3), color: Palette.mutedInk, width: 0.6)
            cx.text(unit.label(t), x: X, baseline: strip.maxY + 10.5, font: PlotFrame.tickFont, color: Palette.ink, anchor: .center)
        }
        cx.text(predictedLabel, x: strip.midX, baseline: strip.maxY + 21.5, font: PlotFrame.labelFont,
                color: Palette.ink, anchor: .center)
    }
}
