/// A piece of one line of text in a single font.
struct TextRun {
    var text: String
    var font: Font
    var x: Double
}

/// One laid-out line; `x` positions are relative to the line's left edge.
struct TextLine {
    var runs: [TextRun]
    var width: Double

    func draw(_ cx: CairoContext, x: Double, baseline: Double, color: Color, anchor: TextAnchor = .left) {
        var left = x
        if anchor == .right { left = x - width } else if anchor == .center { left = x - width / 2 }
        for run in runs { cx.text(run.text, x: left + run.x, baseline: baseline, font: run.font, color: color) }
    }
}

/// Greedy line breaking of styled text (left-aligned, ragged right).
///
/// Words are the maximal runs without whitespace, even across style changes, so "**0.93**,"
/// never breaks before the comma. A word wider than the line is broken between characters.
enum TextLayout {
    static func wrap(_ spans: [Span], width: Double, style: TextStyle, cx: CairoContext) -> [TextLine] {
        // Split into words made of (text, font) pieces.
        typealias Piece = (text: String, font: Font)
        var words: [[Piece]] = []
        var current: [Piece] = []
        for span in spans {
            let font = style.font(for: span.style)
            var buffer = ""
            for ch in span.text {
                if ch == " " || ch == "\n" || ch == "\t" {
                    if !buffer.isEmpty { current.append((buffer, font)); buffer = "" }
                    if !current.isEmpty { words.append(current); current = [] }
                } else {
                    buffer.append(ch)
                }
            }
            if !buffer.isEmpty { current.append((buffer, font)) }
        }
        if !current.isEmpty { words.append(current) }
        // Never break before a unit that belongs to the number in front ("95 %", "0.7 pt").
        var glued: [[Piece]] = []
        for w in words {
            let text = w.map(\.text).joined()
            if let last = glued.last, !last.isEmpty, text == "%" || text.hasPrefix("%") || text == "pt" || text == "*",
               let prev = last.last?.text.last, prev.isNumber {
                glued[glued.count - 1].append(("\u{00A0}", last.last!.font))
                glued[glued.count - 1] += w
            } else {
                glued.append(w)
            }
        }
        words = glued

        var lines: [TextLine] = []
        var runs: [TextRun] = []
        var x = 0.0
        let space = cx.width(" ", style.regular)

        func appendPiece(_ text: String, _ font: Font) {
            if let last = runs.last, last.font == font {
                runs[runs.count - 1].text += text
            } else {
                runs.append(TextRun(text: text, font: font, x: x))
            }
            x += cx.width(text, font)
        }
        func endLine() {
            // Recompute run positions from the merged text for exact advances.
            var pos = 0.0
            for i in runs.indices { runs[i].x = pos; pos += cx.width(runs[i].text, runs[i].font) }
            lines.append(TextLine(runs: runs, width: pos))
            runs = []; x = 0
        }

        for word in words {
            let w = word.reduce(0) { $0 + cx.width($1.text, $1.font) }
            if !runs.isEmpty && x + space + w > width + 0.01 { endLine() }
            if !runs.isEmpty { appendPiece(" ", runs[runs.count - 1].font) }
            if w <= width + 0.01 || x > 0 {
                for p in word { appendPiece(p.text, p.font) }
                continue
            }
            // A word longer than the whole line: break between characters.
            for p in word {
                for ch in p.text {
                    let s = String(ch)
                    let cw = cx.width(s, p.font)
                    if x + cw > width + 0.01 && !runs.isEmpty { endLine() }
                    appendPiece(s, p.font)
                }
            }
        }
        if !runs.isEmpty { endLine() }
        return lines
    }

    /// Wraps plain text in one font.
    static func wrap(_ text: String, width: Double, font: Font, cx: CairoContext) -> [TextLine] {
        wrap([Span(text: text, style: .regular)], width: width, style: TextStyle(font), cx: cx)
    }

    /// Width of the widest word (the narrowest a column can get without breaking words).
    static func longestWord(_ text: String, font: Font, cx: CairoContext) -> Double {
        text.split(separator: " ").map { cx.width(String($0), font) }.max() ?? 0
    }
}
