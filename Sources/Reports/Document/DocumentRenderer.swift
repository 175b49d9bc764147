import Foundation

/// A finished PDF with its page count and a structural snapshot of its layout.
public struct RenderedDocument: Sendable {
    public let pdf: [UInt8]
    public let pageCount: Int
    /// One line per placed unit: `page kind [x y wxh]`, for layout tests.
    public let layoutSnapshot: [LayoutEntry]
    /// The markup the templates produced (what was laid out).
    public let markup: String

    /// A placed unit: its page (1-based), kind and rectangle in points.
    public struct LayoutEntry: Sendable, Equatable, CustomStringConvertible {
        public let page: Int
        public let kind: String
        public let rect: Rect
        public var description: String { "p\(page) \(kind) \(rect)" }
    }

    /// Writes the PDF atomically (a partial file never appears at `path`).
    public func write(to path: String) throws {
        do {
            try Data(pdf).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ReportsError.write(path: path, reason: error.localizedDescription)
        }
    }
}

/// Lays out report markup with its content and draws it into an A4 PDF.
public struct DocumentRenderer: Sendable {
    public var theme: Theme

    public init(theme: Theme = Theme()) { self.theme = theme }

    /// Renders `templateName` from `templates` with `content.values`, then lays it out.
    public func render(template templateName: String, templates: ReportTemplates, content: ReportContent) throws -> RenderedDocument {
        let markup = try templates.render(templateName, values: content.values)
        return try render(markup: markup, content: content)
    }

    /// Lays out `markup` (see docs/reports.md) and draws it.
    public func render(markup: String, content: ReportContent) throws -> RenderedDocument {
        let blocks = try MarkupParser.parse(markup)
        let document = try PDFDocument(theme: theme, metadata: content.metadata)
        let cx = document.context
        let units = try BlockLayout(theme: theme, content: content, cx: cx).units(for: blocks)
        let pages = Paginator.paginate(units, content: theme.contentRect)
        var snapshot: [RenderedDocument.LayoutEntry] = []
        for (p, page) in pages.enumerated() {
            if p > 0 { try document.endPage() }
            document.drawFurniture(page: p + 1, of: pages.count, header: content.runningHeader,
                                   headerNote: content.runningHeaderNote, footer: content.footer)
            for unit in page {
                if let outline = unit.outline { document.addOutline(level: outline.level, title: outline.title, y: unit.rect.minY) }
                try cx.withState { try unit.draw(cx, unit.rect) }
                snapshot.append(.init(page: p + 1, kind: unit.kind, rect: unit.rect))
            }
        }
        let bytes = try document.finish()
        return RenderedDocument(pdf: bytes, pageCount: pages.count, layoutSnapshot: snapshot, markup: markup)
    }
}
