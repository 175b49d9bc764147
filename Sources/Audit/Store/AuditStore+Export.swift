import Foundation

/// A complete, self-describing JSON view of one run (`mlung-audit export`).
extension AuditStore {
    public struct RunExport: Codable, Sendable {
        public struct Model: Codable, Sendable {
            public var sha256: String, sliceDigest: String, patientDigest: String, name: String, version: String
            public var classes: [String]
            public var config: String
        }
        public struct Slice: Codable, Sendable {
            public var index: Int
            public var instanceUID: String
            public var position: Double
            public var lesionProbs: [Double]
            public var classProbs: [Double]
            public var sliceProbs: [Double]
            public var predicted: Int
            public var cropBox: [Int]
            public var cropFailed: Bool
            public var lungArea: Int
        }
        public struct Patient: Codable, Sendable {
            public var patientID: String
            public var label: Int?
            public var metadata: [String: String]
            public var status: String
            public var error: String?
            public var reused: Bool
            public var sliceCount: Int?
            public var probs: [Double]?
            public var predicted: Int?
            public var nonParametricProbs: [Double]?
            public var nonParametricPredicted: Int?
            public var slices: [Slice]?
            /// The patient's stored failure-mode flags (docs/flags.md), when `mlung-audit flags`
            /// computed them for this run; nil otherwise.
            public var flags: PatientFlagsExport?
        }
        /// A flag that fired, as exported: undefined measurements (NaN, infinities) are null.
        public struct FlagExport: Codable, Sendable, Equatable {
            public var flag: String
            public var level: String
            public var summary: String
            public var reasons: [String]
            public var measurements: [String: Double?]
            /// 0-based slice indices in the run's slice order.
            public var slices: [Int]
        }
        /// One patient's flags: `status` `ok` or `store-only`, the flags that fired, and every
        /// detector's measurements by flag name (fired or not; undefined values null).
        public struct PatientFlagsExport: Codable, Sendable, Equatable {
            public var status: String
            public var error: String?
            public var fired: [FlagExport]
            public var measurements: [String: [String: Double?]]
        }
        public var run: RunRecord
        public var model: Model?
        public var manifestPath: String
        public var patients: [Patient]
        /// How the run's flags were computed (configuration, baseline, reference); nil when
        /// `mlung-audit flags` has not been run on it.
        public var flagRun: FlagRunRecord?
    }

    /// A measurement list as a name -> value map; NaN and infinities become null (JSON has no NaN).
    static func exportMeasurements(_ m: [FlagMeasurement]) -> [String: Double?] {
        var out: [String: Double?] = [:]
        for x in m { out[x.name] = x.value.isFinite ? .some(x.value) : .some(nil) }
        return out
    }

    /// The stored flags of run `id` in export form, by patient id (empty when never computed).
    public func exportFlags(run id: Int) throws -> [String: RunExport.PatientFlagsExport] {
        guard try flagRun(id) != nil else { return [:] }
        var out: [String: RunExport.PatientFlagsExport] = [:]
        for p in try loadFlags(run: id) {
            let fired = p.findings.map {
                RunExport.FlagExport(flag: $0.flag.rawValue, level: $0.level, summary: $0.summary, reasons: $0.reasons,
                                     measurements: Self.exportMeasurements($0.measurements), slices: $0.slices)
            }
            out[p.patientID] = .init(status: p.status, error: p.error, fired: fired,
                                     measurements: p.measurements.mapValues { Self.exportMeasurements($0) })
        }
        return out
    }

    /// Everything stored for run `id`; `slices` adds the per-slice outputs.
    public func export(run id: Int, slices: Bool) throws -> RunExport {
        guard let run = try run(id: id) else { throw StoreError(path: path, message: "no run \(id)") }
        var model: RunExport.Model?
        if let mid = run.modelID, let m = try db.query("""
            SELECT sha256, slice_digest, patient_digest, name, version, classes_json, config_json FROM models WHERE id = ?
            """, [mid]).first {
            let classes = (try? JSONDecoder().decode([String].self, from: Data((m[5].string ?? "[]").utf8))) ?? []
            model = .init(sha256: m[0].string ?? "", sliceDigest: m[1].string ?? "", patientDigest: m[2].string ?? "",
                          name: m[3].string ?? "", version: m[4].string ?? "", classes: classes, config: m[6].string ?? "")
        }
        let manifestPath = try db.scalar("SELECT manifest_path FROM cohorts WHERE id = ?", [run.cohortID])?.string ?? ""
        var results: [String: [SQLValue]] = [:]
        for r in try db.query("""
            SELECT patient_id, status, error, reused, slice_count, p0, p1, p2, p3, predicted, np0, np1, np2, np3, np_predicted, cache_key
            FROM patient_results WHERE run_id = ?
            """, [id]) {
            results[r[0].string ?? ""] = r
        }
        let flagRun = try flagRun(id)
        let flags = try exportFlags(run: id)
        var patients: [RunExport.Patient] = []
        for (pid, label, meta) in try cohortPatients(run.cohortID) {
            guard let r = results[pid] else {
                patients.append(.init(patientID: pid, label: label, metadata: meta, status: "pending", error: nil, reused: false))
                continue
            }
            let probs = r[5].double.map { _ in (5...8).map { r[$0].double ?? 0 } }
            let np = r[10].double.map { _ in (10...13).map { r[$0].double ?? 0 } }
            var p = RunExport.Patient(patientID: pid, label: label, metadata: meta, status: r[1].string ?? "", error: r[2].string,
                                      reused: r[3].int == 1, sliceCount: r[4].int, probs: probs, predicted: r[9].int,
                                      nonParametricProbs: np, nonParametricPredicted: r[14].int)
            p.flags = flags[pid]
            if slices, let key = r[15].string {
                p.slices = try db.query("""
                    SELECT slice_index, instance_uid, position, lesion_p0, lesion_p1, class_p0, class_p1, class_p2, class_p3,
                           q0, q1, q2, q3, predicted, crop_row0, crop_col0, crop_row1, crop_col1, crop_failed, lung_area
                    FROM slice_outputs WHERE cache_key = ? ORDER BY slice_index
                    """, [key]).map { s in
                    RunExport.Slice(index: s[0].int ?? 0, instanceUID: s[1].string ?? "", position: s[2].double ?? 0,
                                    lesionProbs: [s[3].double ?? 0, s[4].double ?? 0],
                                    classProbs: (5...8).map { s[$0].double ?? 0 }, sliceProbs: (9...12).map { s[$0].double ?? 0 },
                                    predicted: s[13].int ?? 0, cropBox: (14...17).map { s[$0].int ?? 0 },
                                    cropFailed: s[18].int == 1, lungArea: s[19].int ?? 0)
                }
            }
            patients.append(p)
        }
        var export = RunExport(run: run, model: model, manifestPath: manifestPath, patients: patients)
        export.flagRun = flagRun
        return export
    }

    /// Records a deployment log (patient id and class probabilities) as a run of its own.
    /// Rows must name patients of the cohort; probabilities must sum to 1 within 1e-3.
    public func importPredictions(cohortID: Int, label: String, rows: [(patientID: String, probs: [Double])],
                                  source: String) throws -> Int {
        let known = Set(try cohortPatients(cohortID).map(\.patientID))
        for r in rows where !known.contains(r.patientID) {
            throw StoreError(path: source, message: "patient \(r.patientID) is not in the cohort")
        }
        return try db.transaction {
            let settings = Self.json(["source": source])
            let runID = try createRun(kind: "imported", modelID: nil, cohortID: cohortID, label: label, settingsJSON: settings)
            for r in rows {
                let best = r.probs.indices.max { r.probs[$0] < r.probs[$1] || (r.probs[$0] == r.probs[$1] && $0 > $1) } ?? 0
                try db.run("""
                    INSERT INTO patient_results (run_id, patient_id, status, p0, p1, p2, p3, predicted, finished_at)
                    VALUES (?, ?, 'ok', ?, ?, ?, ?, ?, ?)
                    """, [runID, r.patientID, r.probs[0], r.probs[1], r.probs[2], r.probs[3], best, Self.now()])
            }
            try finishRun(runID, status: "complete")
            return runID
        }
    }
}
