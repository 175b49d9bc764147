import Foundation
import Model

/// What the QA report and the failure-case gallery read from the store: the per-store
/// pseudonym secret, a run's patients with their series, the statistics of a run (and of a
/// baseline run), and a patient's CT slices re-read from DICOM with the stored slice outputs.
/// Everything comes back as plain values; `Reports` maps them onto its models.
extension AuditStore {
    // MARK: - The pseudonym secret

    /// The store's report secret (32 random bytes), made on first use and kept in the table
    /// `report_secret` (migration `0002_report_secret`), so that every report of this store
    /// gives a patient the same pseudonym and reports of different stores cannot be linked.
    public func reportSecret() throws -> [UInt8] {
        if let existing = try db.scalar("SELECT secret FROM report_secret WHERE id = 1")?.data, existing.count >= 16 {
            return Array(existing)
        }
        var rng = SystemRandomNumberGenerator()
        let fresh = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        // Two processes racing here both read back the one row that won.
        try db.run("INSERT OR IGNORE INTO report_secret (id, secret, created_at) VALUES (1, ?, ?)", [fresh, Self.now()])
        guard let stored = try db.scalar("SELECT secret FROM report_secret WHERE id = 1")?.data, stored.count >= 16 else {
            throw StoreError(path: path, message: "cannot keep the report secret in table report_secret")
        }
        return Array(stored)
    }

    // MARK: - A run's patients

    /// One manifest patient of a run's cohort with its result in the run.
    public struct ReportPatient: Sendable {
        public var patientID: String
        public var label: Diagnosis?
        public var metadata: [String: String]
        /// `ok`, `failed`, or `pending` (no result recorded).
        public var status: String
        public var error: String?
        /// The learned head's probabilities and its answer.
        public var probabilities: [Double]?
        public var predicted: Int?
        /// The non-parametric assessment's scores and its answer (nil for imported runs).
        public var nonParametric: [Double]?
        public var nonParametricPredicted: Int?
        public var sliceCount: Int?
        /// The series the run used (DICOM metadata as stored), when the patient succeeded.
        public var series: SeriesMetadata?
        public var seriesContentSHA256: String?
    }

    /// The cohort's patients in manifest order, with their results in run `id`.
    public func reportPatients(run id: Int) throws -> [ReportPatient] {
        guard let run = try run(id: id) else { throw StoreError(path: path, message: "no run \(id)") }
        var rows: [String: [SQLValue]] = [:]
        for r in try db.query("""
            SELECT r.patient_id, r.status, r.error, r.p0, r.p1, r.p2, r.p3, r.predicted, r.np0, r.np1, r.np2, r.np3,
                   r.np_predicted, r.slice_count, s.metadata_json, s.content_sha256
            FROM patient_results r LEFT JOIN series s ON s.id = r.series_id WHERE r.run_id = ?
            """, [id]) {
            rows[r[0].string ?? ""] = r
        }
        return try cohortPatients(run.cohortID).map { pid, label, meta in
            var p = ReportPatient(patientID: pid, label: label.flatMap { Diagnosis(rawValue: $0) }, metadata: meta, status: "pending")
            guard let r = rows[pid] else { return p }
            p.status = r[1].string ?? ""
            p.error = r[2].string
            if r[3].double != nil { p.probabilities = (3...6).map { r[$0].double ?? 0 } }
            p.predicted = r[7].int
            if r[8].double != nil { p.nonParametric = (8...11).map { r[$0].double ?? 0 } }
            p.nonParametricPredicted = r[12].int
            p.sliceCount = r[13].int
            p.series = r[14].string.flatMap { try? JSONDecoder().decode(SeriesMetadata.self, from: Data($0.utf8)) }
            p.seriesContentSHA256 = r[15].string
            return p
        }
    }

    /// The model row of a run (nil for an imported deployment log).
    public func reportModel(run: RunRecord) throws -> (model: RunExport.Model, path: String)? {
        guard let mid = run.modelID, let m = try db.query("""
            SELECT sha256, slice_digest, patient_digest, name, version, classes_json, config_json, path FROM models WHERE id = ?
            """, [mid]).first else { return nil }
        let classes = (try? JSONDecoder().decode([String].self, from: Data((m[5].string ?? "[]").utf8))) ?? []
        return (RunExport.Model(sha256: m[0].string ?? "", sliceDigest: m[1].string ?? "", patientDigest: m[2].string ?? "",
                                name: m[3].string ?? "", version: m[4].string ?? "", classes: classes, config: m[6].string ?? ""),
                m[7].string ?? "")
    }

    // MARK: - Statistics of a run

    /// One run as the report sees it: its row, model, patients and statistics.
    public struct ReportRun: Sendable {
        public var run: RunRecord
        public var model: RunExport.Model?
        public var modelPath: String?
        /// The patient head the figures are computed from.
        public var head: Head
        public var patients: [ReportPatient]
        public var predictions: PredictionSet
        public var evaluation: Evaluation
        /// One analysis per manifest metadata column.
        public var subgroups: [SubgroupAnalysis]
    }

    /// The cohort of a run.
    public struct ReportCohort: Sendable {
        public var manifestPath: String
        public var manifestSHA256: String
        public var metadataColumns: [String]
    }

    /// Everything the QA report states about a run and its optional baseline.
    public struct RunReportData: Sendable {
        public var candidate: ReportRun
        public var baseline: ReportRun?
        /// Candidate against baseline on the patients assessed in both runs.
        public var comparison: Comparison?
        /// Patients left out of the comparison because only one run assessed them.
        public var comparisonLeftOut: Int
        public var cohort: ReportCohort
        public var options: StatisticsOptions
        public var storePath: String
    }

    /// A metadata column splits the report's subgroups only when it has at most this many
    /// distinct values (site, scanner, sex, artifact...); free-valued columns (ages, volumes,
    /// seeds) would give one group per patient. `evaluate --subgroup age:40,65` bands them.
    public static let reportSubgroupMaximumLevels = 12
    /// ... and, beyond three values, when its groups hold at least this many patients on
    /// average (a column with a value per handful of patients, such as a heart rate, says
    /// nothing per group); a column with a single value is no split.
    public static let reportSubgroupMinimumMeanSize = 5

    /// Whether the report splits subgroups by a metadata column with these values (one per patient).
    public static func isReportSubgroupColumn(_ values: [String]) -> Bool {
        let levels = Set(values).count
        return levels >= 2 && levels <= reportSubgroupMaximumLevels
            && (levels <= 3 || values.count >= reportSubgroupMinimumMeanSize * levels)
    }

    /// Evaluates run `id` (and `baseline`) with the statistics of `docs/statistics.md`,
    /// split into subgroups by every categorical metadata column of the cohort manifest.
    public func reportData(run id: Int, baseline: Int?, head: Head, options: StatisticsOptions) throws -> RunReportData {
        func side(_ runID: Int, _ h: Head) throws -> ReportRun {
            guard let run = try run(id: runID) else { throw StoreError(path: path, message: "no run \(runID)") }
            let model = try reportModel(run: run)
            let predictions = try predictionSet(run: runID, head: h)
            let specs = predictions.metadataColumns.filter { column in
                Self.isReportSubgroupColumn(predictions.patients.map { $0.metadata[column] ?? "" })
            }.map { SubgroupSpec(column: $0) }
            return ReportRun(run: run, model: model?.model, modelPath: model?.path, head: h, patients: try reportPatients(run: runID),
                             predictions: predictions, evaluation: try Evaluator.evaluate(predictions, options: options),
                             subgroups: try Evaluator.subgroups(predictions, by: specs, options: options))
        }
        let candidate = try side(id, head)
        var base: ReportRun?
        var comparison: Comparison?
        var leftOut = 0
        if let b = baseline {
            guard let row = try run(id: b) else { throw StoreError(path: path, message: "no baseline run \(b)") }
            guard row.cohortID == candidate.run.cohortID else {
                throw StoreError(path: path, message: "baseline run \(b) was made on another cohort than run \(id); compare runs of one cohort")
            }
            let s = try side(b, row.kind == "imported" ? .learned : head)
            let common = Set(candidate.predictions.patients.map(\.patientID)).intersection(s.predictions.patients.map(\.patientID))
            leftOut = candidate.predictions.patients.count + s.predictions.patients.count - 2 * common.count
            comparison = try Comparator.compare(baseline: s.predictions.filter { common.contains($0.patientID) },
                                                candidate: candidate.predictions.filter { common.contains($0.patientID) },
                                                options: options)
            base = s
        }
        guard let c = try db.query("SELECT manifest_path, manifest_sha256, metadata_columns_json FROM cohorts WHERE id = ?",
                                   [candidate.run.cohortID]).first else {
            throw StoreError(path: path, message: "run \(id) names cohort \(candidate.run.cohortID), which is not in the store")
        }
        let columns = (c[2].string.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }) ?? []
        return RunReportData(candidate: candidate, baseline: base, comparison: comparison, comparisonLeftOut: leftOut,
                             cohort: ReportCohort(manifestPath: c[0].string ?? "", manifestSHA256: c[1].string ?? "", metadataColumns: columns),
                             options: options, storePath: path)
    }

    // MARK: - CT slices for the gallery

    /// One slice of a patient's series as the gallery shows it: the HU pixels re-read from
    /// DICOM in their original geometry, with the slice outputs stored by the run.
    public struct GallerySlice: Sendable {
        /// Index of the slice in the series (0-based, slice order of the run).
        public var index: Int
        public var rows: Int
        public var columns: Int
        /// Row-major HU, `rows * columns`.
        public var hu: [Float]
        /// The lung crop box in the slice's pixels (inclusive), which the network's input was resized from.
        public var cropBox: CropBox
        public var cropFailed: Bool
        /// The slice's four-class probabilities `q` and their argmax.
        public var sliceProbabilities: [Double]
        public var predicted: Int
        /// The lesion map (`mapSize`², row-major, values as stored: 0...1) over the crop box.
        public var mapSize: Int
        public var lesionMap: [Float]
    }

    /// Every `every`-th slice (from the first) of the series run `id` used for `patientID`,
    /// re-read from the DICOM files named by the cohort manifest. The series must still hold
    /// the same bytes (its content digest is checked against the store).
    public func gallerySlices(run id: Int, patientID: String, every: Int) throws -> [GallerySlice] {
        guard let run = try run(id: id) else { throw StoreError(path: path, message: "no run \(id)") }
        guard let r = try db.query("""
            SELECT r.cache_key, s.series_uid, s.content_sha256, c.path, c.series_uid, k.manifest_path
            FROM patient_results r JOIN series s ON s.id = r.series_id
            JOIN cohort_patients c ON c.cohort_id = ? AND c.patient_id = r.patient_id
            JOIN cohorts k ON k.id = c.cohort_id
            WHERE r.run_id = ? AND r.patient_id = ? AND r.status = 'ok'
            """, [run.cohortID, id, patientID]).first,
              let key = r[0].string, let seriesUID = r[1].string, let digest = r[2].string, let rawPath = r[3].string,
              let manifestPath = r[5].string
        else { throw StoreError(path: path, message: "run \(id) has no successful result for the requested patient") }
        guard let stored = try loadSliceResults(key) else {
            throw StoreError(path: path, message: "the slice outputs of a patient of run \(id) are missing (cache \(key))")
        }
        let settings = try? JSONDecoder().decode(RunSettings.self, from: Data(run.settingsJSON.utf8))

        let series = try reopenSeries(runID: id, patientID: patientID, rawPath: rawPath, manifestPath: manifestPath,
                                      seriesUID: seriesUID, digest: digest, settings: settings,
                                      consequence: "the gallery cannot show the slices the model saw")
        let n = stored.results.count, mp = stored.results.mapSize * stored.results.mapSize
        let step = max(1, every)
        var out: [GallerySlice] = []
        try SeriesReader.forEachSlice(of: series) { index, slice, hu in
            guard index % step == 0, index < n else { return }
            guard stored.slices[index].sopInstanceUID == nil || stored.slices[index].sopInstanceUID == "" ||
                  stored.slices[index].sopInstanceUID == slice.sopInstanceUID else {
                throw IngestError.series(path: rawPath, reason: "slice \(index + 1) is not the instance run \(id) stored at that place")
            }
            let st = stored.statistics[index]
            out.append(GallerySlice(index: index, rows: series.geometry?.rows ?? 0, columns: series.geometry?.columns ?? 0,
                                    hu: Array(hu), cropBox: st.cropBox, cropFailed: st.cropFailed,
                                    sliceProbabilities: (0..<4).map { Double(stored.results.sliceProbs[index * 4 + $0]) },
                                    predicted: stored.results.slicePredictions[index], mapSize: stored.results.mapSize,
                                    lesionMap: Array(stored.results.lesionMaps[(index * mp)..<((index + 1) * mp)])))
        }
        return out
    }
}
