import Foundation

/// A run's patient-level predictions as a `PredictionSet`, for the statistics.
extension AuditStore {
    /// Which patient head's probabilities to judge.
    public enum Head: String, Sendable, CaseIterable {
        /// The learned patient network (softmax of its logits).
        case learned
        /// The non-parametric assessment's scores `s0..s3`.
        case nonParametric = "nonparametric"
    }

    /// The run's successful patients with their ground truth (from the cohort manifest) and
    /// manifest metadata. Failed patients are left out (they are listed by `failedPatients`).
    public func predictionSet(run id: Int, head: Head = .learned) throws -> PredictionSet {
        guard let run = try run(id: id) else { throw StoreError(path: path, message: "no run \(id)") }
        if head == .nonParametric && run.kind == "imported" {
            throw StoreError(path: path, message: "run \(id) is an imported deployment log: it has no non-parametric head")
        }
        let columns = head == .learned ? "p0, p1, p2, p3" : "np0, np1, np2, np3"
        var probs: [String: [Double]] = [:]
        for r in try db.query("SELECT patient_id, \(columns) FROM patient_results WHERE run_id = ? AND status = 'ok'", [id]) {
            probs[r[0].string ?? ""] = (1...4).map { r[$0].double ?? 0 }
        }
        let metadataColumns = (try db.scalar("SELECT metadata_columns_json FROM cohorts WHERE id = ?", [run.cohortID])?.string)
            .flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        var patients: [PatientPrediction] = []
        for (pid, label, meta) in try cohortPatients(run.cohortID) {
            guard let p = probs[pid] else { continue }
            patients.append(PatientPrediction(patientID: pid, label: label.flatMap { Diagnosis(rawValue: $0) },
                                              probabilities: p, metadata: meta))
        }
        return PredictionSet(source: "\(path)#run\(id)", metadataColumns: metadataColumns, patients: patients)
    }

    /// The run's failed patients with their reasons.
    public func failedPatients(run id: Int) throws -> [(patientID: String, reason: String)] {
        try db.query("SELECT patient_id, error FROM patient_results WHERE run_id = ? AND status = 'failed' ORDER BY patient_id", [id])
            .map { ($0[0].string ?? "", $0[1].string ?? "") }
    }
}
