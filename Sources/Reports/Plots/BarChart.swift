/// Grouped bars over categories, e.g. the share of patients per predicted class in the
/// reference and the candidate cohort (drift). Each series is a filled bar with its own
/// outline dash, so series stay apart in grey print; the value is printed above each bar.
public struct BarChart: Sendable, FigureBody {
    /// One value per category.
    public typealias Series = ValueSeries

    public var title: String?
    public var subtitle: String?
    public var categories: [String]
    public var series: [Series]
    public var yAxis: Axis
    /// Print each bar's value above it.
    public var valueLabels: Bool
    public var aspect: Double

    public init(title: String? = nil, subtitle: String? = nil, categories: [String], series: [Series],
                yAxis: Axis = Axis("Share of patients", format: .percent), valueLabels: Bool = true, aspect: Double = 1.3) {
        self.title = title; self.subtitle = subtitle; self.categories = categories; self.series = series
        self.yAxis = yAxis; self.valueLabels = valueLabels; self.aspect = aspect
    }

    var summary: String { "bars(\(series.count) series, \(categories.count) categories)" }

    func draw(_ cx: CairoContext, in rect: Rect) throws {
        guard !categories.isEmpty else { throw ReportsError.invalidInput(what: "bar chart", problem: "no categories") }
        for s in series where s.values.count != categories.count {
            throw ReportsError.invalidInput(what: "bar chart series '\(s.label)'", problem: "\(s.values.count) values for \(categories.count) categories")
        }
        let maxValue = series.flatMap(\.values).filter(\.isFinite).max() ?? 1
        // The x axis: one unit per category, no numeric ticks (category names are drawn instead).
        let xScale = AxisScale(lower: 0, upper: Double(categories.count), ticks: [],
                               nice: NiceScale(min: 0, max: Double(categories.count), maxTicks: 2), format: .auto)
        // Shares stop at 100 %: the axis does not run past it (labels then go inside the bars).
        var axis = yAxis
        if axis.range == nil && axis.format == .percent && maxValue <= 1 && maxValue * 1.12 > 1 { axis.range = 0...1 }
        let yScale = axis.scale(dataMin: 0, dataMax: max(maxValue * 1.12, 1e-9))
        let entries = series.map { LegendEntry($0.label, .box($0.style.color.withAlpha(0.55), border: $0.style.color)) }
        let frame = PlotFrame.layout(cx, rect: rect, title: title, subtitle: subtitle, x: xScale, y: yScale, xLabel: "",
                                     yLabel: yAxis.label, aspect: nil, legend: entries, placement: .below)
        frame.drawBackground(cx, title: title, subtitle: subtitle)
        let groups = Double(max(series.count, 1))
        let slot = frame.area.width / Double(categories.count)
        let barWidth = min(slot * 0.8 / groups, 40)
        for (k, name) in categories.enumerated() {
            let left = frame.area.minX + slot * Double(k) + (slot - barWidth * groups) / 2
            for (j, s) in series.enumerated() {
                let v = s.values[k].isFinite ? s.values[k] : 0
                let x = left + barWidth * Double(j)
                let top = frame.py(v)
                let bar = Rect(x: x + 0.5, y: top, width: barWidth - 1, height: max(0, frame.area.maxY - top))
                cx.fill(bar, s.style.color.withAlpha(0.55))
                cx.setButtCaps()
                cx.newPath()
                cx.rectangle(bar)
                cx.setColor(s.style.color); cx.setLineWidth(0.8); cx.setDash(s.style.dash.isEmpty ? [] : [2.5, 1.5])
                cx.stroke()
                cx.setDash([])
                if valueLabels {
                    let inside = top - 9 < frame.area.minY
                    cx.text(yScale.label(v), x: x + barWidth / 2, baseline: inside ? top + 8 : top - 2.5, font: Font(.sans, 6.2),
                            color: Palette.ink, anchor: .center)
                }
            }
            cx.text(name, x: frame.area.minX + slot * (Double(k) + 0.5), baseline: frame.area.maxY + 10.5,
                    font: PlotFrame.tickFont, color: Palette.ink, anchor: .center)
        }
        frame.drawAxes(cx, xLabel: "", yLabel: yAxis.label, xTickLabels: false)
        frame.drawLegend(cx, entries, placement: .below, avoid: [])
    }
}
