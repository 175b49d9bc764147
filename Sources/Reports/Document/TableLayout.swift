/// Lays out a `ReportTable`: column widths from content, wrapped cells, zebra rows, and the
/// header repeated on continuation pages.
struct TableLayout {
    let table: ReportTable
    let width: Double
    let theme: Theme
    private(set) var columnWidths: [Double] = []
    let padX = 4.0
    let padY = 3.0

    init(table: ReportTable, width: Double, theme: Theme, cx: CairoContext) {
        self.table = table
        self.width = width
        self.theme = theme
        columnWidths = computeWidths(cx)
    }

    private var font: Font { theme.tableFont }
    private var headerFont: Font { Font(.sansBold, theme.tableFont.size) }

    private func cellFont(_ column: ReportTable.Column, _ cell: ReportTable.Cell) -> Font {
        if column.mono { return Font(.mono, font.size * 0.95) }
        switch cell.style {
        case .bold, .pass, .fail, .warn: return Font(.sansBold, font.size)
        default: return font
        }
    }

    /// Natural widths; left-aligned columns give up width (down to their longest word) when
    /// the table is too wide, and take any spare width when it is narrow.
    private func computeWidths(_ cx: CairoContext) -> [Double] {
        let n = table.columns.count
        var natural = [Double](repeating: 0, count: n)
        var minimum = [Double](repeating: 0, count: n)
        for (c, col) in table.columns.enumerated() {
            natural[c] = cx.width(col.title, headerFont)
            minimum[c] = TextLayout.longestWord(col.title, font: headerFont, cx: cx)
        }
        for row in table.rows where !row.isGroupHeader {
            for (c, cell) in row.cells.enumerated() where c < n {
                let f = cellFont(table.columns[c], cell)
                natural[c] = max(natural[c], cx.width(cell.text, f))
                let wrappable = table.columns[c].alignment == .left
                minimum[c] = max(minimum[c], wrappable ? TextLayout.longestWord(cell.text, font: f, cx: cx) : cx.width(cell.text, f))
            }
        }
        natural = natural.map { $0 + 2 * padX + 0.5 }
        minimum = minimum.map { $0 + 2 * padX + 0.5 }
        let total = natural.reduce(0, +)
        let flexible = table.columns.indices.filter { table.columns[$0].alignment == .left }
        if total <= width {
            // Spread the spare width: mostly to text columns, a little to all.
            let spare = width - total
            var w = natural
            let textShare = flexible.isEmpty ? 0 : spare * 0.6
            let textTotal = flexible.reduce(0) { $0 + natural[$1] }
            for c in flexible { w[c] += textShare * natural[c] / max(textTotal, 1) }
            for c in 0..<n { w[c] += (spare - textShare) / Double(n) }
            return w
        }
        // Too wide: shrink the text columns towards their minimum, proportionally to the slack.
        var w = natural
        var excess = total - width
        let slack = flexible.reduce(0) { $0 + (natural[$1] - minimum[$1]) }
        if slack > 0 {
            let take = min(excess, slack)
            for c in flexible { w[c] -= take * (natural[c] - minimum[c]) / slack }
            excess -= take
        }
        if excess > 0 {
            // Still too wide: scale everything (cells then break between characters).
            let s = width / w.reduce(0, +)
            w = w.map { $0 * s }
        }
        return w
    }

    private func lines(_ text: String, _ font: Font, column: Int, cx: CairoContext) -> [TextLine] {
        TextLayout.wrap(text, width: max(columnWidths[column] - 2 * padX, 4), font: font, cx: cx)
    }

    func headerUnit(cx: CairoContext, continued: Bool) -> LayoutUnit {
        let wrapped = table.columns.enumerated().map { lines($0.element.title, headerFont, column: $0.offset, cx: cx) }
        let lineCount = wrapped.map(\.count).max() ?? 1
        let titleHeight = table.title == nil ? 0.0 : 15.0
        let height = titleHeight + Double(lineCount) * theme.tableLeading + 2 * padY + 1
        let columns = table.columns, widths = columnWidths, padX = padX, padY = padY
        let leading = theme.tableLeading, font = headerFont, title = table.title, small = theme.small
        let titleFont = Font(.sansBold, theme.tableFont.size + 0.6)
        return LayoutUnit(kind: continued ? "table-header(cont)" : "table-header", height: height, spaceBefore: 6,
                          keepWithNext: true) { cx, r in
            if let title {
                cx.text(title, x: r.minX, baseline: r.minY + 10, font: titleFont, color: Palette.accent)
                if continued {
                    cx.text("(continued)", x: r.minX + cx.width(title, titleFont) + 5, baseline: r.minY + 10,
                            font: small, color: Palette.mutedInk)
                }
            }
            let box = r.inset(top: titleHeight)
            cx.fill(box, Palette.tableHeader)
            cx.line(from: Point(x: box.minX, y: box.maxY), to: Point(x: box.maxX, y: box.maxY), color: Palette.accent, width: 0.9)
            var x = box.minX
            let (ascent, _) = cx.metrics(font)
            for (c, col) in columns.enumerated() {
                let colLines = wrapped[c]
                // Header text sits at the bottom of the header cell, aligned like its column.
                let offset = Double(lineCount - colLines.count) * leading
                for (k, line) in colLines.enumerated() {
                    let baseline = box.minY + padY + offset + Double(k) * leading + ascent + 0.5
                    drawAligned(line, cx, x: x, width: widths[c], padX: padX, alignment: col.alignment, baseline: baseline, color: Palette.ink)
                }
                x += widths[c]
            }
            _ = padY
        }
    }

    /// One unit per row; continuation pages get the header again.
    func units(cx: CairoContext) -> [LayoutUnit] {
        var units: [LayoutUnit] = [headerUnit(cx: cx, continued: false)]
        let header = headerUnit(cx: cx, continued: true)
        var zebra = false
        let widths = columnWidths, padX = padX, padY = padY, leading = theme.tableLeading
        for (index, row) in table.rows.enumerated() {
            let isLast = index == table.rows.count - 1
            if row.isGroupHeader {
                let text = row.cells.first?.text ?? ""
                let f = headerFont
                let unit = LayoutUnit(kind: "table-group", height: leading + 2 * padY + 2, keepWithNext: true,
                                      continuationHeader: { header }) { cx, r in
                    let (ascent, _) = cx.metrics(f)
                    cx.text(text, x: r.minX + padX, baseline: r.minY + padY + 2 + ascent, font: f, color: Palette.accent)
                    cx.line(from: Point(x: r.minX, y: r.maxY - 0.25), to: Point(x: r.maxX, y: r.maxY - 0.25),
                            color: Palette.rule, width: 0.4)
                }
                units.append(unit)
                zebra = false
                continue
            }
            var cellLines: [[TextLine]] = []
            var fonts: [Font] = []
            for (c, cell) in row.cells.enumerated() {
                let f = cellFont(table.columns[c], cell)
                fonts.append(f)
                cellLines.append(table.columns[c].alignment == .left
                    ? lines(cell.text, f, column: c, cx: cx)
                    : [TextLine(runs: [TextRun(text: cell.text, font: f, x: 0)], width: cx.width(cell.text, f))])
            }
            let count = cellLines.map(\.count).max() ?? 1
            let height = Double(count) * leading + 2 * padY
            let shaded = zebra
            zebra.toggle()
            let columns = table.columns, cells = row.cells
            // No single row alone at the foot of a page or at the top of the next, and the
            // note stays with the last row.
            let rowCount = table.rows.count
            let keep = (index == 0 && rowCount >= 3) || (index == rowCount - 2 && rowCount >= 4) || (isLast && table.note != nil)
            units.append(LayoutUnit(kind: "table-row", height: height, keepWithNext: keep, continuationHeader: { header }) { cx, r in
                if shaded { cx.fill(r, Palette.zebra) }
                var x = r.minX
                for c in 0..<columns.count {
                    let (ascent, _) = cx.metrics(fonts[c])
                    let color = TableLayout.color(cells[c].style)
                    for (k, line) in cellLines[c].enumerated() {
                        let baseline = r.minY + padY + Double(k) * leading + ascent + 0.6
                        drawAligned(line, cx, x: x, width: widths[c], padX: padX, alignment: columns[c].alignment,
                                    baseline: baseline, color: color)
                    }
                    x += widths[c]
                }
                if isLast {
                    cx.line(from: Point(x: r.minX, y: r.maxY), to: Point(x: r.maxX, y: r.maxY), color: Palette.accent, width: 0.9)
                }
            })
        }
        if let note = table.note {
            let noteLines = TextLayout.wrap(note, width: width, font: theme.small, cx: cx)
            let lead = theme.small.size * 1.35
            units.append(LayoutUnit(kind: "table-note", height: Double(noteLines.count) * lead + 3, spaceBefore: 2) { cx, r in
                for (k, line) in noteLines.enumerated() {
                    line.draw(cx, x: r.minX, baseline: r.minY + 3 + Double(k) * lead + lead * 0.75, color: Palette.mutedInk)
                }
            })
        }
        return units
    }

    static func color(_ style: ReportTable.CellStyle) -> Color {
        switch style {
        case .normal, .bold: return Palette.ink
        case .muted: return Palette.mutedInk
        case .pass: return Palette.pass
        case .fail: return Palette.fail
        case .warn: return Palette.warn
        }
    }
}

private func drawAligned(_ line: TextLine, _ cx: CairoContext, x: Double, width: Double, padX: Double,
                         alignment: ReportTable.Alignment, baseline: Double, color: Color) {
    switch alignment {
    case .left: line.draw(cx, x: x + padX, baseline: baseline, color: color)
    case .right: line.draw(cx, x: x + width - padX, baseline: baseline, color: color, anchor: .right)
    case .center: line.draw(cx, x: x + width / 2, baseline: baseline, color: color, anchor: .center)
    }
}
