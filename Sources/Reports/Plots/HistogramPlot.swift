/// Overlaid distributions on shared bins, e.g. an image feature on the reference cohort and
/// on a new scanner's cohort (drift). Each series is a step outline over a light fill.
public struct HistogramPlot: Sendable, FigureBody {
    /// One value per bin: a fraction, a density or a count.
    public typealias Series = ValueSeries

    public var title: String?
    public var subtitle: String?
    /// Bin edges, ascending: one more than the values of each series.
    public var binEdges: [Double]
    public var series: [Series]
    public var xAxis: Axis
    public var yAxis: Axis
    public var fillOpacity: Double
    /// Under the plot by default, so that panels side by side keep equal plot areas.
    public var legend: LegendPlacement
    public var aspect: Double

    public init(title: String? = nil, subtitle: String? = nil, binEdges: [Double], series: [Series], xAxis: Axis,
                yAxis: Axis = Axis("Share of cases", format: .percent), fillOpacity: Double = 0.18, legend: LegendPlacement = .below,
                aspect: Double = 1.3) {
        self.title = title; self.subtitle = subtitle; self.binEdges = binEdges; self.series = series
        self.xAxis = xAxis; self.yAxis = yAxis; self.fillOpacity = fillOpacity; self.legend = legend; self.aspect = aspect
    }

    /// Bins raw values into `bins` equal-width bins over `range` and returns each series'
    /// fraction per bin (values outside the range go to the end bins).
    public static func fractions(_ values: [Double], edges: [Double]) -> [Double] {
        let n = edges.count - 1
        guard n > 0 else { return [] }
        var counts = [Double](repeating: 0, count: n)
        var total = 0.0
        for v in values where v.isFinite {
            var k = 0
            // Binary search for the bin whose [lo, hi) holds v.
            var lo = 0, hi = n
            while lo < hi { let mid = (lo + hi) / 2; if edges[mid + 1] <= v { lo = mid + 1 } else { hi = mid } }
            k = min(max(lo, 0), n - 1)
            counts[k] += 1; total += 1
        }
        return total == 0 ? counts : counts.map { $0 / total }
    }

    var summary: String { "histogram(\(series.count) series, \(max(binEdges.count - 1, 0)) bins)" }

    func draw(_ cx: CairoContext, in rect: Rect) throws {
        guard binEdges.count >= 2, zip(binEdges, binEdges.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw ReportsError.invalidInput(what: "histogram bins", problem: "needs at least two ascending edges")
        }
        for s in series where s.values.count != binEdges.count - 1 {
            throw ReportsError.invalidInput(what: "histogram series '\(s.label)'",
                                            problem: "\(s.values.count) values for \(binEdges.count - 1) bins")
        }
        let maxValue = series.flatMap(\.values).filter(\.isFinite).max() ?? 1
        let xScale = xAxis.scale(dataMin: binEdges.first!, dataMax: binEdges.last!)
        let yScale = yAxis.scale(dataMin: 0, dataMax: maxValue * 1.05)
        let entries = series.map { LegendEntry($0.label, .line($0.style)) }
        func layout(_ placement: LegendPlacement) -> PlotFrame {
            PlotFrame.layout(cx, rect: rect, title: title, subtitle: subtitle, x: xScale, y: yScale,
                             xLabel: xAxis.label, yLabel: yAxis.label, aspect: nil, legend: entries, placement: placement)
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
            for s in series {
                // Filled area under the step outline.
                cx.newPath()
                cx.moveTo(frame.px(binEdges[0]), frame.py(0))
                for (k, v) in s.values.enumerated() {
                    let y = frame.py(v.isFinite ? v : 0)
                    cx.lineTo(frame.px(binEdges[k]), y)
                    cx.lineTo(frame.px(binEdges[k + 1]), y)
                }
                cx.lineTo(frame.px(binEdges[binEdges.count - 1]), frame.py(0))
                cx.closePath()
                cx.setColor(s.style.color.withAlpha(fillOpacity))
                cx.fill()
            }
            cx.setButtCaps()
            for s in series {
                cx.newPath()
                cx.moveTo(frame.px(binEdges[0]), frame.py(0))
                for (k, v) in s.values.enumerated() {
                    let y = frame.py(v.isFinite ? v : 0)
                    cx.lineTo(frame.px(binEdges[k]), y)
                    cx.lineTo(frame.px(binEdges[k + 1]), y)
                }
                cx.lineTo(frame.px(binEdges[binEdges.count - 1]), frame.py(0))
                cx.setColor(s.style.color); cx.setLineWidth(s.style.lineWidth); cx.setDash(s.style.dash)
                cx.stroke()
                cx.setDash([])
            }
        }
        frame.drawAxes(cx, xLabel: xAxis.label, yLabel: yAxis.label)
        frame.drawLegend(cx, entries, placement: placement, avoid: occupied(frame))
    }

    /// The filled area of every series (sampled), which a legend should not cover.
    private func occupied(_ frame: PlotFrame) -> [Point] {
        var avoid: [Point] = []
        for s in series {
            for (k, v) in s.values.enumerated() where v.isFinite {
                for f in [0.1, 0.5, 0.9] {
                    let x = frame.px(binEdges[k] + (binEdges[k + 1] - binEdges[k]) * f)
                    var y = frame.py(v)
                    while y <= frame.area.maxY { avoid.append(Point(x: x, y: y)); y += 5 }
                }
            }
        }
        return avoid
    }
}

/// A labelled, styled row of values: one per bin of a `HistogramPlot`, one per category of a
/// `BarChart`.
public struct ValueSeries: Sendable {
    public var label: String
    public var values: [Double]
    public var style: SeriesStyle
    public init(label: String, values: [Double], style: SeriesStyle) {
        self.label = label; self.values = values; self.style = style
    }
}
