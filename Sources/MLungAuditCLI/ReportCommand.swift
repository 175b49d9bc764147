import ArgumentParser
import Audit
import Foundation
import Reports
import Yams

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

    @Option(help: ArgumentHelp("A reference run (e.g. the reference scanner's cohort): adds the drift analysis of this run against it.", valueName: "run"))
    var driftReference: Int?

    @Option(help: ArgumentHelp("Drift thresholds (YAML or JSON, as `drift --config`; example: templates/drift.yaml). Needs --drift-reference.", valueName: "file"))
    var driftConfig: String?

    @Option(help: ArgumentHelp("The JSON verdict of `mlung-audit nightly` that judged this run: its gates go on the cover.", valueName: "file"))
    var verdict: String?

    func validate() throws {
        guard AuditStore.Head(rawValue: head) != nil else { throw ValidationError("--head must be learned or nonparametric") }
        guard bootstrap >= 0 && bootstrap <= 1_000_000 else { throw ValidationError("--bootstrap must be between 0 and 1000000") }
        guard baseline != runID else { throw ValidationError("--baseline must name another run than --run") }
        guard driftReference != runID else { throw ValidationError("--drift-reference must name another run than --run") }
        guard driftConfig == nil || driftReference != nil else { throw ValidationError("--drift-config needs --drift-reference RUN") }
    }

    /// The command that renders this report again (the output by file name only, so that the
    /// same options give the same bytes wherever the file is written).
    var reproduction: String {
        var args = ["mlung-audit", "report", "--run", String(runID)]
        if let baseline { args += ["--baseline", String(baseline)] }
        args += ["--db", db, "--head", head]
        if seed != StatisticsOptions.defaultSeed { args += ["--seed", String(seed)] }
        if bootstrap != StatisticsOptions.defaultResamples { args += ["--bootstrap", String(bootstrap)] }
        if let driftReference { args += ["--drift-reference", String(driftReference)] }
        if let driftConfig { args += ["--drift-config", driftConfig] }
        if let verdict { args += ["--verdict", verdict] }
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
                let flags = try flagsSection(store: store, data: data)
                let drift = try driftSection(store: store)
                var gates: [GateResult] = []
                var gateSource: String?
                if let verdict {
                    let file = try NightlyVerdictFile.load(path: verdict)
                    // Identifiers in the gates' details (missed patients) are scrubbed like failure reasons.
                    var ids = Set(data.candidate.patients.map(\.patientID))
                    for c in file.cohorts where try store.run(id: c.run) != nil {
                        for p in (try? store.reportPatients(run: c.run)) ?? [] { ids.insert(p.patientID) }
                    }
                    let folder = URL(fileURLWithPath: data.cohort.manifestPath).deletingLastPathComponent().path
                    // A verdict may have judged a rerun of this run: the same model, cohort and settings.
                    let me = data.candidate.run
                    var equivalent = Set<Int>()
                    for c in file.cohorts {
                        if let r = try store.run(id: c.run), r.id != me.id, r.status == "complete", me.modelID != nil,
                           r.modelID == me.modelID, r.cohortID == me.cohortID, r.settingsJSON == me.settingsJSON {
                            equivalent.insert(r.id)
                        }
                    }
                    gates = try file.gates(run: runID, equivalent: equivalent, modelSHA256: data.candidate.model?.sha256 ?? "",
                                           scrub: { ReportsCLI.scrub($0, policy: policy, patientIDs: Array(ids), cohortFolder: folder) })
                    gateSource = "the nightly verdict \(URL(fileURLWithPath: verdict).lastPathComponent) (\(file.schema), overall \(file.status.uppercased()), MLung Audit \(file.toolVersion ?? "?"))"
                }
                let model = ReportModel(audit: data, policy: policy, reproductionCommand: command, flags: flags, drift: drift,
                                        gates: gates, gateSource: gateSource)
                let doc = try model.render(templates: try ReportTemplates.locate(explicit: templates), policy: policy)
                try doc.write(to: out)
                print("wrote \(out): \(doc.pageCount) pages (run \(runID)\(baseline.map { " vs run \($0)" } ?? ""), "
                      + (showIdentifiers ? "WITH patient identifiers" : "pseudonymised") + ")")
            }
        }
    }
}

extension ReportCommand {
    /// The run's stored flags, or a section saying they are not computed (with the command).
    func flagsSection(store: AuditStore, data: AuditStore.RunReportData) throws -> FlagsSection {
        let command = ["mlung-audit", "flags", "--run", String(runID), "--db", db] + (baseline.map { ["--baseline", String($0)] } ?? [])
        let text = command.map(ShellQuote.quote).joined(separator: " ")
        guard let record = try store.flagRun(runID) else { return .notComputed(command: text) }
        return FlagsSection(record: record, patients: try store.loadFlags(run: runID), predictions: data.candidate.predictions,
                            head: head == "learned" ? "learned patient network" : "non-parametric assessment", command: text)
    }

    /// `DriftAnalyzer` with --drift-reference as the reference and this run as the candidate,
    /// and the per-patient values of the plotted factors (the same cohorts loaded again).
    func driftSection(store: AuditStore) throws -> DriftSection? {
        guard let driftReference else { return nil }
        var settings = DriftConfig()
        if let driftConfig {
            guard let text = try? String(contentsOfFile: driftConfig, encoding: .utf8) else {
                throw IngestError.unreadable(path: driftConfig, reason: "cannot read the drift configuration")
            }
            do {
                settings = try YAMLDecoder().decode(DriftConfig.self, from: text)
            } catch {
                throw IngestError.invalidArgument(reason: "\(driftConfig): invalid drift configuration: \(error)")
            }
        }
        guard try store.run(id: driftReference) != nil else { throw StoreError(path: db, message: "no run \(driftReference) (--drift-reference)") }
        do {
            let report = try DriftAnalyzer.analyze(store: store, reference: driftReference, candidate: runID, config: settings)
            let plotted = DriftAnalysis.plottedFactors(report)
            var loading = settings
            if !DriftAnalysis.needsPixels(plotted) { loading.imageSlicesPerPatient = 0 }
            let reference = try DriftCohort.load(store, run: driftReference, config: loading, seed: settings.seed)
            let candidate = try DriftCohort.load(store, run: runID, config: loading, seed: settings.seed &+ 1)
            return DriftSection(report: report, reference: reference, candidate: candidate, plotted: plotted)
        } catch let e as DriftError {
            throw IngestError.invalidArgument(reason: e.description)
        }
    }
}

/// What the report and gallery commands share.
enum ReportsCLI {
    /// Identifiers removed from a text under `policy` (as the appendix does with failure reasons).
    static func scrub(_ text: String, policy: IdentifierPolicy, patientIDs: [String], cohortFolder: String) -> String {
        guard policy.isPseudonymised else { return text }
        var out = text
        if !cohortFolder.isEmpty && cohortFolder != "/" { out = out.replacingOccurrences(of: cohortFolder, with: "<cohort>") }
        for id in patientIDs.filter({ !$0.isEmpty }).sorted(by: { $0.count > $1.count }) {
            out = out.replacingOccurrences(of: id, with: policy.display(PatientIdentifier(id)))
        }
        return out
    }

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
