import Foundation
import Model

/// The nightly regression audit's configuration (`templates/nightly.yaml`).
public struct NightlyConfig: Decodable, Sendable {
    public struct Cohort: Decodable, Sendable {
        public var name: String
        public var manifest: String
        /// A stored run id, or `latest`: the newest complete inference run of this cohort made
        /// before tonight's run.
        public var baselineRun: String?
        /// A deployment log (predictions CSV) that tonight's rerun must reproduce.
        public var deploymentLog: String?
        /// `learned` (default) or `nonparametric`.
        public var head: String?

        enum CodingKeys: String, CodingKey {
            case name, manifest, head
            case baselineRun = "baseline_run", deploymentLog = "deployment_log"
        }
    }

    public struct Statistics: Decodable, Sendable {
        public var seed: UInt64?
        public var bootstrap: Int?
        public var subgroups: [String]?
    }

    public var model: String
    public var store: String
    public var cohorts: [Cohort]
    public var statistics: Statistics?
    public var verdict: String?
    public var gates: [GateRule]
    /// Engine settings (optional).
    public var threads: Int?
    public var batch: Int?

    /// Relative paths are relative to the configuration file's folder.
    public mutating func resolvePaths(relativeTo file: String) {
        let base = URL(fileURLWithPath: file).deletingLastPathComponent()
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path }
        model = resolve(model)
        store = resolve(store)
        verdict = verdict.map(resolve)
        for i in cohorts.indices {
            cohorts[i].manifest = resolve(cohorts[i].manifest)
            cohorts[i].deploymentLog = cohorts[i].deploymentLog.map(resolve)
        }
    }
}

/// The machine-readable outcome of a nightly audit (written as JSON).
public struct NightlyVerdict: Encodable, Sendable {
    public struct CohortVerdict: Encodable, Sendable {
        public var name: String
        public var run: Int
        public var baselineRun: Int?
        public var failedPatients: [String: String]
        public var gates: GateVerdict
        public var accuracy: Double?
    }
    public var schema = "mlung-audit/nightly/1"
    public var status: GateOutcome.Status
    public var model: String
    public var modelSHA256: String
    public var toolVersion = AuditLibrary.toolVersion
    public var cohorts: [CohortVerdict]
}

/// Runs the candidate model on each configured cohort, compares with the baseline run and the
/// deployment log, and judges the gates.
public enum NightlyAudit {
    public static func run(_ config: NightlyConfig, log: @escaping (String) -> Void = { _ in }) throws -> NightlyVerdict {
        let engine = try MLungSys(contentsOf: URL(fileURLWithPath: config.model))
        let store = try AuditStore(path: config.store)
        let options = StatisticsOptions(seed: config.statistics?.seed ?? StatisticsOptions.defaultSeed,
                                        resamples: config.statistics?.bootstrap ?? StatisticsOptions.defaultResamples)
        var cohorts: [NightlyVerdict.CohortVerdict] = []
        for c in config.cohorts {
            let manifest = try CohortManifest(contentsOf: c.manifest)
            let runner = AuditRunner(store: store, engine: engine, manifest: manifest,
                                     options: EngineOptions(threads: config.threads ?? 2, batch: config.batch ?? 8), label: "nightly")
            let summary = try runner.run { event in
                if case let .patientDone(id, ok, _, _, message) = event, !ok { log("\(c.name): \(id) failed: \(message ?? "")") }
            }
            log("\(c.name): run \(summary.runID), \(summary.succeeded) ok, \(summary.failed) failed")
            let head = AuditStore.Head(rawValue: c.head ?? "learned") ?? .learned
            let candidate = try store.predictionSet(run: summary.runID, head: head)
            let evaluation = try Evaluator.evaluate(candidate, options: options)
            let baselineID = try baselineRun(c, store: store, cohortID: try store.registerCohort(manifest), tonight: summary.runID)
            var comparison: Comparison?
            if let baselineID {
                let kind = try store.run(id: baselineID)?.kind
                let baseline = try store.predictionSet(run: baselineID, head: kind == "imported" ? .learned : head)
                comparison = try Comparator.compare(baseline: baseline, candidate: candidate, options: options)
            }
            var deployment: Agreement?
            if let log = c.deploymentLog {
                let deployed = try PredictionSet(contentsOfCSV: log)
                deployment = try Comparator.compare(baseline: deployed, candidate: candidate,
                                                    options: StatisticsOptions(seed: options.seed, resamples: 0)).agreement
            }
            let gates = RegressionGate.judge(config.gates, candidate: evaluation, comparison: comparison, deployment: deployment)
            cohorts.append(.init(name: c.name, run: summary.runID, baselineRun: baselineID, failedPatients: summary.failures,
                                 gates: gates, accuracy: evaluation.value(.accuracy)))
        }
        let status: GateOutcome.Status = cohorts.contains { $0.gates.status == .fail } ? .fail
            : cohorts.contains { $0.gates.status == .error } ? .error : .pass
        return NightlyVerdict(status: status, model: config.model, modelSHA256: engine.weights.fileSHA256, cohorts: cohorts)
    }

    static func baselineRun(_ c: NightlyConfig.Cohort, store: AuditStore, cohortID: Int, tonight: Int) throws -> Int? {
        guard let spec = c.baselineRun, !spec.isEmpty else { return nil }
        if spec == "latest" {
            return try store.runs().filter { $0.cohortID == cohortID && $0.kind == "inference" && $0.status == "complete" && $0.id < tonight }
                .last?.id
        }
        guard let id = Int(spec), try store.run(id: id) != nil else {
            throw StoreError(path: store.path, message: "cohort \(c.name): baseline_run '\(spec)' is not a stored run id or 'latest'")
        }
        return id
    }
}
