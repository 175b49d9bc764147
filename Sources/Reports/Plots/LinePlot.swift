import Foundation

/// A line plot of one or more series, e.g. ROC curves.
public struct LinePlot: Sendable, FigureBody {
    public struct Series: Sendable {
        public var label: String
        public var x: [Double]
        public var y: [Double]
        public var style: SeriesStyle
        /// Draw the points as steps (x changes first), as for an empirical ROC curve.
        public var steps: Bool

        public init(label: String, x: [Double], y: [Double], style: SeriesStyle, steps: Bool = false) {
            self.label = label; self.x = x; self.y = y; self.style = style; self.steps = steps
        }
    }

    public var title: String?
    public var subtitle: String?
    public var xAxis: Axis
    public var yAxis: Axis
    public var series: [Series]
    /// A dashed y = x reference line ("chance" on a ROC plot).
    public var diagonal: Bool
    public var diagonalLabel: String?
    public var legend: LegendPlacement
    /// Width / height of the data area; 1 keeps ROC plots square.
    public var plotAspect: Double?
    public var aspect: Double

    public init(title: String? = nil, subtitle: String? = nil, xAxis: Axis, yAxis: Axis, series: [Series],
                diagonal: Bool = false, diagonalLabel: String? = nil, legend: LegendPlacement = .auto,
                plotAspect: Double? = nil, aspect: Double = 1.25) {
        self.title = title; self.subtitle = subtitle; self.xAxis = xAxis; self.yAxis = yAxis; self.series = series
        self.diagonal = diagonal; self.diagonalLabel = diagonalLabel; self.legend = legend
        self.plotAspect = plotAspect; self.aspect = aspect
    }

    /// ROC curves of one class: false positive rate against true positive rate, a square
    /// plot with the chance diagonal, the AUC and its confidence interval in each legend entry.
    public static func roc(title: String?, subtitle: String? = nil, curves: [ROCCurve]) -> LinePlot {
        let series = curves.enumerated().map { i, c in
            Series(label: c.legendLabel, x: c.points.map(\.falsePositiveRate), y: c.points.map(\.truePositiveRate),
                   style: c.style ?? SeriesStyle.cycle(i), steps: false)
        }
        return LinePlot(title: title, subtitle: subtitle,
                        xAxis: Axis("False positive rate (1 − specificity)", range: 0...1),
                        yAxis: Axis("True positive rate (sensitivity)", range: 0...1),
                        series: series, diagonal: true, diagonalLabel: "chance", legend: .auto, plotAspect: 1, aspect: 1.0)
    }

    var summary: String { "line(\(series.count) series)" }

    func validate() throws {
        for s in series where s.x.count != s.y.count {
            throw ReportsError.invalidInput(what: "series '\(s.label)'", problem: "\(s.x.count) x values for \(s.y.count) y values")
        }
    }

    func draw(_ cx: CairoContext, in rect: Rect) throws {
        try validate()
        let xs = series.flatMap(\.x).filter(\.isFinite), ys = series.flatMap(\.y).filter(\.isFinite)
        let xScale = xAxis.scale(dataMin: xs.min() ?? 0, dataMax: xs.max() ?? 1)
        let yScale = yAxis.scale(dataMin: ys.min() ?? 0, dataMax: ys.max() ?? 1)
        let entries = series.map { LegendEntry($0.label, .line($0.style)) }
        func layout(_ placement: LegendPlacement) -> PlotFrame {
            PlotFrame.layout(cx, rect: rect, title: title, subtitle: subtitle, x: xScale, y: yScale,
                             xLabel: xAxis.label, yLabel: yAxis.label, aspect: plotAspect, legend: entries, placement: placement)
        }
        var frame = layout(legend)
        var placement = legend
        if legend == .auto && frame.legendBelow == nil && frame.bestCorner(cx, entries, avoid: occupied(frame)).covered > 0 {
            placement = .below
            frame = layout(.below)
        }
        frame.drawBackground(cx, title: title, subtitle: subtitle)
        cx.withState {
            cx.clip(frame.area)
            if diagonal {
                let lo = max(xScale.lower, yScale.lower), hi = min(xScale.upper, yScale.upper)
                cx.line(from: frame.point(lo, lo), to: frame.point(hi, hi), color: Palette.mutedInk, width: 0.7, dash: [2.5, 2.5])
            }
            cx.setRoundJoins()
            for s in series {
                cx.setColor(s.style.color); cx.setLineWidth(s.style.lineWidth); cx.setDash(s.style.dash)
                cx.newPath()
                var started = false
                var last: Point? = nil
                for (vx, vy) in zip(s.x, s.y) where vx.isFinite && vy.isFinite {
                    let p = frame.point(vx, vy)
                    if !started { cx.moveTo(p.x, p.y); started = true } else {
                        if s.steps, let l = last { cx.lineTo(p.x, l.y) }
                        cx.lineTo(p.x, p.y)
                    }
                    last = p
                }
                cx.stroke()
                cx.setDash([])
            }
        }
        if diagonal, let diagonalLabel {
            // Label the diagonal near its upper end, rotated along it.
            let a = frame.point(0.78, 0.78)
            cx.withState {
                cx.translate(a.x + 4, a.y + 3)
                let angle = -atan2(frame.area.height, frame.area.width)
                cx.rotate(angle)
                cx.text(diagonalLabel, x: 0, baseline: 7, font: PlotFrame.tickFont, color: Palette.mutedInk)
            }
        }
        frame.drawAxes(cx, xLabel: xAxis.label, yLabel: yAxis.label)
        frame.drawLegend(cx, entries, placement: placement, avoid: occupied(frame))
    }

    /// Points along every series and the diagonal, which a legend should not cover.
    private func occupied(_ frame: PlotFrame) -> [Point] {
        var avoid: [Point] = []
        for s in series {
            // Sample along each segment so long straight stretches also count as occupied.
            var prev: Point? = nil
            for (vx, vy) in zip(s.x, s.y) where vx.isFinite && vy.isFinite {
                let p = frame.point(vx, vy)
                if let q = prev {
                    for k in 1...8 { let t = Double(k) / 8; avoid.append(Point(x: q.x + (p.x - q.x) * t, y: q.y + (p.y - q.y) * t)) }
                } else { avoid.append(p) }
                prev = p
            }
        }
        if diagonal { for k in 0...20 { let t = Double(k) / 20; avoid.append(frame.point(t, t)) } }
        return avoid
    }
}
