import ArgumentParser
import Audit
import Foundation
import Reports

/// `mlung-audit report`: the PDF QA report of a stored run, optionally against a baseline run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render the PDF QA report of a stored run (metrics, ROC, confusion, calibration, subgroups, flips).",
        discussion: """
        Every figure is computed from the run's stored predictions with the statistics of \
        `evaluate` (docs/statistics.md); --baseline adds the comparison with another run of the \
        same cohort. Patients are named by pseudonyms keyed by the store's own secret (made once \
        and kept in the store), and study dates are shifted, unless --show-identifiers is given. \
        The same run and options give a byte-identical PDF. Exit codes: 0 success, 64 bad usage, \
        65 bad input (templates, statistics), 74 store error. See docs/reports.md.
        """
    )

    @Option(name: .customLong("run"), help: ArgumentHelp("The run to report on.", valueName: "run"))
    var runID: Int

    @Option(help: ArgumentHelp("A baseline run on the same cohort to compare with.", valueName: "run"))
    var baseline: Int?

    @Option(help: "The audit store.")
    var db: String = "mlung-audit.sqlite"

    @Option(help: ArgumentHelp("Where to write the PDF.", valueName: "file.pdf"))
    var out: String

    @Flag(help: "Print real patient ids and study dates instead of pseudonyms (the PDF is then a clinical record).")
    var showIdentifiers = false

    @Option(help: ArgumentHelp("Template folder holding report/ and gallery/ (default: $MLUNG_AUDIT_TEMPLATES, ./templates).", valueName: "dir"))
    var templates: String?

    @Option(help: "The patient head judged: learned or nonparametric.")
    var head: String = "learned"

    @Option(help: "Seed of the bootstrap generator.")
    var seed: UInt64 = StatisticsOptions.defaultSeed

    @Option(help: ArgumentHelp("Bootstrap resamples (0: no bootstrap).", valueName: "n"))
    var bootstrap: Int = StatisticsOptions.defaultResamples

    func validate() throws {
        guard AuditStore.Head(rawValue: head) != nil else { throw ValidationError("--head must be learned or nonparametric") }
        guard bootstrap >= 0 && bootstrap <= 1_000_000 else { throw ValidationError("--bootstrap must be between 0 and 1000000") }
        guard baseline != runID else { throw ValidationError("--baseline must name another run than --run") }
    }

    /// The command that renders this report again (the output by file name only, so that the
    /// same options give the same bytes wherever the file is written).
    var reproduction: String {
        var args = ["mlung-audit", "report", "--run", String(runID)]
        if let baseline { args += ["--baseline", String(baseline)] }
        args += ["--db", db, "--head", head]
        if seed != StatisticsOptions.defaultSeed { args += ["--seed", String(seed)] }
        if bootstrap != StatisticsOptions.defaultResamples { args += ["--bootstrap", String(bootstrap)] }
        if showIdentifiers { args.append("--show-identifiers") }
        args += ["--out", URL(fileURLWithPath: out).lastPathComponent]
        return args.map(ShellQuote.quote).joined(separator: " ")
    }

    func run() throws {
        try CLIError.reporting {
            try ReportsCLI.reporting {
                let store = try ReportsCLI.openStore(db)
                let data = try store.reportData(run: runID, baseline: baseline, head: AuditStore.Head(rawValue: head) ?? .learned,
                                                options: StatisticsOptions(seed: seed, resamples: bootstrap))
                let policy = try ReportsCLI.policy(store: store, showIdentifiers: showIdentifiers)
                var command = ReportsCLI.runCommand(data.candidate, store: db, manifest: data.cohort.manifestPath)
                if let b = data.baseline { command += "\n" + ReportsCLI.runCommand(b, store: db, manifest: data.cohort.manifestPath) }
                command += "\n" + reproduction
                let model = ReportModel(audit: data, policy: policy, reproductionCommand: command)
                let doc = try model.render(templates: try ReportTemplates.locate(explicit: templates), policy: policy)
                try doc.write(to: out)
                print("wrote \(out): \(doc.pageCount) pages (run \(runID)\(baseline.map { " vs run \($0)" } ?? ""), "
                      + (showIdentifiers ? "WITH patient identifiers" : "pseudonymised") + ")")
            }
        }
    }
}

/// What the report and gallery commands share.
enum ReportsCLI {
    static func openStore(_ db: String) throws -> AuditStore {
        guard FileManager.default.fileExists(atPath: db) else { throw StoreError(path: db, message: "no such audit store") }
        return try AuditStore(path: db)
    }

    /// Pseudonyms keyed by the store's secret, or real identifiers.
    static func policy(store: AuditStore, showIdentifiers: Bool) throws -> IdentifierPolicy {
        showIdentifiers ? .shown : .pseudonymised(try Pseudonymizer(secret: try store.reportSecret()))
    }

    /// The `mlung-audit run` command that made a run (an imported run: `import-predictions`).
    static func runCommand(_ r: AuditStore.ReportRun, store: String, manifest: String) -> String {
        let args: [String]
        if let path = r.modelPath, r.run.kind == "inference" {
            args = ["mlung-audit", "run", "--cohort", manifest, "--model", path, "--db", store, "--label", r.run.label]
        } else {
            args = ["mlung-audit", "import-predictions", "--cohort", manifest, "--label", r.run.label, "--db", store]
        }
        return args.map(ShellQuote.quote).joined(separator: " ")
    }

    /// Runs `body`; report-specific errors become one line on stderr and their exit code.
    static func reporting(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as StatisticsError {
            throw CLIError.fail(e.description, ExitCodes.badInput)
        } catch let e as ReportsError {
            switch e {
            case .write: throw CLIError.fail(e.description, ExitCodes.internalError)
            default: throw CLIError.fail(e.description, ExitCodes.badInput)
            }
        }
    }
}

/// POSIX shell quoting for printed commands.
enum ShellQuote {
    static func quote(_ s: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !s.isEmpty && s.unicodeScalars.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
