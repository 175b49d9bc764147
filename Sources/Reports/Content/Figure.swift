/// Something drawn into a rectangle of the page: a plot, an image strip.
protocol FigureBody: Sendable {
    /// Preferred width / height; the layout keeps it when it can.
    var aspect: Double { get }
    /// One line for the layout snapshot, e.g. "roc(2 curves)".
    var summary: String { get }
    func draw(_ cx: CairoContext, in rect: Rect) throws
}

/// A figure the report can place with `@figure ID` or `@grid ... ID ...`.
public struct Figure: Sendable {
    let body: any FigureBody

    init(body: any FigureBody) { self.body = body }

    public var aspect: Double { body.aspect }
    public var summary: String { body.summary }

    public init(_ plot: LinePlot) { body = plot }
    public init(_ plot: ReliabilityDiagram) { body = plot }
    public init(_ plot: ConfusionMatrixPlot) { body = plot }
    public init(_ plot: HistogramPlot) { body = plot }
    public init(_ plot: BarChart) { body = plot }
    public init(_ strip: SliceStrip) { body = strip }
}
