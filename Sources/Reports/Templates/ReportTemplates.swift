import Foundation
internal import Mustache

/// The Mustache templates that give a document its wording and section order.
///
/// Every `*.mustache` file under the folder is loaded and named by its path without the
/// extension (`report/report`, `report/cover`, ...); templates include each other as partials
/// (`{{> report/cover}}`). Values are inserted with markup escaping, so a cohort named
/// `A*B` prints as is; `{{{triple}}}` inserts raw markup.
public struct ReportTemplates: Sendable {
    /// The folder the templates came from.
    public let directory: String
    private let library: MustacheLibrary

    /// Loads every template under `directory`.
    public init(directory: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw ReportsError.templateNotFound(name: "*", searched: [directory])
        }
        ReportTemplates.registerContentType()
        var library = MustacheLibrary()
        let base = URL(fileURLWithPath: directory).resolvingSymlinksInPath().standardizedFileURL.path
        let files = (FileManager.default.enumerator(atPath: base)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".mustache") }.sorted()
        for file in files {
            let path = base + "/" + file
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ReportsError.templateSyntax(file: path, line: 0, column: 0, message: "not readable as UTF-8")
            }
            do {
                let template = try MustacheTemplate(string: "{{% CONTENT_TYPE: MLUNG_MARKUP}}" + text)
                library.register(template, named: String(file.dropLast(".mustache".count)))
            } catch let error as MustacheTemplate.ParserError {
                throw ReportsError.templateSyntax(file: path, line: error.context.lineNumber,
                    column: error.context.columnNumber, message: "\(error.error)")
            }
        }
        self.directory = base
        self.library = library
    }

    /// Finds the template folder: `explicit`, else `$MLUNG_AUDIT_TEMPLATES`, else `./templates`,
    /// else the `templates/` folder of the source tree this binary was built from.
    public static func locate(explicit: String? = nil) throws -> ReportTemplates {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let env = ProcessInfo.processInfo.environment["MLUNG_AUDIT_TEMPLATES"], !env.isEmpty { candidates.append(env) }
        if explicit == nil {
            candidates.append(FileManager.default.currentDirectoryPath + "/templates")
            let source = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("templates").path
            candidates.append(source)
        }
        for c in candidates {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: c + "/report", isDirectory: &isDir), isDir.boolValue {
                return try ReportTemplates(directory: c)
            }
        }
        throw ReportsError.templateNotFound(name: "report/report", searched: candidates)
    }

    /// Renders the template `name` with `values` into report markup.
    public func render(_ name: String, values: TemplateValue) throws -> String {
        guard library.getTemplate(named: name) != nil else {
            throw ReportsError.templateNotFound(name: name, searched: [directory])
        }
        return library.render(values.mustacheValue, withTemplate: name) ?? ""
    }

    private static let registerOnce: Void = {
        MustacheContentTypes.register(MarkupContentType(), named: "MLUNG_MARKUP")
    }()

    static func registerContentType() { _ = registerOnce }
}

/// Mustache content type that escapes inserted values for the report markup.
private struct MarkupContentType: MustacheContentType {
    func escapeText(_ text: String) -> String { MarkupParser.escape(text) }
}
