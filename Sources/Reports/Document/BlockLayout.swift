/// Turns parsed markup blocks into layout units, looking up tables, fields and figures in
/// the content by id.
struct BlockLayout {
    let theme: Theme
    let content: ReportContent
    let cx: CairoContext

    private var width: Double { theme.contentRect.width }

    func units(for blocks: [Block]) throws -> [LayoutUnit] {
        var units: [LayoutUnit] = []
        var nextBreak = false
        var previousParagraph: Range<Int>? = nil
        for block in blocks {
            var produced = try unitsFor(block)
            if case .pageBreak = block { nextBreak = true; continue }
            if nextBreak, !produced.isEmpty { produced[0].pageBreakBefore = true; nextBreak = false }
            switch block {
            case .figures, .table:
                // A short paragraph introducing a figure or table moves with it.
                if let r = previousParagraph, r.count <= 4 { for i in r { units[i].keepWithNext = true } }
            case .caption:
                // A caption stays with the figure above it.
                if !units.isEmpty { units[units.count - 1].keepWithNext = true }
            default: break
            }
            if case .paragraph = block { previousParagraph = units.count..<(units.count + produced.count) } else { previousParagraph = nil }
            units += produced
        }
        return units
    }

    private func textUnits(_ spans: [Span], style: TextStyle, leading: Double, spaceBefore: Double,
                           indent: Double = 0, kind: String = "text", bullet: Bool = false) -> [LayoutUnit] {
        let lines = TextLayout.wrap(spans, width: width - indent, style: style, cx: cx)
        let ascent = cx.metrics(style.regular).ascent
        var units: [LayoutUnit] = []
        for (k, line) in lines.enumerated() {
            let first = k == 0
            // Keep the first two and the last two lines of a paragraph together (no orphans or widows).
            let keep = lines.count > 2 && (k == 0 || k == lines.count - 2)
            let color = style.color
            let bulletFont = style.regular
            units.append(LayoutUnit(kind: kind, height: leading, spaceBefore: first ? spaceBefore : 0, keepWithNext: keep) { cx, r in
                let baseline = r.minY + (leading - ascent) / 2 + ascent - 1
                if bullet && first {
                    cx.text("•", x: r.minX + indent - 10, baseline: baseline, font: bulletFont, color: Palette.accent)
                }
                line.draw(cx, x: r.minX + indent, baseline: baseline, color: color)
            })
        }
        return units
    }

    private func unitsFor(_ block: Block) throws -> [LayoutUnit] {
        let t = theme
        switch block {
        case .title(let text):
            let lines = TextLayout.wrap(text, width: width, font: t.title, cx: cx)
            let lead = t.title.size * 1.22
            return [LayoutUnit(kind: "title", height: Double(lines.count) * lead + 14, spaceBefore: 0, keepWithNext: true,
                               outline: (1, text)) { cx, r in
                cx.fill(Rect(x: r.minX, y: r.minY, width: 46, height: 4), Palette.accent)
                for (k, line) in lines.enumerated() {
                    line.draw(cx, x: r.minX, baseline: r.minY + 14 + Double(k) * lead + t.title.size * 0.9, color: Palette.accent)
                }
            }]
        case .subtitle(let text):
            return textUnits([Span(text: text, style: .regular)], style: TextStyle(t.subtitle, color: Palette.mutedInk),
                             leading: t.subtitle.size * 1.35, spaceBefore: 2, kind: "subtitle")
        case .heading(let level, let text):
            let font = level == 1 ? t.h1 : level == 2 ? t.h2 : t.h3
            let lines = TextLayout.wrap(text, width: width, font: font, cx: cx)
            let lead = font.size * 1.3
            let rule = level == 1
            let height = Double(lines.count) * lead + (rule ? 7 : 2)
            let spaceBefore = level == 1 ? 16.0 : level == 2 ? 12 : 8
            return [LayoutUnit(kind: "heading\(level)", height: height, spaceBefore: spaceBefore, keepWithNext: true,
                               outline: level <= 2 ? (level, text) : nil) { cx, r in
                for (k, line) in lines.enumerated() {
                    line.draw(cx, x: r.minX, baseline: r.minY + Double(k) * lead + font.size * 1.0,
                              color: level == 3 ? Palette.ink : Palette.accent)
                }
                if rule {
                    cx.line(from: Point(x: r.minX, y: r.maxY - 2), to: Point(x: r.maxX, y: r.maxY - 2), color: Palette.accent, width: 0.8)
                }
            }]
        case .paragraph(let spans):
            return textUnits(spans, style: TextStyle(t.body), leading: t.bodyLeading, spaceBefore: t.paragraphGap)
        case .bullets(let items):
            var units: [LayoutUnit] = []
            for (k, item) in items.enumerated() {
                units += textUnits(item, style: TextStyle(t.body), leading: t.bodyLeading,
                                   spaceBefore: k == 0 ? t.paragraphGap : 2, indent: 14, kind: "bullet", bullet: true)
            }
            return units
        case .caption(let spans):
            var u = textUnits(spans, style: TextStyle(Font(.sansOblique, t.small.size + 0.3), color: Palette.mutedInk),
                              leading: t.small.size * 1.4, spaceBefore: 3, kind: "caption")
            if !u.isEmpty { u[u.count - 1].height += 4 }
            return u
        case .callout(let kind, let large, let spans):
            return [calloutUnit(kind: kind, large: large, spans: spans)]
        case .fields(let id):
            guard let list = content.fields[id] else { throw missing("field list", id, content.fields.keys) }
            return fieldUnits(list)
        case .table(let id):
            guard let table = content.tables[id] else { throw missing("table", id, content.tables.keys) }
            try table.validate(id: id)
            return TableLayout(table: table, width: width, theme: t, cx: cx).units(cx: cx)
        case .figures(let ids, let columns, let height):
            var figures: [Figure] = []
            for id in ids {
                guard let f = content.figures[id] else { throw missing("figure", id, content.figures.keys) }
                figures.append(f)
            }
            return figureUnits(figures, ids: ids, columns: columns, height: height)
        case .code(let lines):
            return codeUnits(lines)
        case .pageBreak:
            return []
        case .spacer(let h):
            return [LayoutUnit(kind: "space", height: h) { _, _ in }]
        }
    }

    private func missing(_ what: String, _ id: String, _ known: Dictionary<String, some Any>.Keys) -> ReportsError {
        let list = known.sorted().joined(separator: ", ")
        return .markup(line: 0, text: id, problem: "no \(what) named '\(id)' in this report (known: \(list.isEmpty ? "none" : list))")
    }

    private func calloutUnit(kind: CalloutKind, large: Bool, spans: [Span]) -> LayoutUnit {
        let t = theme
        let (ink, fill): (Color, Color) = {
            switch kind {
            case .pass: return (Palette.pass, Palette.passFill)
            case .fail: return (Palette.fail, Palette.failFill)
            case .warn, .error: return (Palette.warn, Palette.warnFill)
            case .note: return (Palette.note, Palette.noteFill)
            }
        }()
        let labelFont = Font(.sansBold, large ? 15 : 8.6)
        let bodyFont = Font(.sans, large ? 10.5 : t.body.size)
        let padding = large ? 12.0 : 7.0
        let barWidth = large ? 6.0 : 4.0
        let labelWidth = cx.width(kind.label, labelFont)
        let textX = barWidth + padding + labelWidth + (large ? 14 : 9)
        let lines = TextLayout.wrap(spans, width: width - textX - padding, style: TextStyle(bodyFont), cx: cx)
        let lead = bodyFont.size * 1.4
        let textHeight = Double(max(lines.count, 1)) * lead
        let height = max(textHeight, labelFont.size * 1.2) + 2 * padding
        return LayoutUnit(kind: large ? "verdict" : "callout", height: height, spaceBefore: large ? 12 : 8) { cx, r in
            cx.fill(r, fill)
            cx.fill(Rect(x: r.minX, y: r.minY, width: barWidth, height: r.height), ink)
            let labelBaseline = large ? r.minY + padding + labelFont.size * 0.95 : r.minY + padding + lead * 0.75
            cx.text(kind.label, x: r.minX + barWidth + padding, baseline: labelBaseline, font: labelFont, color: ink)
            let textTop = r.minY + (r.height - textHeight) / 2
            for (k, line) in lines.enumerated() {
                line.draw(cx, x: r.minX + textX, baseline: textTop + Double(k) * lead + lead * 0.74, color: Palette.ink)
            }
        }
    }

    private func fieldUnits(_ list: FieldList) -> [LayoutUnit] {
        let t = theme
        let keyFont = Font(.sans, t.body.size - 0.8)
        let keyWidth = min((list.fields.map { cx.width($0.key, keyFont) }.max() ?? 0) + 14, width * 0.32)
        var units: [LayoutUnit] = []
        for (k, field) in list.fields.enumerated() {
            let valueFont = field.mono ? Font(.mono, t.body.size - 1) : t.body
            let keyLines = TextLayout.wrap(field.key, width: keyWidth - 8, font: keyFont, cx: cx)
            let valueLines = TextLayout.wrap(field.value, width: width - keyWidth, font: valueFont, cx: cx)
            let lead = t.bodyLeading - 0.6
            let height = Double(max(keyLines.count, valueLines.count)) * lead + 5
            units.append(LayoutUnit(kind: "field", height: height, spaceBefore: k == 0 ? 8 : 0) { cx, r in
                let baseline = r.minY + 2.5 + lead * 0.74
                for (i, line) in keyLines.enumerated() {
                    line.draw(cx, x: r.minX, baseline: baseline + Double(i) * lead, color: Palette.mutedInk)
                }
                for (i, line) in valueLines.enumerated() {
                    line.draw(cx, x: r.minX + keyWidth, baseline: baseline + Double(i) * lead, color: Palette.ink)
                }
                cx.line(from: Point(x: r.minX, y: r.maxY), to: Point(x: r.maxX, y: r.maxY), color: Palette.gridLine, width: 0.5)
            })
        }
        return units
    }

    private func figureUnits(_ figures: [Figure], ids: [String], columns: Int, height: Double?) -> [LayoutUnit] {
        let gap = 14.0
        let cellWidth = (width - gap * Double(columns - 1)) / Double(columns)
        var units: [LayoutUnit] = []
        var index = 0
        while index < figures.count {
            let row = Array(figures[index..<min(index + columns, figures.count)])
            let rowIDs = Array(ids[index..<min(index + columns, figures.count)])
            let natural = row.map { cellWidth / $0.aspect }.max() ?? 200
            let h = min(height ?? natural, theme.contentRect.height * 0.9)
            let summary = zip(rowIDs, row).map { "\($0)=\($1.summary)" }.joined(separator: " ")
            units.append(LayoutUnit(kind: "figure[\(summary)]", height: h, spaceBefore: index == 0 ? 10 : gap) { cx, r in
                for (k, f) in row.enumerated() {
                    let cell = Rect(x: r.minX + Double(k) * (cellWidth + gap), y: r.minY, width: cellWidth, height: r.height)
                    try cx.withState {
                        cx.clip(cell.inset(by: -2))
                        try f.body.draw(cx, in: cell)
                    }
                }
            })
            index += columns
        }
        return units
    }

    private func codeUnits(_ lines: [String]) -> [LayoutUnit] {
        let font = theme.mono
        let lead = font.size * 1.45
        let pad = 6.0
        var wrapped: [String] = []
        let charWidth = cx.width("M", font)
        let perLine = max(10, Int((width - 2 * pad) / charWidth))
        for line in lines {
            var rest = Substring(line)
            if rest.isEmpty { wrapped.append(""); continue }
            var first = true
            while !rest.isEmpty {
                let room = first ? perLine : perLine - 4
                let piece = rest.prefix(room)
                wrapped.append((first ? "" : "    ") + piece)
                rest = rest.dropFirst(piece.count)
                first = false
            }
        }
        var units: [LayoutUnit] = []
        for (k, text) in wrapped.enumerated() {
            let top = k == 0, bottom = k == wrapped.count - 1
            let h = lead + (top ? pad : 0) + (bottom ? pad : 0)
            units.append(LayoutUnit(kind: "code", height: h, spaceBefore: top ? 6 : 0) { cx, r in
                cx.fill(r, Palette.zebra)
                cx.fill(Rect(x: r.minX, y: r.minY, width: 2, height: r.height), Palette.rule)
                let baseline = r.minY + (top ? pad : 0) + lead * 0.75
                cx.text(text, x: r.minX + pad + 2, baseline: baseline, font: font, color: Palette.ink)
            })
        }
        return units
    }
}
