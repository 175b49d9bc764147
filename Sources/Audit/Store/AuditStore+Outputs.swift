import Foundation
import Model

/// Slice outputs (shared between runs through their cache key) and per-patient results.
extension AuditStore {
    /// What one patient's slices produced, ready to store.
    public struct SliceRecord: Sendable {
        public var slices: [DicomSeries.Slice]
        public var statistics: [LungStatistics]
        public var results: SliceResults
    }

    /// The cache key of a series' slice outputs: SHA-256 over the series content digest, the
    /// preprocessing and windowing settings, and the slice network's digest.
    public static func sliceCacheKey(seriesContent: String, preprocessJSON: String, sliceDigest: String) -> String {
        var h = SHA256()
        h.update(bytes: Array("mlung-slice-cache-v1\n\(seriesContent)\n\(preprocessJSON)\n\(sliceDigest)".utf8))
        return h.finalizeHex()
    }

    /// The settings that decide a slice's outputs besides its pixels and the slice network.
    public static func preprocessJSON(_ settings: PreprocessSettings, config: ModelConfig) -> String {
        struct Key: Encodable {
            var preprocess: PreprocessSettings
            var windowCenters: [Float]
            var windowWidth: Float
        }
        return json(Key(preprocess: settings, windowCenters: config.windowCenters, windowWidth: config.windowWidth))
    }

    public func hasSliceCache(_ key: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM slice_caches WHERE key = ?", [key]) != nil
    }

    /// Loads stored slice outputs back (features and probabilities exactly as computed;
    /// lesion maps from their 8-bit form).
    public func loadSliceResults(_ key: String) throws -> SliceRecord? {
        guard let head = try db.query("SELECT slice_count, feature_dim, map_size FROM slice_caches WHERE key = ?", [key]).first,
              let n = head[0].int, let d = head[1].int, let size = head[2].int
        else { return nil }
        let rows = try db.query("""
            SELECT slice_index, instance_uid, position, lesion_p0, lesion_p1, class_p0, class_p1, class_p2, class_p3,
                   q0, q1, q2, q3, predicted, crop_row0, crop_col0, crop_row1, crop_col1, crop_failed,
                   lung_area, left_area, right_area, features, lesion_map, lesion_map_scale, lesion_map_offset
            FROM slice_outputs WHERE cache_key = ? ORDER BY slice_index
            """, [key])
        guard rows.count == n else {
            throw StoreError(path: path, message: "slice cache \(key) holds \(rows.count) of \(n) slices")
        }
        var r = SliceResults(count: n, featureDim: d, mapSize: size, lesionProbs: [], classProbs: [], sliceProbs: [],
                             slicePredictions: [], features: [], lesionMaps: [])
        var slices: [DicomSeries.Slice] = []
        var stats: [LungStatistics] = []
        for row in rows {
            let f = { (i: Int) in Float(row[i].double ?? 0) }
            r.lesionProbs += [f(3), f(4)]
            r.classProbs += [f(5), f(6), f(7), f(8)]
            r.sliceProbs += [f(9), f(10), f(11), f(12)]
            r.slicePredictions.append(row[13].int ?? 0)
            let features = row[22].data ?? Data()
            guard features.count == 4 * d else { throw StoreError(path: path, message: "slice cache \(key): bad feature blob") }
            features.withUnsafeBytes { raw in
                for i in 0..<d { r.features.append(raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)) }
            }
            let map = row[23].data ?? Data()
            let scale = Float(row[24].double ?? 0), offset = Float(row[25].double ?? 0)
            r.lesionMaps += map.map { offset + scale * Float($0) }
            slices.append(DicomSeries.Slice(path: "", sopInstanceUID: row[1].string, instanceNumber: nil,
                                            position: row[2].double, transferSyntaxUID: ""))
            let box = CropBox(row0: row[14].int ?? 0, col0: row[15].int ?? 0, row1: row[16].int ?? 0, col1: row[17].int ?? 0)
            stats.append(LungStatistics(lungArea: row[19].int ?? 0, leftHalfArea: row[20].int ?? 0, rightHalfArea: row[21].int ?? 0,
                                        lungFraction: 0, cropBox: box, cropFailed: (row[18].int ?? 0) != 0))
        }
        return SliceRecord(slices: slices, statistics: stats, results: r)
    }

    /// Inserts a series' slice outputs under `key` (inside the caller's transaction).
    func insertSliceCache(_ key: String, seriesContent: String, preprocessJSON: String, sliceDigest: String, record: SliceRecord) throws {
        let r = record.results
        try db.run("""
            INSERT INTO slice_caches (key, series_content_sha256, preprocess_json, slice_digest, slice_count, feature_dim, map_size, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [key, seriesContent, preprocessJSON, sliceDigest, r.count, r.featureDim, r.mapSize, Self.now()])
        let d = r.featureDim, mp = r.mapSize * r.mapSize
        for i in 0..<r.count {
            let s = record.slices[i], st = record.statistics[i]
            let features = r.features[(i * d)..<((i + 1) * d)].withUnsafeBytes { Data($0) }
            let (map, scale, offset) = Self.quantise(r.lesionMaps[(i * mp)..<((i + 1) * mp)])
            let p = { (a: [Float], k: Int, j: Int) in Double(a[k * i + j]) }
            try db.run("""
                INSERT INTO slice_outputs (cache_key, slice_index, instance_uid, position, lesion_p0, lesion_p1,
                    class_p0, class_p1, class_p2, class_p3, q0, q1, q2, q3, predicted,
                    crop_row0, crop_col0, crop_row1, crop_col1, crop_failed, lung_area, left_area, right_area,
                    features, lesion_map, lesion_map_scale, lesion_map_offset)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [key, i, s.sopInstanceUID ?? "", s.position ?? Double(i),
                      p(r.lesionProbs, 2, 0), p(r.lesionProbs, 2, 1),
                      p(r.classProbs, 4, 0), p(r.classProbs, 4, 1), p(r.classProbs, 4, 2), p(r.classProbs, 4, 3),
                      p(r.sliceProbs, 4, 0), p(r.sliceProbs, 4, 1), p(r.sliceProbs, 4, 2), p(r.sliceProbs, 4, 3),
                      r.slicePredictions[i],
                      st.cropBox.row0, st.cropBox.col0, st.cropBox.row1, st.cropBox.col1, st.cropFailed,
                      st.lungArea, st.leftHalfArea, st.rightHalfArea,
                      features, map, Double(scale), Double(offset)])
        }
    }

    /// 8-bit quantisation over the map's own range: `value ~= offset + scale * byte`.
    static func quantise(_ v: ArraySlice<Float>) -> (Data, Float, Float) {
        let lo = v.min() ?? 0, hi = v.max() ?? 0
        let scale = hi > lo ? (hi - lo) / 255 : 0
        let bytes = v.map { scale > 0 ? UInt8(max(0, min(255, (($0 - lo) / scale).rounded()))) : 0 }
        return (Data(bytes), scale, lo)
    }

    /// The series' row id, inserting it on first sight (identity: its content digest).
    func seriesID(_ s: DicomSeries, contentDigest: String) throws -> Int {
        if let id = try db.scalar("SELECT id FROM series WHERE content_sha256 = ?", [contentDigest])?.int { return id }
        return Int(try db.run("""
            INSERT INTO series (series_uid, content_sha256, file_count, metadata_json, problems_json) VALUES (?, ?, ?, ?, ?)
            """, [s.seriesInstanceUID, contentDigest, s.slices.count, Self.json(s.metadata), Self.json(s.problems)]))
    }

    /// A patient's outcome in a run.
    public enum PatientOutcome: Sendable {
        case success(series: DicomSeries, contentDigest: String, cacheKey: String, preprocessJSON: String, sliceDigest: String,
                     computed: SliceRecord?, slices: SliceResults, patient: PatientResult, seconds: Double)
        case failure(reason: String)
    }

    /// Records one patient in one transaction: the series, the slice outputs (unless already
    /// cached) and the result. A patient already recorded for the run is left as it is.
    public func recordPatient(run: Int, patientID: String, outcome: PatientOutcome) throws {
        try db.transaction {
            if try db.scalar("SELECT 1 FROM patient_results WHERE run_id = ? AND patient_id = ?", [run, patientID]) != nil { return }
            switch outcome {
            case let .failure(reason):
                try db.run("INSERT INTO patient_results (run_id, patient_id, status, error, finished_at) VALUES (?, ?, 'failed', ?, ?)",
                           [run, patientID, reason, Self.now()])
            case let .success(series, digest, key, preprocessJSON, sliceDigest, computed, slices, patient, seconds):
                let sid = try seriesID(series, contentDigest: digest)
                if let computed, try !hasSliceCache(key) {
                    try insertSliceCache(key, seriesContent: digest, preprocessJSON: preprocessJSON, sliceDigest: sliceDigest, record: computed)
                }
                let p = patient.probabilities.map(Double.init), np = patient.nonParametricScores.map(Double.init)
                try db.run("""
                    INSERT INTO patient_results (run_id, patient_id, status, series_id, cache_key, reused, slice_count,
                        p0, p1, p2, p3, predicted, np0, np1, np2, np3, np_predicted, seconds, finished_at)
                    VALUES (?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [run, patientID, sid, key, computed == nil, slices.count, p[0], p[1], p[2], p[3], patient.prediction,
                          np[0], np[1], np[2], np[3], patient.nonParametricPrediction, seconds, Self.now()])
            }
        }
    }
}
