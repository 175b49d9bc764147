/// A table for the report: columns with alignment, rows of styled cells.
///
/// Numbers are right-aligned (`.right`), labels left-aligned; left-aligned columns wrap when
/// the table is wider than the page. A table longer than the page continues on the next page
/// with its header repeated.
public struct ReportTable: Sendable {
    public enum Alignment: Sendable { case left, center, right }

    public struct Column: Sendable {
        public var title: String
        public var alignment: Alignment
        /// Monospaced cells (digests, identifiers, commands).
        public var mono: Bool

        public init(_ title: String, _ alignment: Alignment = .left, mono: Bool = false) {
            self.title = title; self.alignment = alignment; self.mono = mono
        }

        /// A right-aligned numeric column.
        public static func number(_ title: String) -> Column { Column(title, .right) }
    }

    /// How a cell is emphasised. Pass/fail/warn add a colour and stay legible in grey print
    /// because the words themselves say the outcome.
    public enum CellStyle: Sendable { case normal, bold, muted, pass, fail, warn }

    public struct Cell: Sendable, ExpressibleByStringLiteral {
        public var text: String
        public var style: CellStyle
        public init(_ text: String, _ style: CellStyle = .normal) { self.text = text; self.style = style }
        public init(stringLiteral value: String) { self.init(value) }
    }

    public struct Row: Sendable {
        public var cells: [Cell]
        /// A group label spanning the whole row (e.g. "Sex" above "female", "male").
        public var isGroupHeader: Bool
        public init(_ cells: [Cell], isGroupHeader: Bool = false) { self.cells = cells; self.isGroupHeader = isGroupHeader }
        public static func group(_ title: String) -> Row { Row([Cell(title, .bold)], isGroupHeader: true) }
    }

    public var title: String?
    public var columns: [Column]
    public var rows: [Row]
    /// A note printed under the table (sources, abbreviations).
    public var note: String?

    public init(title: String? = nil, columns: [Column], rows: [Row], note: String? = nil) {
        self.title = title; self.columns = columns; self.rows = rows; self.note = note
    }

    /// Checks that every non-group row has one cell per column.
    func validate(id: String) throws {
        guard !columns.isEmpty else { throw ReportsError.invalidInput(what: "table '\(id)'", problem: "no columns") }
        for (i, row) in rows.enumerated() where !row.isGroupHeader && row.cells.count != columns.count {
            throw ReportsError.invalidInput(what: "table '\(id)'",
                problem: "row \(i + 1) has \(row.cells.count) cells for \(columns.count) columns")
        }
    }
}

/// Key/value lines, e.g. the cover's model and cohort description.
public struct FieldList: Sendable {
    public struct Field: Sendable {
        public var key: String
        public var value: String
        public var mono: Bool
        public init(_ key: String, _ value: String, mono: Bool = false) { self.key = key; self.value = value; self.mono = mono }
    }
    public var fields: [Field]
    public init(_ fields: [Field]) { self.fields = fields }
}
