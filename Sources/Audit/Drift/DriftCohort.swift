import Foundation

/// What the drift analysis keeps of one run: per-patient scalars (a few numbers each) for
/// every successful patient, and a bounded, seeded reservoir sample of feature vectors.
/// Patients are streamed from the store one at a time, so memory stays bounded by the
/// reservoir (`mmd_maximum_patients` × (1 + `mmd_slices_per_patient`) vectors) whatever the
/// cohort size.
public struct DriftCohort: Sendable {
    public struct Patient: Sendable {
        public var patientID: String
        public var label: Int?
        public var probabilities: [Double]
        public var predicted: Int
        public var manufacturer: String?
        public var model: String?
        public var kernel: String?
        public var sliceThickness: Double?
        public var pixelSpacing: Double?
        public var kvp: Double?
        public var exposure: Double?
        public var sliceCount: Int
        /// Σ lung area × pixel area × slice spacing, in mL.
        public var lungVolume: Double?
        public var cropFailures: Int
        /// Mean over slices of the slice lesion probability (lesion_p1).
        public var lesionBurden: Double
        /// Medians over the re-read slices (nil when not re-read or not measurable).
        public var image: SliceImageStatistics?
    }

    public var run: AuditStore.RunRecord
    public var patients: [Patient]
    /// Reservoir samples: one patient feature (mean of its slice features) per unit, and the
    /// slice features of `mmd_slices_per_patient` evenly spaced slices per unit.
    public var patientFeatures: [[[Float]]]
    public var sliceFeatures: [[[Float]]]
    public var notes: [String]

    /// Loads run `runID` from `store`. With `imageSlices` > 0, re-reads that many evenly
    /// spaced lung slices of each patient from the DICOM files named by the cohort manifest.
    public static func load(_ store: AuditStore, run runID: Int, config: DriftConfig, seed: UInt64) throws -> DriftCohort {
        guard let run = try store.run(id: runID) else { throw StoreError(path: store.path, message: "no run \(runID)") }
        var notes: [String] = []
        if run.status != "complete" { notes.append("run \(runID) is \(run.status), not complete") }
        let cohort = try store.cohortPatients(run.cohortID)
        var labels: [String: Int] = [:]
        for c in cohort { if let l = c.label { labels[c.patientID] = l } }
        // Manifest entries, to re-read pixels.
        var entries: [String: CohortManifest.Entry] = [:]
        if config.imageSlicesPerPatient > 0 {
            let path = try store.db.scalar("SELECT manifest_path FROM cohorts WHERE id = ?", [run.cohortID])?.string ?? ""
            if let m = try? CohortManifest(contentsOf: path, checkPaths: false) {
                for e in m.entries { entries[e.patientID] = e }
            } else {
                notes.append("run \(runID): the manifest \(path) cannot be read, so image statistics that need pixels are left out")
            }
        }
        let rows = try store.db.query("""
            SELECT r.patient_id, r.p0, r.p1, r.p2, r.p3, r.predicted, r.cache_key, s.metadata_json, s.series_uid
            FROM patient_results r LEFT JOIN series s ON s.id = r.series_id
            WHERE r.run_id = ? AND r.status = 'ok' ORDER BY r.patient_id
            """, [runID])
        var patients: [Patient] = []
        var rng = Xoshiro256StarStar(seed: seed)
        var reservoirPatient: [[[Float]]] = [], reservoirSlice: [[[Float]]] = []
        var seen = 0, unreadable = 0
        for row in rows {
            let pid = row[0].string ?? ""
            let probs = (1...4).map { row[$0].double ?? 0 }
            let meta = row[7].string.flatMap { try? JSONDecoder().decode(SeriesMetadata.self, from: Data($0.utf8)) }
            var p = Patient(patientID: pid, label: labels[pid], probabilities: probs, predicted: row[5].int ?? 0,
                            manufacturer: meta?.manufacturer, model: meta?.manufacturerModelName,
                            kernel: meta?.convolutionKernel, sliceThickness: meta?.sliceThickness,
                            pixelSpacing: meta?.pixelSpacing?.first, kvp: meta?.kvp, exposure: meta?.exposure,
                            sliceCount: 0, lungVolume: nil, cropFailures: 0, lesionBurden: 0, image: nil)
            guard let key = row[6].string, let record = try store.loadSliceResults(key) else {
                notes.append("patient \(pid) of run \(runID) has no stored slice outputs")
                continue
            }
            let r = record.results, n = r.count, d = r.featureDim
            p.sliceCount = n
            // Crop failures between the first and last slice with lung: a series' end slices
            // beyond the lungs have nothing to crop (the crop_failure flag counts the same way).
            let st = record.statistics
            if let lo = st.firstIndex(where: { $0.lungArea > 0 }), let hi = st.lastIndex(where: { $0.lungArea > 0 }) {
                p.cropFailures = st[lo...hi].filter(\.cropFailed).count
            } else {
                p.cropFailures = st.filter(\.cropFailed).count
            }
            p.lesionBurden = n > 0 ? (0..<n).map { Double(r.lesionProbs[2 * $0 + 1]) }.reduce(0, +) / Double(n) : 0
            let positions = record.slices.compactMap(\.position)
            var gaps = zip(positions.dropFirst(), positions).map { abs($0 - $1) }.filter { $0 > 0 }.sorted()
            if gaps.isEmpty, let t = p.sliceThickness { gaps = [t] }
            if let spacing = meta?.pixelSpacing, spacing.count >= 1, !gaps.isEmpty {
                let area = spacing[0] * (spacing.count > 1 ? spacing[1] : spacing[0])
                let dz = Bootstrap.quantile(sorted: gaps, 0.5)
                p.lungVolume = Double(record.statistics.reduce(0) { $0 + $1.lungArea }) * area * dz / 1000
            }
            // Features: the patient mean and evenly spaced lung slices.
            let lungSlices = (0..<n).filter { record.statistics[$0].lungArea > 0 }
            let pool = lungSlices.isEmpty ? Array(0..<n) : lungSlices
            let chosen = Self.evenlySpaced(pool, count: config.mmdSlicesPerPatient)
            if d > 0 && n > 0 {
                var mean = [Float](repeating: 0, count: d)
                for i in 0..<n { for k in 0..<d { mean[k] += r.features[i * d + k] } }
                for k in 0..<d { mean[k] /= Float(n) }
                let slices = chosen.map { Array(r.features[($0 * d)..<(($0 + 1) * d)]) }
                // Reservoir sampling (Algorithm R) over patients.
                seen += 1
                if reservoirPatient.count < config.mmdMaximumPatients {
                    reservoirPatient.append([mean])
                    reservoirSlice.append(slices)
                } else {
                    let j = rng.index(below: seen)
                    if j < config.mmdMaximumPatients {
                        reservoirPatient[j] = [mean]
                        reservoirSlice[j] = slices
                    }
                }
            }
            // Pixels.
            if config.imageSlicesPerPatient > 0, let entry = entries[pid] {
                do {
                    p.image = try Self.measure(entry: entry, seriesUID: row[8].string, slices: Self.evenlySpaced(pool, count: config.imageSlicesPerPatient))
                } catch {
                    unreadable += 1
                }
            }
            patients.append(p)
        }
        if unreadable > 0 { notes.append("run \(runID): the pixels of \(unreadable) patient(s) could not be re-read") }
        return DriftCohort(run: run, patients: patients, patientFeatures: reservoirPatient, sliceFeatures: reservoirSlice, notes: notes)
    }

    /// `count` evenly spaced members of `pool` (all of them when there are fewer):
    /// indices ⌊(k + ½)·|pool| / count⌋, k = 0…count−1.
    static func evenlySpaced(_ pool: [Int], count: Int) -> [Int] {
        guard pool.count > count else { return pool }
        return (0..<count).map { pool[Int((Double($0) + 0.5) * Double(pool.count) / Double(count))] }
    }

    /// Re-reads the chosen slices of a patient's series and takes each statistic's median.
    static func measure(entry: CohortManifest.Entry, seriesUID: String?, slices: [Int]) throws -> SliceImageStatistics? {
        let found = try SeriesDiscovery.scan(entry.paths)
        let series = try SeriesSelection.choose(from: found.series, override: seriesUID ?? entry.seriesUID, context: entry.rawPath)
        guard let g = series.geometry else { return nil }
        let spacing = series.metadata.pixelSpacing?.first ?? 1
        var all: [SliceImageStatistics] = []
        var buffer = [Float](repeating: 0, count: g.rows * g.columns)
        for i in slices where i < series.slices.count {
            let file = try DicomFile(path: series.slices[i].path)
            let info = try file.pixelInfo()
            guard info.rows == g.rows, info.columns == g.columns else { continue }
            try buffer.withUnsafeMutableBufferPointer { try file.decodeHU(frame: 0, into: $0) }
            all.append(buffer.withUnsafeBufferPointer { SliceImageStatistics(hu: $0, rows: g.rows, columns: g.columns, pixelSpacing: spacing) })
        }
        guard !all.isEmpty else { return nil }
        func med(_ k: KeyPath<SliceImageStatistics, Double?>) -> Double? {
            let v = all.compactMap { $0[keyPath: k] }.sorted()
            return v.isEmpty ? nil : Bootstrap.quantile(sorted: v, 0.5)
        }
        var s = all[0]
        s.air = med(\.air); s.fat = med(\.fat); s.lung = med(\.lung); s.noise = med(\.noise); s.edgeWidth = med(\.edgeWidth)
        return s
    }
}
