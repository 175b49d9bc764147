/// A confusion matrix as a heat map: rows are the true class, columns the predicted class;
/// each cell shows its count and its share of the row, coloured by that share (viridis).
public struct ConfusionMatrixPlot: Sendable, FigureBody {
    public var title: String?
    public var subtitle: String?
    public var classNames: [String]
    /// counts[true][predicted]
    public var counts: [[Int]]
    public var colorMap: ColorMap
    public var aspect: Double

    public init(title: String? = nil, subtitle: String? = nil, classNames: [String], counts: [[Int]],
                colorMap: ColorMap = .viridis, aspect: Double = 1.15) {
        self.title = title; self.subtitle = subtitle; self.classNames = classNames; self.counts = counts
        self.colorMap = colorMap; self.aspect = aspect
    }

    var summary: String { "confusion(\(classNames.count)x\(classNames.count))" }

    func draw(_ cx: CairoContext, in rect: Rect) throws {
        let n = classNames.count
        guard n > 0, counts.count == n, counts.allSatisfy({ $0.count == n }), counts.joined().allSatisfy({ $0 >= 0 }) else {
            throw ReportsError.invalidInput(what: "confusion matrix", problem: "needs \(n)x\(n) non-negative counts")
        }
        let labelFont = PlotFrame.tickFont
        let rowLabelWidth = classNames.map { cx.width($0, labelFont) }.max() ?? 0
        var top = rect.minY + 2
        if title != nil { top += 12 }
        if subtitle != nil { top += 10 }
        top += 4
        let colorBarWidth = 36.0
        let left = rect.minX + 12 + rowLabelWidth + 6
        let bottom = rect.maxY - 12 - 11
        let avail = Rect(x: left, y: top, width: rect.maxX - colorBarWidth - 8 - left, height: bottom - top)
        let side = min(avail.width, avail.height)
        let grid = Rect(x: left + (avail.width - side) / 2, y: top, width: side, height: side)
        let cell = side / Double(n)

        var ty = grid.minY - 6
        if subtitle != nil { ty -= 10 }
        if let title { cx.text(title, x: grid.midX, baseline: ty - 1, font: PlotFrame.titleFont, color: Palette.ink, anchor: .center) }
        if let subtitle {
            cx.text(subtitle, x: grid.midX, baseline: grid.minY - 6, font: PlotFrame.subtitleFont, color: Palette.mutedInk, anchor: .center)
        }

        let countFont = Font(.sansBold, min(9, max(6, cell * 0.2)))
        let shareFont = Font(.sans, min(7, max(5, cell * 0.15)))
        for r in 0..<n {
            let rowTotal = counts[r].reduce(0, +)
            for c in 0..<n {
                let share = rowTotal == 0 ? 0 : Double(counts[r][c]) / Double(rowTotal)
                let color = colorMap.color(share)
                let box = Rect(x: grid.minX + Double(c) * cell, y: grid.minY + Double(r) * cell, width: cell, height: cell)
                cx.fill(box, color)
                let ink: Color = color.luminance > 0.45 ? Palette.ink : .white
                cx.text(Format.count(counts[r][c]), x: box.midX, baseline: box.midY + 1, font: countFont, color: ink, anchor: .center)
                cx.text(Format.percent(share, digits: 1), x: box.midX, baseline: box.midY + 1 + shareFont.size * 1.35,
                        font: shareFont, color: ink, anchor: .center)
            }
        }
        // Thin white separators, then a frame.
        for k in 1..<max(n, 1) {
            let o = Double(k) * cell
            cx.line(from: Point(x: grid.minX + o, y: grid.minY), to: Point(x: grid.minX + o, y: grid.maxY), color: .white, width: 0.8)
            cx.line(from: Point(x: grid.minX, y: grid.minY + o), to: Point(x: grid.maxX, y: grid.minY + o), color: .white, width: 0.8)
        }
        cx.strokeRect(grid, Palette.mutedInk, width: 0.6)
        for (k, name) in classNames.enumerated() {
            let mid = Double(k) * cell + cell / 2
            cx.text(name, x: grid.minX - 4, centerY: grid.minY + mid, font: labelFont, color: Palette.ink, anchor: .right)
            cx.text(name, x: grid.minX + mid, baseline: grid.maxY + 9, font: labelFont, color: Palette.ink, anchor: .center)
        }
        cx.text("Predicted class", x: grid.midX, baseline: grid.maxY + 20.5, font: PlotFrame.labelFont, color: Palette.ink, anchor: .center)
        cx.withState {
            cx.translate(grid.minX - rowLabelWidth - 10, grid.midY)
            cx.rotate(-Double.pi / 2)
            cx.text("True class", x: 0, baseline: 0, font: PlotFrame.labelFont, color: Palette.ink, anchor: .center)
        }
        ColorBar.draw(cx, color: { colorMap.color($0) }, in: Rect(x: grid.maxX + 10, y: grid.minY, width: 7, height: grid.height),
                      ticks: [0, 0.25, 0.5, 0.75, 1], label: { Format.fixed($0 * 100, digits: 0) + "%" }, title: "row share")
    }
}

/// A vertical colour bar with ticks on its right.
enum ColorBar {
    static func draw(_ cx: CairoContext, color: (Double) -> Color, in r: Rect, ticks: [Double], label: (Double) -> String, title: String?) {
        let steps = 64
        for i in 0..<steps {
            let t0 = Double(i) / Double(steps)
            let y = r.maxY - (t0 + 1 / Double(steps)) * r.height
            cx.fill(Rect(x: r.minX, y: y, width: r.width, height: r.height / Double(steps) + 0.3), color(t0 + 0.5 / Double(steps)))
        }
        cx.strokeRect(r, Palette.mutedInk, width: 0.5)
        for t in ticks {
            let y = r.maxY - t * r.height
            cx.line(from: Point(x: r.maxX, y: y), to: Point(x: r.maxX + 2.5, y: y), color: Palette.mutedInk, width: 0.5)
            cx.text(label(t), x: r.maxX + 4, centerY: y, font: Font(.sans, 6.4), color: Palette.ink)
        }
        if let title {
            cx.text(title, x: r.minX, baseline: r.minY - 7, font: Font(.sans, 6.4), color: Palette.mutedInk)
        }
    }
}
