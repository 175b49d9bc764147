import Foundation

/// The cohort manifest: a CSV the user writes, one row per patient.
///
/// Columns (header row required, names case-insensitive, any order):
/// - `patient_id` (required, unique, non-empty);
/// - `path` (required): a directory of DICOM files, one DICOM file, or a `.txt`/`.lst`
///   file listing DICOM files or directories one per line (`#` comments allowed); relative
///   paths are relative to the manifest's directory (in a list: to the list's directory);
/// - `series_uid` (optional): the SeriesInstanceUID to use, overriding the selection rule;
/// - `label` (optional): `healthy`, `covid19`, `h1n1`, `cap` (any case), or empty when unknown;
/// - any other column (site, scanner, sex, age, ...) is kept as metadata for subgroups.
///
/// RFC 4180 quoting: fields may be enclosed in double quotes, with `""` for a quote and line
/// breaks inside. A UTF-8 byte order mark and CRLF line ends are accepted; blank lines are
/// ignored. Errors name the line (1-based, where the record starts) and the column.
public struct CohortManifest: Sendable, Equatable {
    /// The ground-truth classes, in the model's class order.
    public static let labels = ["healthy", "covid19", "h1n1", "cap"]
    public static let requiredColumns = ["patient_id", "path"]
    public static let knownColumns = ["patient_id", "path", "series_uid", "label"]

    public struct Entry: Sendable, Equatable {
        public var patientID: String
        /// The `path` value as written.
        public var rawPath: String
        /// The DICOM files or directories to scan, absolute.
        public var paths: [String]
        public var seriesUID: String?
        /// Index into `CohortManifest.labels`, nil when unknown.
        public var label: Int?
        public var labelName: String? { label.map { CohortManifest.labels[$0] } }
        /// The extra columns, by header name.
        public var metadata: [String: String]
        /// Line of the manifest where the row starts.
        public var line: Int
    }

    public var path: String
    /// Extra column names, in file order.
    public var metadataColumns: [String]
    public var entries: [Entry]

    /// Reads and validates a manifest. With `checkPaths`, every path must exist.
    public init(contentsOf path: String, checkPaths: Bool = true) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw IngestError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw IngestError.manifest(path: path, line: 1, column: nil, reason: "not UTF-8 text")
        }
        try self.init(text: text, path: path, checkPaths: checkPaths)
    }

    /// Parses manifest text; `path` locates relative paths and names the file in errors.
    public init(text: String, path: String, checkPaths: Bool = true) throws {
        self.path = path
        let records = try Self.parseCSV(text, path: path)
        guard let (headerLine, header) = records.first else {
            throw IngestError.manifest(path: path, line: 1, column: nil, reason: "empty manifest: expected a header row with patient_id,path,series_uid,label")
        }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var seenNames: [String: Int] = [:]
        for (i, n) in names.enumerated() {
            if n.isEmpty { throw IngestError.manifest(path: path, line: headerLine, column: "#\(i + 1)", reason: "empty column name in the header") }
            if seenNames[n] != nil { throw IngestError.manifest(path: path, line: headerLine, column: n, reason: "duplicate column name") }
            seenNames[n] = i
        }
        for required in Self.requiredColumns where seenNames[required] == nil {
            throw IngestError.manifest(path: path, line: headerLine, column: required,
                                       reason: "missing required column (header is: \(names.joined(separator: ",")))")
        }
        metadataColumns = names.filter { !Self.knownColumns.contains($0) }
        let base = (path as NSString).deletingLastPathComponent
        var entries: [Entry] = []
        var firstLine: [String: Int] = [:]
        for (line, fields) in records.dropFirst() {
            if fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard fields.count == names.count else {
                throw IngestError.manifest(path: path, line: line, column: nil,
                                           reason: "\(fields.count) fields, the header has \(names.count)")
            }
            func value(_ name: String) -> String? {
                seenNames[name].map { fields[$0].trimmingCharacters(in: .whitespaces) }
            }
            let patient = value("patient_id")!
            if patient.isEmpty { throw IngestError.manifest(path: path, line: line, column: "patient_id", reason: "empty patient id") }
            if let first = firstLine[patient] {
                throw IngestError.manifest(path: path, line: line, column: "patient_id", reason: "duplicate patient id '\(patient)' (first on line \(first))")
            }
            firstLine[patient] = line
            let rawPath = value("path")!
            if rawPath.isEmpty { throw IngestError.manifest(path: path, line: line, column: "path", reason: "empty path") }
            let resolved = Self.resolve(rawPath, base: base)
            var paths = [resolved]
            if checkPaths {
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDir) else {
                    throw IngestError.manifest(path: path, line: line, column: "path", reason: "'\(rawPath)' does not exist (resolved to \(resolved))")
                }
                let ext = (resolved as NSString).pathExtension.lowercased()
                if !isDir.boolValue && (ext == "txt" || ext == "lst") {
                    paths = try Self.readList(resolved, manifest: path, line: line)
                }
            }
            var seriesUID: String? = nil
            if let uid = value("series_uid"), !uid.isEmpty {
                guard uid.count <= 64, uid.allSatisfy({ $0.isNumber || $0 == "." }), !uid.hasPrefix("."), !uid.hasSuffix(".") else {
                    throw IngestError.manifest(path: path, line: line, column: "series_uid", reason: "'\(uid)' is not a DICOM UID (digits and dots, at most 64 characters)")
                }
                seriesUID = uid
            }
            var label: Int? = nil
            if let l = value("label"), !l.isEmpty {
                guard let i = Self.labels.firstIndex(of: l.lowercased()) else {
                    throw IngestError.manifest(path: path, line: line, column: "label",
                                               reason: "unknown label '\(l)' (expected \(Self.labels.joined(separator: ", ")) or empty)")
                }
                label = i
            }
            var metadata: [String: String] = [:]
            for name in metadataColumns { metadata[name] = value(name) }
            entries.append(Entry(patientID: patient, rawPath: rawPath, paths: paths, seriesUID: seriesUID, label: label,
                                 metadata: metadata, line: line))
        }
        self.entries = entries
    }

    static func resolve(_ p: String, base: String) -> String {
        let expanded = (p as NSString).expandingTildeInPath
        let full = expanded.hasPrefix("/") ? expanded : (base.isEmpty ? expanded : base + "/" + expanded)
        return (full as NSString).standardizingPath
    }

    static func readList(_ list: String, manifest: String, line: Int) throws -> [String] {
        guard let text = try? String(contentsOfFile: list, encoding: .utf8) else {
            throw IngestError.manifest(path: manifest, line: line, column: "path", reason: "cannot read file list \(list)")
        }
        let base = (list as NSString).deletingLastPathComponent
        var out: [String] = []
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let entry = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if entry.isEmpty || entry.hasPrefix("#") { continue }
            let p = resolve(entry, base: base)
            guard FileManager.default.fileExists(atPath: p) else {
                throw IngestError.manifest(path: manifest, line: line, column: "path", reason: "\(list):\(i + 1): '\(entry)' does not exist")
            }
            out.append(p)
        }
        if out.isEmpty { throw IngestError.manifest(path: manifest, line: line, column: "path", reason: "file list \(list) is empty") }
        return out
    }

    /// RFC 4180 records with the line each starts on.
    static func parseCSV(_ text: String, path: String) throws -> [(Int, [String])] {
        var records: [(Int, [String])] = []
        var fields: [String] = []
        var field = ""
        var line = 1, recordLine = 1
        var inQuotes = false, wasQuoted = false, afterQuote = false
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var i = 0
        func endField() {
            fields.append(field)
            field = ""
            wasQuoted = false
            afterQuote = false
        }
        while i < scalars.count {
            let c = scalars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < scalars.count && scalars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 }
                    else { inQuotes = false; afterQuote = true }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "," {
                endField()
            } else if c == "\n" || c == "\r" {
                if c == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n" { i += 1 }
                endField()
                records.append((recordLine, fields))
                fields = []
                line += 1
                recordLine = line
            } else if c == "\"" {
                if wasQuoted || !field.trimmingCharacters(in: .whitespaces).isEmpty {
                    throw IngestError.manifest(path: path, line: line, column: "#\(fields.count + 1)", reason: "stray double quote inside an unquoted field (quote the whole field and double the quote)")
                }
                field = ""
                inQuotes = true
                wasQuoted = true
            } else {
                if afterQuote && c != " " && c != "\t" {
                    throw IngestError.manifest(path: path, line: line, column: "#\(fields.count + 1)", reason: "text after a closing quote")
                }
                if !afterQuote { field.unicodeScalars.append(c) }
            }
            i += 1
        }
        if inQuotes { throw IngestError.manifest(path: path, line: recordLine, column: "#\(fields.count + 1)", reason: "unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted {
            endField()
            records.append((recordLine, fields))
        }
        return records
    }
}
