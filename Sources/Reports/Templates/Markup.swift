/// A run of text with one style, after inline markup is resolved.
struct Span: Equatable {
    enum Style: Equatable { case regular, bold, italic, mono }
    var text: String
    var style: Style
}

/// The kinds of callout box.
public enum CalloutKind: String, Sendable, CaseIterable {
    case pass, fail, warn, note
    /// Could not be judged (e.g. a release gate whose figure is undefined).
    case error

    var label: String {
        switch self {
        case .pass: return "PASS"
        case .fail: return "FAIL"
        case .error: return "ERROR"
        case .warn: return "WARNING"
        case .note: return "NOTE"
        }
    }
}

/// One block of the report's markup (see docs/reports.md, "Report markup").
enum Block {
    case title(String)
    case subtitle(String)
    case heading(level: Int, text: String)
    case paragraph([Span])
    case bullets([[Span]])
    case callout(kind: CalloutKind, large: Bool, text: [Span])
    case fields(id: String)
    case table(id: String)
    case figures(ids: [String], columns: Int, height: Double?)
    case caption([Span])
    case code([String])
    case pageBreak
    case spacer(Double)
}

/// Parses the markup that the Mustache templates render to.
///
/// Line-oriented: `#`/`##`/`###` headings, `- ` bullets, blank lines between paragraphs,
/// ```` ``` ```` fenced monospaced blocks, and `@` directives (`@title`, `@subtitle`,
/// `@callout KIND text`, `@verdict KIND text`, `@fields ID`, `@table ID`,
/// `@figure ID [height=N]`, `@grid [columns=N] [height=N] ID...`, `@caption text`,
/// `@pagebreak`, `@space N`). Inline: `**bold**`, `_italic_`, `` `mono` ``, `\` escapes.
enum MarkupParser {
    static func parse(_ text: String) throws -> [Block] {
        var blocks: [Block] = []
        var paragraph: [String] = []
        var bullets: [String] = []
        var code: [String]? = nil

        func flush() {
            if !paragraph.isEmpty { blocks.append(.paragraph(inline(paragraph.joined(separator: " ")))); paragraph = [] }
            if !bullets.isEmpty { blocks.append(.bullets(bullets.map(inline))); bullets = [] }
        }

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            if code != nil {
                if rawLine.trimmingCharacters(in: .whitespaces) == "```" {
                    blocks.append(.code(code!)); code = nil
                } else {
                    code!.append(rawLine)
                }
                continue
            }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { flush(); continue }
            if line == "```" { flush(); code = []; continue }
            if line.hasPrefix("#") {
                let level = line.prefix(while: { $0 == "#" }).count
                guard level <= 3, line.dropFirst(level).first == " " else {
                    throw ReportsError.markup(line: lineNumber, text: line, problem: "headings are '# ', '## ' or '### ' followed by text")
                }
                flush()
                blocks.append(.heading(level: level, text: unescape(String(line.dropFirst(level + 1)))))
                continue
            }
            if line.hasPrefix("- ") {
                if !paragraph.isEmpty { flush() }
                bullets.append(String(line.dropFirst(2)))
                continue
            }
            if line.hasPrefix("@") {
                flush()
                blocks.append(try directive(line, lineNumber: lineNumber))
                continue
            }
            if !bullets.isEmpty && rawLine.hasPrefix("  ") {
                bullets[bullets.count - 1] += " " + line
                continue
            }
            if !bullets.isEmpty { flush() }
            paragraph.append(line)
        }
        if code != nil { throw ReportsError.markup(line: lines.count, text: "```", problem: "code block is not closed") }
        flush()
        return blocks
    }

    private static func directive(_ line: String, lineNumber: Int) throws -> Block {
        let name = String(line.dropFirst().prefix(while: { !$0.isWhitespace }))
        let rest = String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        func fail(_ problem: String) -> ReportsError { .markup(line: lineNumber, text: line, problem: problem) }
        func words() -> [String] { rest.split(separator: " ").map(String.init) }
        func options(_ ws: [String]) throws -> (ids: [String], opts: [String: Double]) {
            var ids: [String] = []
            var opts: [String: Double] = [:]
            for w in ws {
                if let eq = w.firstIndex(of: "=") {
                    let key = String(w[..<eq])
                    guard ["height", "columns"].contains(key), let v = Double(w[w.index(after: eq)...]), v > 0 else {
                        throw fail("option '\(w)' is not height=N or columns=N")
                    }
                    opts[key] = v
                } else {
                    ids.append(w)
                }
            }
            return (ids, opts)
        }
        switch name {
        case "title": return .title(unescape(rest))
        case "subtitle": return .subtitle(unescape(rest))
        case "caption": return .caption(inline(rest))
        case "pagebreak": return .pageBreak
        case "space":
            guard let v = Double(rest), v >= 0 else { throw fail("@space takes a number of points") }
            return .spacer(v)
        case "callout", "verdict":
            let ws = words()
            guard let first = ws.first, let kind = CalloutKind(rawValue: first.lowercased()) else {
                throw fail("@\(name) takes a kind first: \(CalloutKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let text = String(rest.dropFirst(first.count)).trimmingCharacters(in: .whitespaces)
            return .callout(kind: kind, large: name == "verdict", text: inline(text))
        case "fields", "table":
            let ws = words()
            guard ws.count == 1 else { throw fail("@\(name) takes exactly one id") }
            return name == "table" ? .table(id: ws[0]) : .fields(id: ws[0])
        case "figure":
            let (ids, opts) = try options(words())
            guard ids.count == 1 else { throw fail("@figure takes exactly one id") }
            return .figures(ids: ids, columns: 1, height: opts["height"])
        case "grid":
            let (ids, opts) = try options(words())
            let columns = Int(opts["columns"] ?? 2)
            guard columns >= 1 && columns <= 6 else { throw fail("columns must be 1...6") }
            if ids.isEmpty { return .spacer(0) }
            return .figures(ids: ids, columns: columns, height: opts["height"])
        default:
            throw fail("unknown directive @\(name)")
        }
    }

    /// Resolves `**bold**`, `_italic_` and `` `mono` `` into spans; `\x` is a literal x.
    static func inline(_ text: String) -> [Span] {
        var spans: [Span] = []
        var current = ""
        var style: Span.Style = .regular
        let chars = Array(text)
        var i = 0
        func push() { if !current.isEmpty { spans.append(Span(text: current, style: style)); current = "" } }
        while i < chars.count {
            let c = chars[i]
            if c == "\\" && i + 1 < chars.count { current.append(chars[i + 1]); i += 2; continue }
            if style == .mono {
                if c == "`" { push(); style = .regular } else { current.append(c) }
                i += 1; continue
            }
            if c == "*" && i + 1 < chars.count && chars[i + 1] == "*" && (style == .regular || style == .bold) {
                push(); style = style == .bold ? .regular : .bold; i += 2; continue
            }
            if c == "`" && style == .regular { push(); style = .mono; i += 1; continue }
            if c == "_" && (style == .regular || style == .italic) {
                // Only at word boundaries, so snake_case names stay intact.
                let before = i == 0 ? " " : chars[i - 1]
                let after = i + 1 < chars.count ? chars[i + 1] : " "
                let opening = style == .regular && !before.isLetter && !before.isNumber && !after.isWhitespace
                let closing = style == .italic && !after.isLetter && !after.isNumber
                if opening || closing { push(); style = opening ? .italic : .regular; i += 1; continue }
            }
            current.append(c)
            i += 1
        }
        push()
        return spans
    }

    static func unescape(_ text: String) -> String { inline(text).map(\.text).joined() }

    /// Escapes a value so that it prints literally inside markup (what templates insert).
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "\\", "*", "_", "`", "@", "#": out.append("\\"); out.append(c)
            case "\n", "\r", "\t": out.append(" ")
            default: out.append(c)
            }
        }
        return out
    }
}
