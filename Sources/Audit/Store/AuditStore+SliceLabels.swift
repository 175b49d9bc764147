import Foundation

/// Read-only queries for slice-level statistics (`evaluate --slice-labels`).
extension AuditStore {
    /// The stored slice outputs of a run's successful patients, by patient, in slice order
    /// (`slice_index`: ascending position along the slice normal).
    public func sliceOutputs(run id: Int) throws -> [String: [StoredSliceOutput]] {
        guard try run(id: id) != nil else { throw StoreError(path: path, message: "no run \(id)") }
        var out: [String: [StoredSliceOutput]] = [:]
        for r in try db.query("""
            SELECT r.patient_id, o.slice_index, o.position, o.instance_uid, o.lesion_p0, o.lesion_p1, o.q0, o.q1, o.q2, o.q3
            FROM patient_results r JOIN slice_outputs o ON o.cache_key = r.cache_key
            WHERE r.run_id = ? AND r.status = 'ok' ORDER BY r.patient_id, o.slice_index
            """, [id]) {
            let d = { (i: Int) in r[i].double ?? 0 }
            out[r[0].string ?? "", default: []].append(StoredSliceOutput(
                sliceIndex: r[1].int ?? 0, position: r[2].double, sopInstanceUID: r[3].string,
                lesionProbabilities: [d(4), d(5)], classProbabilities: [d(6), d(7), d(8), d(9)]))
        }
        return out
    }

    /// For one patient of a run: DICOM Instance Number -> slice index, read from the headers of
    /// the series the run used (found through the cohort manifest's path and matched to the
    /// stored slices by SOP Instance UID).
    public func instanceNumbers(run id: Int, patientID: String) throws -> [Int: Int] {
        guard let run = try run(id: id) else { throw StoreError(path: path, message: "no run \(id)") }
        guard let manifest = try db.scalar("SELECT manifest_path FROM cohorts WHERE id = ?", [run.cohortID])?.string,
              let raw = try db.scalar("SELECT path FROM cohort_patients WHERE cohort_id = ? AND patient_id = ?",
                                      [run.cohortID, patientID])?.string
        else { throw StoreError(path: path, message: "run \(id): patient '\(patientID)' is not in its cohort") }
        let folder = raw.hasPrefix("/") ? raw
            : URL(fileURLWithPath: manifest).deletingLastPathComponent().appendingPathComponent(raw).standardizedFileURL.path
        var index: [String: Int] = [:]
        for r in try db.query("""
            SELECT o.instance_uid, o.slice_index FROM patient_results r JOIN slice_outputs o ON o.cache_key = r.cache_key
            WHERE r.run_id = ? AND r.patient_id = ? AND r.status = 'ok'
            """, [id, patientID]) {
            if let u = r[0].string, !u.isEmpty, let i = r[1].int { index[u] = i }
        }
        let discovery = try SeriesDiscovery.scan([folder])
        var out: [Int: Int] = [:]
        for s in discovery.series {
            for slice in s.slices {
                if let n = slice.instanceNumber, let u = slice.sopInstanceUID, let i = index[u] { out[n] = i }
            }
        }
        return out
    }
}
