import Foundation

/// Failure-mode flags in the store (migration `0003_flags`, docs/flags.md): one `flag_runs` row
/// per run whose flags were computed (with the configuration used), every patient's
/// measurements in `flag_patients`, and each flag that fired in `patient_flags`.
extension AuditStore {
    static let flagsMigrationSQL = """
        CREATE TABLE flag_runs (
            run_id INTEGER PRIMARY KEY REFERENCES runs(id),
            config_json TEXT NOT NULL,
            baseline_run_id INTEGER REFERENCES runs(id),
            reference_run_id INTEGER REFERENCES runs(id),
            tool_version TEXT NOT NULL,
            computed_at TEXT NOT NULL
        );
        CREATE TABLE flag_patients (
            run_id INTEGER NOT NULL REFERENCES flag_runs(run_id),
            patient_id TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            measurements_json TEXT NOT NULL,
            PRIMARY KEY (run_id, patient_id)
        );
        CREATE TABLE patient_flags (
            run_id INTEGER NOT NULL REFERENCES flag_runs(run_id),
            patient_id TEXT NOT NULL,
            flag TEXT NOT NULL,
            level TEXT NOT NULL,
            summary TEXT NOT NULL,
            reasons_json TEXT NOT NULL,
            measurements_json TEXT NOT NULL,
            slices_json TEXT NOT NULL,
            PRIMARY KEY (run_id, patient_id, flag)
        );
        """

    /// How the flags of a run were computed.
    public struct FlagRunRecord: Sendable, Codable, Equatable {
        public var runID: Int
        public var configJSON: String
        public var baselineRunID: Int?
        public var referenceRunID: Int?
        public var toolVersion: String
        public var computedAt: String
    }

    /// JSON of flag values; NaN and infinities (an undefined ratio) as the strings "nan", "inf", "-inf".
    static func flagJSON<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: (try? e.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    static var flagDecoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// The flag computation recorded for run `id`, if any.
    public func flagRun(_ id: Int) throws -> FlagRunRecord? {
        try db.query("SELECT run_id, config_json, baseline_run_id, reference_run_id, tool_version, computed_at FROM flag_runs WHERE run_id = ?",
                     [id]).first.map {
            FlagRunRecord(runID: $0[0].int ?? id, configJSON: $0[1].string ?? "", baselineRunID: $0[2].int, referenceRunID: $0[3].int,
                          toolVersion: $0[4].string ?? "", computedAt: $0[5].string ?? "")
        }
    }

    /// Replaces the flags of run `id` in one transaction.
    public func saveFlags(run id: Int, config: FlagConfig, baseline: Int?, reference: Int?, patients: [PatientFlags]) throws {
        try db.transaction {
            try db.run("DELETE FROM patient_flags WHERE run_id = ?", [id])
            try db.run("DELETE FROM flag_patients WHERE run_id = ?", [id])
            try db.run("DELETE FROM flag_runs WHERE run_id = ?", [id])
            try db.run("""
                INSERT INTO flag_runs (run_id, config_json, baseline_run_id, reference_run_id, tool_version, computed_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, [id, config.canonicalJSON, baseline, reference, AuditLibrary.toolVersion, Self.now()])
            for p in patients {
                try db.run("INSERT INTO flag_patients (run_id, patient_id, status, error, measurements_json) VALUES (?, ?, ?, ?, ?)",
                           [id, p.patientID, p.status, p.error, Self.flagJSON(p.measurements)])
                for f in p.findings {
                    try db.run("""
                        INSERT INTO patient_flags (run_id, patient_id, flag, level, summary, reasons_json, measurements_json, slices_json)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, [id, p.patientID, f.flag.rawValue, f.level, f.summary, Self.flagJSON(f.reasons), Self.flagJSON(f.measurements),
                              Self.flagJSON(f.slices)])
                }
            }
        }
    }

    /// Every patient's stored flags and measurements for run `id`, in patient-id order.
    public func loadFlags(run id: Int) throws -> [PatientFlags] {
        let dec = Self.flagDecoder
        var findings: [String: [FlagFinding]] = [:]
        for r in try db.query("""
            SELECT patient_id, flag, level, reasons_json, measurements_json, slices_json FROM patient_flags WHERE run_id = ? ORDER BY patient_id, flag
            """, [id]) {
            guard let flag = FlagKind(rawValue: r[1].string ?? "") else { continue }
            let reasons = (try? dec.decode([String].self, from: Data((r[3].string ?? "[]").utf8))) ?? []
            let m = (try? dec.decode([FlagMeasurement].self, from: Data((r[4].string ?? "[]").utf8))) ?? []
            let slices = (try? dec.decode([Int].self, from: Data((r[5].string ?? "[]").utf8))) ?? []
            findings[r[0].string ?? "", default: []].append(FlagFinding(flag: flag, level: r[2].string ?? "flag", reasons: reasons,
                                                                       measurements: m, slices: slices))
        }
        let labels = Dictionary(try db.query("""
            SELECT c.patient_id, c.label, r.predicted FROM runs u JOIN cohort_patients c ON c.cohort_id = u.cohort_id
            LEFT JOIN patient_results r ON r.run_id = u.id AND r.patient_id = c.patient_id WHERE u.id = ?
            """, [id]).map { ($0[0].string ?? "", ($0[1].int, $0[2].int)) }, uniquingKeysWith: { a, _ in a })
        return try db.query("SELECT patient_id, status, error, measurements_json FROM flag_patients WHERE run_id = ? ORDER BY patient_id", [id]).map { r in
            let pid = r[0].string ?? ""
            let m = (try? dec.decode([String: [FlagMeasurement]].self, from: Data((r[3].string ?? "{}").utf8))) ?? [:]
            return PatientFlags(patientID: pid, label: labels[pid]?.0, predicted: labels[pid]?.1, status: r[1].string ?? "",
                                error: r[2].string, measurements: m, findings: findings[pid] ?? [])
        }
    }

    /// One patient of run `id` as the detectors see it: stored outputs, header facts, and (when
    /// `pixels`) the HU slices re-read from the DICOM files the manifest names, checked against
    /// the stored content digest. Returns nil when the patient has no successful result.
    public func flagCase(run id: Int, patientID: String, pixels: Bool) throws -> FlagCase? {
        guard let run = try run(id: id) else { throw StoreError(path: path, message: "no run \(id)") }
        guard let r = try db.query("""
            SELECT r.cache_key, s.series_uid, s.content_sha256, c.path, k.manifest_path, s.metadata_json, s.problems_json,
                   r.p0, r.p1, r.p2, r.p3, r.predicted, r.np0, r.np1, r.np2, r.np3, r.np_predicted, c.label
            FROM patient_results r JOIN series s ON s.id = r.series_id
            JOIN cohort_patients c ON c.cohort_id = ? AND c.patient_id = r.patient_id
            JOIN cohorts k ON k.id = c.cohort_id
            WHERE r.run_id = ? AND r.patient_id = ? AND r.status = 'ok'
            """, [run.cohortID, id, patientID]).first,
              let key = r[0].string, let seriesUID = r[1].string, let digest = r[2].string, let rawPath = r[3].string,
              let manifestPath = r[4].string
        else { return nil }
        guard let stored = try loadSliceResults(key) else {
            throw StoreError(path: path, message: "the slice outputs of patient \(patientID) of run \(id) are missing (cache \(key))")
        }
        let settings = try? JSONDecoder().decode(RunSettings.self, from: Data(run.settingsJSON.utf8))
        let meta = r[5].string.flatMap { try? JSONDecoder().decode(SeriesMetadata.self, from: Data($0.utf8)) }
        let problems = r[6].string.flatMap { try? JSONDecoder().decode([SeriesProblem].self, from: Data($0.utf8)) } ?? []
        let n = stored.results.count, mp = stored.results.mapSize * stored.results.mapSize
        var slices: [FlagSlice] = (0..<n).map { i in
            let st = stored.statistics[i]
            return FlagSlice(index: i, position: stored.slices[i].position ?? Double(i), hu: [], cropBox: st.cropBox,
                             cropFailed: st.cropFailed, lungArea: st.lungArea, lowColumnArea: st.leftHalfArea,
                             highColumnArea: st.rightHalfArea, q: (0..<4).map { Double(stored.results.sliceProbs[i * 4 + $0]) },
                             predicted: stored.results.slicePredictions[i],
                             lesionMap: Array(stored.results.lesionMaps[(i * mp)..<((i + 1) * mp)]))
        }
        var rows = 0, cols = 0
        var orientation = [1.0, 0, 0, 0, 1, 0]
        var spacing: Double?
        if pixels {
            let series = try reopenSeries(runID: id, patientID: patientID, rawPath: rawPath, manifestPath: manifestPath,
                                          seriesUID: seriesUID, digest: digest, settings: settings)
            rows = series.geometry?.rows ?? 0
            cols = series.geometry?.columns ?? 0
            if let o = series.geometry?.orientation, o.count == 6 { orientation = o }
            spacing = series.geometry?.medianSpacing
            try SeriesReader.forEachSlice(of: series) { index, slice, hu in
                guard index < n else { return }
                if let uid = stored.slices[index].sopInstanceUID, !uid.isEmpty, uid != slice.sopInstanceUID {
                    throw IngestError.series(path: rawPath, reason: "slice \(index + 1) is not the instance run \(id) stored at that place")
                }
                slices[index].hu = Array(hu)
            }
        }
        if spacing == nil {
            let p = slices.map(\.position)
            let steps = zip(p, p.dropFirst()).map { abs($1 - $0) }.sorted()
            spacing = steps.isEmpty ? nil : steps[steps.count / 2]
        }
        let probs = (7...10).map { r[$0].double ?? 0 }
        let np: [Double]? = r[12].double == nil ? nil : (12...15).map { r[$0].double ?? 0 }
        var out = FlagCase(patientID: patientID, label: r[17].int.flatMap { Diagnosis(rawValue: $0) }, modality: meta?.modality,
                           bodyPartExamined: meta?.bodyPartExamined, rows: rows, columns: cols,
                           pixelSpacing: meta?.pixelSpacing ?? [1, 1], orientation: orientation,
                           sliceSpacing: spacing ?? meta?.sliceThickness ?? 1, problems: problems, mapSize: stored.results.mapSize,
                           slices: slices, probabilities: probs, predicted: r[11].int ?? 0, nonParametric: np,
                           nonParametricPredicted: r[16].int, preprocess: settings?.preprocess ?? PreprocessSettings())
        if n > 0, stored.results.features.count % n == 0 {
            out.features = stored.results.features
            out.featureDim = stored.results.features.count / n
        }
        return out
    }

    /// The run's patients with a successful result, in manifest order.
    public func okPatients(run id: Int) throws -> [String] {
        guard let run = try run(id: id) else { throw StoreError(path: path, message: "no run \(id)") }
        let ok = Set(try db.query("SELECT patient_id FROM patient_results WHERE run_id = ? AND status = 'ok'", [id]).compactMap { $0[0].string })
        return try cohortPatients(run.cohortID).map(\.patientID).filter { ok.contains($0) }
    }

    /// Predicted class per patient of run `id` (successful patients).
    public func predictions(run id: Int) throws -> [String: Int] {
        Dictionary(try db.query("SELECT patient_id, predicted FROM patient_results WHERE run_id = ? AND status = 'ok'", [id])
            .compactMap { r in r[1].int.map { (r[0].string ?? "", $0) } }, uniquingKeysWith: { a, _ in a })
    }
}
