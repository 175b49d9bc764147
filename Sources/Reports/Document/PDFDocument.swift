internal import CCairo

/// An A4 PDF being drawn: owns the PDF surface and its context, sets the metadata, draws
/// the running header and footer, and returns the finished bytes.
///
/// The creation and modification dates are fixed from `metadata.creationDate`, so the same
/// content gives a byte-identical file.
final class PDFDocument {
    let theme: Theme
    let context: CairoContext
    private let surface: CairoSurface
    private(set) var pageNumber = 1
    private var outlineParents: [Int32] = [0, 0, 0]

    init(theme: Theme, metadata: DocumentMetadata) throws {
        self.theme = theme
        surface = try CairoSurface.pdf(width: theme.pageWidth, height: theme.pageHeight)
        context = try CairoContext(surface: surface)
        surface.setMetadata(CAIRO_PDF_METADATA_TITLE, metadata.title)
        surface.setMetadata(CAIRO_PDF_METADATA_AUTHOR, metadata.author)
        if !metadata.subject.isEmpty { surface.setMetadata(CAIRO_PDF_METADATA_SUBJECT, metadata.subject) }
        if !metadata.keywords.isEmpty { surface.setMetadata(CAIRO_PDF_METADATA_KEYWORDS, metadata.keywords) }
        surface.setMetadata(CAIRO_PDF_METADATA_CREATOR, metadata.creator)
        surface.setMetadata(CAIRO_PDF_METADATA_CREATE_DATE, metadata.creationDate)
        surface.setMetadata(CAIRO_PDF_METADATA_MOD_DATE, metadata.creationDate)
    }

    /// Adds a bookmark for something at `y` on the current page.
    func addOutline(level: Int, title: String, y: Double) {
        let lvl = max(1, min(2, level))
        let parent = lvl == 1 ? Int32(0) : outlineParents[1]
        let id = surface.addOutline(parent: parent, title: title, page: pageNumber, y: y, bold: lvl == 1)
        outlineParents[lvl] = id
    }

    /// Ends the current page and starts the next.
    func endPage() throws {
        try context.status()
        context.showPage()
        pageNumber += 1
    }

    /// The running header (from page 2 on) and the footer with "Page i of n".
    func drawFurniture(page: Int, of total: Int, header: String, headerNote: String, footer: String) {
        let t = theme
        let left = t.marginLeft, right = t.pageWidth - t.marginRight
        let cx = context
        if page > 1 {
            let base = t.marginTop - 24
            cx.text(header, x: left, baseline: base, font: t.small, color: Palette.mutedInk)
            cx.text(headerNote, x: right, baseline: base, font: t.small, color: Palette.mutedInk, anchor: .right)
            cx.line(from: Point(x: left, y: base + 5), to: Point(x: right, y: base + 5), color: Palette.rule, width: 0.5)
        }
        let fy = t.pageHeight - t.marginBottom + 30
        cx.line(from: Point(x: left, y: fy - 11), to: Point(x: right, y: fy - 11), color: Palette.rule, width: 0.5)
        cx.text(footer, x: left, baseline: fy, font: t.small, color: Palette.mutedInk)
        cx.text("Page \(page) of \(total)", x: right, baseline: fy, font: t.small, color: Palette.mutedInk, anchor: .right)
    }

    /// Finishes the document and returns the PDF bytes.
    func finish() throws -> [UInt8] {
        try context.status()
        return try surface.finish()
    }
}
