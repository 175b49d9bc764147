/// What goes into the PDF's information dictionary. Never put a patient identifier here.
public struct DocumentMetadata: Sendable, Equatable {
    public var title: String
    public var author: String
    public var subject: String
    public var keywords: String
    public var creator: String
    /// ISO 8601 date-time, e.g. "2024-05-01T12:00:00Z"; fixed, so two renders are byte-identical.
    public var creationDate: String

    public init(title: String, author: String, subject: String = "", keywords: String = "",
                creator: String = "MLung Audit", creationDate: String) {
        self.title = title; self.author = author; self.subject = subject; self.keywords = keywords
        self.creator = creator; self.creationDate = creationDate
    }
}

/// Everything a template-driven document needs: the values the templates see, and the tables,
/// field lists and figures the rendered markup may name.
public struct ReportContent: Sendable {
    public var metadata: DocumentMetadata
    /// Running header on every page after the first.
    public var runningHeader: String
    /// Right-hand running-header note, e.g. "Identifiers pseudonymised".
    public var runningHeaderNote: String
    /// Left part of the footer; the right part is "Page i of n".
    public var footer: String
    public var values: TemplateValue
    public var tables: [String: ReportTable]
    public var fields: [String: FieldList]
    public var figures: [String: Figure]

    public init(metadata: DocumentMetadata, runningHeader: String, runningHeaderNote: String = "", footer: String,
                values: TemplateValue = .object([:]), tables: [String: ReportTable] = [:],
                fields: [String: FieldList] = [:], figures: [String: Figure] = [:]) {
        self.metadata = metadata; self.runningHeader = runningHeader; self.runningHeaderNote = runningHeaderNote
        self.footer = footer; self.values = values; self.tables = tables; self.fields = fields; self.figures = figures
    }
}
