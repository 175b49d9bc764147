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
        /// Slice labels (CSV, as `evaluate --slice-labels` reads it): adds the slice figures to
        /// the verdict and lets `slice.*` gates be judged.
        public var sliceLabels: String?

        enum CodingKeys: String, CodingKey {
            case name, manifest, head
            case baselineRun = "baseline_run", deploymentLog = "deployment_log", sliceLabels = "slice_labels"
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
            cohorts[i].sliceLabels = cohorts[i].sliceLabels.map(resolve)
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
        /// Every patient figure of the candidate with its intervals, by metric name.
        public var metrics: [String: MetricSummary] = [:]
        /// One entry per configured subgroup split (`statistics.subgroups`).
        public var subgroups: [SubgroupSummary] = []
        /// The slice figures, when the cohort names its `slice_labels`.
        public var slices: SliceSummary?

        enum CodingKeys: String, CodingKey {
            case name, run, baselineRun, failedPatients, gates, accuracy, metrics, subgroups, slices
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(run, forKey: .run)
            try c.encodeIfPresent(baselineRun, forKey: .baselineRun)
            try c.encode(failedPatients, forKey: .failedPatients)
            try c.encode(gates, forKey: .gates)
            try c.encodeIfPresent(accuracy, forKey: .accuracy)
            try c.encode(metrics, forKey: .metrics)
            try c.encode(subgroups, forKey: .subgroups)
            try c.encode(slices, forKey: .slices)
        }
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
        let specs = try (config.statistics?.subgroups ?? []).map { try SubgroupSpec(parsing: $0) }
        // Check every input before the long runs.
        var manifests: [CohortManifest] = []
        var sliceLabels: [SliceLabelSet?] = []
        for c in config.cohorts {
            let manifest = try CohortManifest(contentsOf: c.manifest)
            for spec in specs where !manifest.metadataColumns.contains(spec.column) {
                let available = manifest.metadataColumns.isEmpty ? "none" : manifest.metadataColumns.joined(separator: ", ")
                throw StatisticsError.invalidSubgroup(spec: spec.description,
                                                      reason: "\(c.manifest) has no column '\(spec.column)' (metadata columns: \(available))")
            }
            manifests.append(manifest)
            sliceLabels.append(try c.sliceLabels.map { try SliceLabelSet(contentsOfCSV: $0) })
        }
        var cohorts: [NightlyVerdict.CohortVerdict] = []
        for (k, c) in config.cohorts.enumerated() {
            let manifest = manifests[k]
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
            var slices: SliceEvaluation?
            if let labels = sliceLabels[k] {
                let joined = try SliceJoin.join(labels, outputs: try store.sliceOutputs(run: summary.runID)) {
                    try store.instanceNumbers(run: summary.runID, patientID: $0)
                }
                slices = try SliceEvaluator.evaluate(joined.slices, source: "\(store.path)#run\(summary.runID)", labels: labels.path,
                                                     join: labels.keyColumn, notes: joined.notes, options: options)
            }
            let subgroups = try Evaluator.subgroups(candidate, by: specs, options: options)
            let gates = RegressionGate.judge(config.gates, candidate: evaluation, comparison: comparison, deployment: deployment,
                                             slices: slices)
            cohorts.append(.init(name: c.name, run: summary.runID, baselineRun: baselineID, failedPatients: summary.failures,
                                 gates: gates, accuracy: evaluation.value(.accuracy), metrics: evaluation.metricSummaries,
                                 subgroups: subgroups.map(SubgroupSummary.init), slices: slices.map(SliceSummary.init)))
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
