import ArgumentParser
import Audit
import Foundation

/// `mlung-audit runs`: the runs in an audit store.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the runs in an audit store.")

    @Option(help: "The audit store.")
    var db: String = "mlung-audit.sqlite"

    @Flag(help: "JSON output.")
    var json = false

    func run() throws {
        try CLIError.reporting {
            guard FileManager.default.fileExists(atPath: db) else { throw StoreError(path: db, message: "no such audit store") }
            let store = try AuditStore(path: db)
            let runs = try store.runs()
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try e.encode(runs), as: UTF8.self))
                return
            }
            print("id  kind       status    label            started                   model  cohort")
            for r in runs {
                print(String(format: "%-3d %-10@ %-9@ %-16@ %-25@ %-6@ %d", r.id, r.kind as NSString, r.status as NSString,
                             r.label as NSString, r.startedAt as NSString, (r.modelID.map(String.init) ?? "-") as NSString, r.cohortID))
            }
        }
    }
}

/// `mlung-audit export`: one run as JSON.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export one run (its patients, slices and stored failure-mode flags) as JSON.")

    @Option(name: .customLong("run"), help: "The run id.")
    var runID: Int

    @Option(help: "The audit store.")
    var db: String = "mlung-audit.sqlite"

    @Flag(help: "Include the per-slice outputs.")
    var slices = false

    @Flag(help: "JSON output (the only format; accepted for symmetry with other commands).")
    var json = false

    func run() throws {
        try CLIError.reporting {
            guard FileManager.default.fileExists(atPath: db) else { throw StoreError(path: db, message: "no such audit store") }
            let export = try AuditStore(path: db).export(run: runID, slices: slices)
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try e.encode(export), as: UTF8.self))
        }
    }
}

/// `mlung-audit import-predictions`: a deployment log recorded as a run of its own.
struct ImportPredictionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-predictions",
        abstract: "Record a production system's logged predictions as a run, to compare reruns with what was deployed.",
        discussion: "The CSV has a header with patient_id and p_healthy,p_covid19,p_h1n1,p_cap (other columns are ignored).")

    @Option(help: "The cohort manifest the patients belong to.")
    var cohort: String

    @Option(help: "The deployment log CSV.")
    var csv: String

    @Option(help: "A name for the imported run.")
    var label: String

    @Option(help: "The audit store.")
    var db: String = "mlung-audit.sqlite"

    func run() throws {
        try CLIError.reporting {
            let manifest = try CohortManifest(contentsOf: cohort)
            guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
                throw IngestError.unreadable(path: csv, reason: "cannot read the file as UTF-8 text")
            }
            var lines = text.split(whereSeparator: \.isNewline).map(String.init)
            guard !lines.isEmpty else { throw IngestError.manifest(path: csv, line: 1, column: nil, reason: "empty file") }
            let header = lines.removeFirst().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            let needed = ["patient_id", "p_healthy", "p_covid19", "p_h1n1", "p_cap"]
            var index: [String: Int] = [:]
            for name in needed {
                guard let i = header.firstIndex(of: name) else {
                    throw IngestError.manifest(path: csv, line: 1, column: name, reason: "missing column")
                }
                index[name] = i
            }
            var rows: [(patientID: String, probs: [Double])] = []
            for (n, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard fields.count == header.count else {
                    throw IngestError.manifest(path: csv, line: n + 2, column: nil, reason: "\(fields.count) fields, the header has \(header.count)")
                }
                var probs: [Double] = []
                for name in needed.dropFirst() {
                    guard let v = Double(fields[index[name]!]), v.isFinite, v >= 0, v <= 1 else {
                        throw IngestError.manifest(path: csv, line: n + 2, column: name, reason: "not a probability: '\(fields[index[name]!])'")
                    }
                    probs.append(v)
                }
                guard abs(probs.reduce(0, +) - 1) <= 1e-3 else {
                    throw IngestError.manifest(path: csv, line: n + 2, column: nil, reason: "probabilities sum to \(probs.reduce(0, +)), not 1")
                }
                rows.append((fields[index["patient_id"]!], probs))
            }
            let store = try AuditStore(path: db)
            let cohortID = try store.registerCohort(manifest)
            let runID = try store.importPredictions(cohortID: cohortID, label: label, rows: rows, source: csv)
            print("run \(runID): imported \(rows.count) patients from \(csv)")
        }
    }
}
