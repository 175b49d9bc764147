/// An unbreakable piece of a page: a line of a paragraph, a table row, a figure row, a heading.
struct LayoutUnit {
    /// What it is, for the layout snapshot ("heading", "text", "table-row", "figure", ...).
    var kind: String
    var height: Double
    /// Space above, dropped at the top of a page.
    var spaceBefore: Double = 0
    /// Keep on the same page as the next unit (headings, first lines of paragraphs).
    var keepWithNext = false
    /// Start a new page first (unless the page is still empty).
    var pageBreakBefore = false
    /// Placed first when this unit starts a new page (a table's repeated header).
    var continuationHeader: (() -> LayoutUnit)? = nil
    /// A PDF bookmark for this unit: level 1 or 2.
    var outline: (level: Int, title: String)? = nil
    /// Draws the unit into its rectangle (full content width, `height` tall).
    var draw: (CairoContext, Rect) throws -> Void
}

/// A unit placed on a page.
struct PlacedUnit {
    var kind: String
    var rect: Rect
    var outline: (level: Int, title: String)?
    var draw: (CairoContext, Rect) throws -> Void
}

/// Splits units into pages, keeping keep-with-next groups together and repeating table
/// headers at the top of continuation pages.
enum Paginator {
    static func paginate(_ units: [LayoutUnit], content: Rect) -> [[PlacedUnit]] {
        var pages: [[PlacedUnit]] = [[]]
        var y = content.minY
        let bottom = content.maxY

        func newPage() { pages.append([]); y = content.minY }
        func place(_ u: LayoutUnit, spacing: Double) {
            let r = Rect(x: content.minX, y: y + spacing, width: content.width, height: u.height)
            pages[pages.count - 1].append(PlacedUnit(kind: u.kind, rect: r, outline: u.outline, draw: u.draw))
            y = r.maxY
        }

        var i = 0
        while i < units.count {
            let u = units[i]
            let pageEmpty = pages[pages.count - 1].isEmpty
            if u.pageBreakBefore && !pageEmpty { newPage() }
            let atTop = pages[pages.count - 1].isEmpty
            let spacing = atTop ? 0 : u.spaceBefore
            // Height needed by this unit and the units it must stay with.
            var need = spacing + u.height
            var j = i
            while j < units.count - 1 && units[j].keepWithNext && j - i < 6 {
                j += 1
                need += units[j].spaceBefore + units[j].height
            }
            if y + need > bottom + 0.01 && !atTop {
                newPage()
                if let header = u.continuationHeader { place(header(), spacing: 0) }
                place(u, spacing: 0)
            } else {
                place(u, spacing: spacing)
            }
            i += 1
        }
        if pages.count > 1 && pages[pages.count - 1].isEmpty { pages.removeLast() }
        return pages
    }
}
