import Foundation

/// The standalone predictions CSV: one row per patient.
///
/// Columns (header row required; names case-insensitive, any order):
/// - `patient_id` (required, unique, non-empty);
/// - `label` (optional column): `healthy`, `covid19`, `h1n1`, `cap` (any case), or empty when
///   unknown (unlabelled patients are left out of the metrics, with a note);
/// - `p_healthy`, `p_covid19`, `p_h1n1`, `p_cap` (required): finite numbers in [0, 1] whose
///   sum is within `PredictionSet.probabilitySumTolerance` of 1;
/// - any other column (site, scanner, sex, age, ...) is metadata for subgroups.
///
/// RFC 4180 quoting (double quotes, `""` inside, line breaks inside quotes), a UTF-8 byte
/// order mark and CRLF line ends are accepted; blank lines are ignored. Errors name the file,
/// the line where the record starts (1-based) and the column.
extension PredictionSet {
    /// The allowed distance of a row's probability sum from 1.
    public static let probabilitySumTolerance = 1e-3
    /// The probability columns, in `Diagnosis` order.
    public static let probabilityColumns = Diagnosis.allCases.map { "p_\($0.name)" }
    public static let requiredColumns = ["patient_id"] + probabilityColumns
    public static let knownColumns = ["patient_id", "label"] + probabilityColumns

    /// Reads a predictions CSV file.
    public init(contentsOfCSV path: String) throws {
        try self.init(csv: try CSVRecords.readText(path), path: path)
    }

    /// Parses predictions CSV text; `path` names the source in errors.
    public init(csv text: String, path: String) throws {
        let records = try CSVRecords.parse(text, path: path)
        guard let header = records.first else {
            throw StatisticsError.malformedCSV(path: path, line: 1, column: nil,
                                               reason: "empty file: expected a header row with \(Self.requiredColumns.joined(separator: ","))")
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() {
            if n.isEmpty {
                throw StatisticsError.malformedCSV(path: path, line: header.line, column: "#\(i + 1)", reason: "empty column name in the header")
            }
            if index[n] != nil {
                throw StatisticsError.malformedCSV(path: path, line: header.line, column: n, reason: "duplicate column name")
            }
            index[n] = i
        }
        for required in Self.requiredColumns where index[required] == nil {
            throw StatisticsError.malformedCSV(path: path, line: header.line, column: required,
                                               reason: "missing required column (header is: \(names.joined(separator: ",")))")
        }
        let metadataColumns = names.filter { !Self.knownColumns.contains($0) }
        var patients: [PatientPrediction] = []
        var firstLine: [String: Int] = [:]
        for record in records.dropFirst() {
            let fields = record.fields, line = record.line
            if fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard fields.count == names.count else {
                let column = fields.count < names.count ? names[fields.count] : "#\(names.count + 1)"
                throw StatisticsError.malformedCSV(path: path, line: line, column: column,
                                                   reason: "\(fields.count) fields, the header has \(names.count)")
            }
            func value(_ name: String) -> String? {
                index[name].map { fields[$0].trimmingCharacters(in: .whitespaces) }
            }
            let patient = value("patient_id")!
            if patient.isEmpty {
                throw StatisticsError.malformedCSV(path: path, line: line, column: "patient_id", reason: "empty patient id")
            }
            if let first = firstLine[patient] {
                throw StatisticsError.malformedCSV(path: path, line: line, column: "patient_id",
                                                   reason: "duplicate patient id '\(patient)' (first on line \(first))")
            }
            firstLine[patient] = line
            var label: Diagnosis? = nil
            if let l = value("label"), !l.isEmpty {
                guard let d = Diagnosis(name: l) else {
                    throw StatisticsError.malformedCSV(path: path, line: line, column: "label",
                                                       reason: "unknown label '\(l)' (expected healthy, covid19, h1n1, cap or empty)")
                }
                label = d
            }
            var probabilities: [Double] = []
            for column in Self.probabilityColumns {
                let text = value(column)!
                guard let p = Double(text), p.isFinite else {
                    throw StatisticsError.malformedCSV(path: path, line: line, column: column,
                                                       reason: text.isEmpty ? "missing probability" : "'\(text)' is not a finite number")
                }
                guard p >= 0 && p <= 1 else {
                    throw StatisticsError.malformedCSV(path: path, line: line, column: column, reason: "probability \(text) is outside [0, 1]")
                }
                probabilities.append(p)
            }
            let sum = probabilities.reduce(0, +)
            guard abs(sum - 1) <= Self.probabilitySumTolerance else {
                throw StatisticsError.malformedCSV(path: path, line: line, column: Self.probabilityColumns.joined(separator: "+"),
                                                   reason: "probabilities sum to \(sum), not 1 (tolerance \(Self.probabilitySumTolerance))")
            }
            var metadata: [String: String] = [:]
            for name in metadataColumns { metadata[name] = value(name) }
            patients.append(PatientPrediction(patientID: patient, label: label, probabilities: probabilities, metadata: metadata))
        }
        if patients.isEmpty {
            throw StatisticsError.malformedCSV(path: path, line: header.line, column: nil, reason: "no patient rows after the header")
        }
        self.init(source: path, metadataColumns: metadataColumns, patients: patients)
    }
}

/// RFC 4180 records with the line each starts on.
enum CSVRecords {
    /// The UTF-8 text of a CSV file, or the statistics' errors naming it.
    static func readText(_ path: String) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw StatisticsError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw StatisticsError.malformedCSV(path: path, line: 1, column: nil, reason: "not UTF-8 text")
        }
        return text
    }

    struct Record {
        var line: Int
        var fields: [String]
    }

    static func parse(_ text: String, path: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var line = 1, recordLine = 1
        var inQuotes = false, wasQuoted = false, afterQuote = false
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            wasQuoted = false
            afterQuote = false
        }
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == quote {
                    if i + 1 < bytes.count && bytes[i + 1] == quote { field.append(quote); i += 1 }
                    else { inQuotes = false; afterQuote = true }
                } else {
                    if c == lf { line += 1 }
                    field.append(c)
                }
            } else if c == comma {
                endField()
            } else if c == lf || c == cr {
                if c == cr && i + 1 < bytes.count && bytes[i + 1] == lf { i += 1 }
                endField()
                records.append(Record(line: recordLine, fields: fields))
                fields = []
                line += 1
                recordLine = line
            } else if c == quote {
                if wasQuoted || field.contains(where: { $0 != space && $0 != tab }) {
                    throw StatisticsError.malformedCSV(path: path, line: line, column: "#\(fields.count + 1)",
                                                       reason: "stray double quote inside an unquoted field (quote the whole field and double the quote)")
                }
                field.removeAll()
                inQuotes = true
                wasQuoted = true
            } else {
                if afterQuote && c != space && c != tab {
                    throw StatisticsError.malformedCSV(path: path, line: line, column: "#\(fields.count + 1)", reason: "text after a closing quote")
                }
                if !afterQuote { field.append(c) }
            }
            i += 1
        }
        if inQuotes {
            throw StatisticsError.malformedCSV(path: path, line: recordLine, column: "#\(fields.count + 1)", reason: "unterminated quoted field")
        }
        if !field.isEmpty || !fields.isEmpty || wasQuoted {
            endField()
            records.append(Record(line: recordLine, fields: fields))
        }
        return records
    }
}
