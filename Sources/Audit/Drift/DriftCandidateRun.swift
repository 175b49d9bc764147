import Foundation
import Model

/// The candidate side of `mlung-audit drift --candidate-manifest M --model W`: the model's
/// run on the new cohort, through the audit-run machinery (`AuditRunner`).
///
/// Like `mlung-audit run`, an unfinished run of the same model, manifest, label and settings
/// is resumed. Unlike `run`, a *finished* one is reused as it is (no new run): checking drift
/// again on the same cohort costs no inference.
public enum DriftCandidateRun {
    public struct Outcome: Sendable {
        public var runID: Int
        /// True when a finished run was reused without running anything.
        public var reused: Bool
        /// The run's failed patients with their reasons (left out of the drift analysis).
        public var failures: [String: String]
        /// The runner's summary when it ran (nil when reused).
        public var summary: RunSummary?
    }

    /// The newest finished inference run of `runner`'s model, manifest, label and settings.
    public static func finishedRun(_ runner: AuditRunner) throws -> AuditStore.RunRecord? {
        let store = runner.store
        let modelID = try store.registerModel(runner.engine.weights)
        let cohortID = try store.registerCohort(runner.manifest)
        guard let r = try store.latestRun(kind: "inference", modelID: modelID, cohortID: cohortID, label: runner.label,
                                          settingsJSON: AuditStore.json(runner.settings)), r.status == "complete" else { return nil }
        return r
    }

    /// Reuses the finished run or runs (resuming an unfinished one).
    public static func runOrReuse(_ runner: AuditRunner, progress: @escaping (RunEvent) -> Void = { _ in }) throws -> Outcome {
        if let r = try finishedRun(runner) {
            let rows = try runner.store.db.query("SELECT patient_id, error FROM patient_results WHERE run_id = ? AND status = 'failed'", [r.id])
            var failures: [String: String] = [:]
            for row in rows { failures[row[0].string ?? ""] = row[1].string ?? "" }
            return Outcome(runID: r.id, reused: true, failures: failures, summary: nil)
        }
        let summary = try runner.run(progress: progress)
        return Outcome(runID: summary.runID, reused: false, failures: summary.failures, summary: summary)
    }
}
