import Foundation
import Model

/// One patient of a synthetic cohort, decided before any image is drawn.
public struct PatientPlan: Sendable {
    public var index: Int
    public var id: String
    public var diagnosis: Diagnosis
    public var severity: Severity
    public var motion: CardiacMotion?
    /// An acquisition problem (metal, contrast, truncated coverage, missing slices, a field of
    /// view inside the body), if any.
    public var defect: AcquisitionDefect? = nil
}

/// The truth of one output slice.
public struct SliceTruth: Sendable {
    /// Position in ascending z (the spec's slice order).
    public var index: Int
    public var instanceNumber: Int
    public var file: String
    public var z: Double
    public var lungArea: Double
    public var lesionArea: Double
    public var artifactArea: Double
}

/// A generated patient: the plan, what was drawn, and where it was written.
public struct PatientRecord: Sendable {
    public var plan: PatientPlan
    public var sex: String
    public var age: Int
    public var pattern: String
    public var lesionVolumeML: Double
    public var studyUID: String
    public var seriesUID: String
    public var slices: [SliceTruth]
    public var artifact: ArtifactReport?
    /// The image noise the scanner simulation added (HU standard deviation at this patient's width).
    public var noiseHU = 0.0
    /// What the defect drew, e.g. "blood 245 HU" (empty without one).
    public var defectDetail = ""
    /// Slices of the rendered volume (ascending z) left out of the written series (the `gap`
    /// defect); `slices` holds only the written ones.
    public internal(set) var missing: Set<Int> = []
    /// Slices with at least `SyntheticCohort.lesionSliceArea` mm2 of lesion.
    public var lesionSlices: Int { slices.filter { $0.lesionArea >= SyntheticCohort.lesionSliceArea }.count }
}

/// The synthetic cohort generator: plans the patients from the options, renders each one
/// (anatomy, disease, cardiac motion, scanner) and writes a DICOM CT series per patient,
/// the manifest and the slice truth.
public enum SyntheticCohort {
    /// A slice counts as a lesion slice from this much lesion area (mm2).
    public static let lesionSliceArea = 20.0

    /// Who gets what: class counts from the mix by largest remainder, assigned in a seeded
    /// random order; per class, `round(rate * count)` patients get an artifact; diseased
    /// patients get a severity (mild 30%, moderate 40%, severe 30%).
    public static func plan(_ o: SynthOptions) throws -> [PatientPlan] {
        try o.validate()
        let total = o.mix.reduce(0, +)
        let exact = o.mix.map { $0 / total * Double(o.patients) }
        var counts = exact.map { Int($0.rounded(.down)) }
        let order = (0..<4).sorted { (exact[$0] - Double(counts[$0]), -$0) > (exact[$1] - Double(counts[$1]), -$1) }
        var left = o.patients - counts.reduce(0, +)
        for c in order where left > 0 { counts[c] += 1; left -= 1 }
        var labels: [Diagnosis] = []
        for c in 0..<4 { labels += Array(repeating: Diagnosis(rawValue: c)!, count: counts[c]) }
        var rng = SynthRandom(seed: o.seed, 0x504C_414E)              // "PLAN"
        rng.shuffle(&labels)
        var withArtifact = Set<Int>()
        for c in 0..<4 {
            var members = labels.indices.filter { labels[$0].rawValue == c }
            rng.shuffle(&members)
            let n = Int((o.artifactRate * Double(members.count)).rounded())
            withArtifact.formUnion(members.prefix(n))
        }
        let defects = AcquisitionDefect.assign(o.defects, patients: o.patients, seed: o.seed)
        return labels.enumerated().map { i, d in
            var prng = SynthRandom(seed: o.seed, 0x5345_5645, UInt64(i))   // "SEVE"
            let severity: Severity = d == .healthy ? .none : [.mild, .moderate, .severe][prng.pick(weights: [0.3, 0.4, 0.3])]
            let motion = withArtifact.contains(i) ? CardiacMotion.random(amplitude: o.artifactAmplitude, rng: &prng) : nil
            return PatientPlan(index: i, id: String(format: "%@%04d", o.idPrefix, i + 1), diagnosis: d, severity: severity, motion: motion,
                               defect: defects[i])
        }
    }

    /// Renders one patient: the output volume (after the scanner; with the slices a `gap` defect
    /// leaves out of the series, `record.missing`), its truth flags, the fine (pre-scanner)
    /// truth's lesion volume, and the record (without file names).
    public static func render(_ plan: PatientPlan, options o: SynthOptions) throws -> (volume: CTVolume, truth: [UInt8], record: PatientRecord) {
        var p = o.profile
        let i = UInt64(plan.index)
        var rngA = SynthRandom(seed: o.seed, 1, i)
        let anatomy = ChestAnatomy(rng: &rngA, halfFOV: p.fieldOfView / 2)
        var rngT = SynthRandom(seed: o.seed, 2, i)
        var phantom = ChestPhantom(anatomy: anatomy, rng: &rngT)
        // Acquisition defects draw from their own stream, so every other draw is unchanged.
        var rngX = SynthRandom(seed: o.seed, 8, i)
        var detail = ""
        if plan.defect == .smallFOV {
            // A reconstruction field of view narrower than the lungs, centred on the scanner's axis.
            p.fieldOfView = (2 * anatomy.cavityHalfWidth * rngX.uniform(0.72, 0.9)).rounded()
            detail = String(format: "field of view %.0f mm (lungs %.0f mm wide)", p.fieldOfView, 2 * anatomy.cavityHalfWidth)
        }
        if plan.defect == .contrast {
            let blood = rngX.uniform(170, 320)
            phantom.contrastBloodHU = blood
            detail = String(format: "blood %.0f HU", blood)
        }
        // Fine grid: whole output slices covering the scan range.
        let span = anatomy.scanHigh - anatomy.scanLow
        let m = max(1, Int(((span / p.renderSpacing - Double(p.thicknessFactor)) / Double(p.spacingFactor)).rounded(.up)))
        let fineCount = p.thicknessFactor + p.spacingFactor * m
        let px = p.pixelSpacing
        let half = p.fieldOfView / 2 - px / 2
        var fine = CTVolume(rows: p.matrix, columns: p.matrix, slices: fineCount, columnSpacing: px, rowSpacing: px,
                            sliceSpacing: p.renderSpacing, origin: (-half, -half, anatomy.scanLow + anatomy.shiftZ))
        var truth = phantom.render(into: &fine)
        var rngD = SynthRandom(seed: o.seed, 3, i)
        // Paracardiac involvement: its own stream, so every other draw is unchanged.
        let rngP = SynthRandom(seed: o.seed, 7, i)
        let pattern = DiseasePattern.apply(plan.diagnosis, severity: plan.severity, phantom: phantom,
                                           volume: &fine, truth: &truth, rng: &rngD, paracardiac: rngP)
        let lesionVoxels = truth.reduce(0) { $0 + ($1 & VoxelTruth.lesion.rawValue != 0 ? 1 : 0) }
        var report: ArtifactReport?
        if let motion = plan.motion {
            let heart = truth.map { $0 & VoxelTruth.heart.rawValue != 0 }
            report = try truth.withUnsafeMutableBufferPointer {
                try CardiacMotionArtifact.apply(motion, to: &fine, heart: heart, truth: $0)
            }
        }
        if plan.defect == .metal {
            let n = MetalImplant.apply(to: &fine, anatomy: anatomy, rng: &rngX)
            detail = String(format: "pacemaker on %d rendered slices of %.1f mm", n, fine.sliceSpacing)
        }
        var rngN = SynthRandom(seed: o.seed, 5, i)
        var (out, outTruth) = ScannerSimulation.apply(p, to: fine, truth: truth, patientWidth: 2 * anatomy.a, rng: &rngN)
        var t = outTruth ?? []
        let n2 = out.rows * out.columns
        func lungRange() -> ClosedRange<Int>? {
            let withLung = (0..<out.slices).filter { k in (0..<n2).contains { t[k * n2 + $0] & VoxelTruth.lung.rawValue != 0 } }
            guard let a = withLung.first, let b = withLung.last else { return nil }
            return a...b
        }
        var missing = Set<Int>()
        if plan.defect == .truncated, let lung = lungRange() {
            let f = rngX.uniform(0.08, 0.35)
            let cut = max(1, Int((f * Double(lung.count)).rounded()))
            let top = rngX.bernoulli(0.5)
            let keep = top ? 0..<(lung.upperBound + 1 - cut) : (lung.lowerBound + cut)..<out.slices
            out = out.keeping(slices: keep)
            t = Array(t[(keep.lowerBound * n2)..<(keep.upperBound * n2)])
            detail = String(format: "%d of %d lung slices cut at the %@ (%.0f%%)", cut, lung.count, top ? "apex" : "base", 100 * Double(cut) / Double(lung.count))
        }
        if plan.defect == .gap, let lung = lungRange() {
            let count = 1 + rngX.int(below: 3)
            let lo = lung.lowerBound + lung.count / 5, hi = lung.upperBound - lung.count / 5 - count
            let start = lo + rngX.int(below: max(1, hi - lo + 1))
            missing = Set(start..<(start + count))
            detail = String(format: "%d slice(s) missing at z %.1f mm", count, out.z(start))
        }
        var slices: [SliceTruth] = []
        for k in 0..<out.slices {
            var lung = 0, lesion = 0, art = 0
            for v in (k * n2)..<((k + 1) * n2) {
                let f = t[v]
                if f & VoxelTruth.lung.rawValue != 0 { lung += 1 }
                if f & VoxelTruth.lesion.rawValue != 0 { lesion += 1 }
                if f & VoxelTruth.artifact.rawValue != 0 { art += 1 }
            }
            let a = out.pixelAreaMM2
            slices.append(SliceTruth(index: k, instanceNumber: out.slices - k, file: "", z: out.z(k),
                                     lungArea: Double(lung) * a, lesionArea: Double(lesion) * a, artifactArea: Double(art) * a))
        }
        let studyUID = SyntheticUID.make([o.uidKey, i, 1])
        let seriesUID = SyntheticUID.make([o.uidKey, i, 2])
        // Missing slices leave the series (their instance numbers stay unused, as when files are lost).
        slices = slices.filter { !missing.contains($0.index) }
        for j in slices.indices { slices[j].index = j }
        let record = PatientRecord(plan: plan, sex: anatomy.sex, age: anatomy.age, pattern: pattern,
                                   lesionVolumeML: Double(lesionVoxels) * fine.voxelVolumeML,
                                   studyUID: studyUID, seriesUID: seriesUID, slices: slices, artifact: report,
                                   noiseHU: ScannerSimulation.noiseSigma(p, patientWidth: 2 * anatomy.a),
                                   defectDetail: detail, missing: missing)
        return (out, t, record)
    }

    /// Generates the cohort into `directory`: `<id>/IM0001.dcm ...` (instance 1 is the
    /// highest slice), `manifest.csv`, `slices.csv` and, with `truthMasks`,
    /// `truth/<id>.safetensors`. `progress` is called after each patient (from any thread).
    @discardableResult
    public static func write(_ o: SynthOptions, to directory: String,
                             progress: (@Sendable (PatientRecord) -> Void)? = nil) throws -> [PatientRecord] {
        let plans = try plan(o)
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if o.truthMasks { try fm.createDirectory(atPath: directory + "/truth", withIntermediateDirectories: true) }
        } catch {
            throw SynthError.writeFailed(path: directory, reason: (error as NSError).localizedDescription)
        }
        let results = ResultBox(count: plans.count)
        let threads = max(1, min(o.threads, plans.count))
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while let j = results.take() {
                do {
                    let r = try writePatient(plans[j], options: o, directory: directory)
                    results.set(j, .success(r))
                    progress?(r)
                } catch {
                    results.set(j, .failure(error))
                }
            }
        }
        var records: [PatientRecord] = []
        let all = results.all()
        for case .failure(let e)? in all { throw e }
        for r in all {
            switch r {
            case .success(let rec): records.append(rec)
            case .failure(let e): throw e
            case nil: throw SynthError.writeFailed(path: directory, reason: "a patient was not generated")
            }
        }
        try writeManifest(records, options: o, to: directory + "/manifest.csv")
        try writeSliceTruth(records, to: directory + "/slices.csv")
        return records
    }

    static func writePatient(_ plan: PatientPlan, options o: SynthOptions, directory: String) throws -> PatientRecord {
        var (volume, truth, record) = try render(plan, options: o)
        let p = o.profile
        let dir = directory + "/" + plan.id
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw SynthError.writeFailed(path: dir, reason: (error as NSError).localizedDescription)
        }
        var rng = SynthRandom(seed: o.seed, 6, UInt64(plan.index))
        let day = rng.int(below: 1400)
        let date = Self.date(daysAfter2019: day)
        let time = String(format: "%02d%02d%02d", 8 + rng.int(below: 10), rng.int(below: 60), rng.int(below: 60))
        var d = CTSliceDescription(studyInstanceUID: record.studyUID, seriesInstanceUID: record.seriesUID)
        d.patientID = plan.id
        d.patientName = "Synthetic^\(plan.id)"
        d.seriesNumber = 2
        d.seriesDescription = String(format: "Chest %.1f %@", p.sliceThickness, p.kernel)
        d.studyDate = date
        d.acquisitionDate = date
        d.manufacturer = p.manufacturer
        d.manufacturerModelName = p.model
        d.convolutionKernel = p.kernel
        d.kvp = p.kvp
        d.exposure = p.exposure
        d.xRayTubeCurrent = p.tubeCurrent
        d.pixelSpacing = [volume.rowSpacing, volume.columnSpacing]
        d.sliceThickness = p.sliceThickness
        d.bitsStored = p.bitsStored
        d.signed = p.signed
        d.rescaleIntercept = p.rescaleIntercept
        d.paddingValue = p.paddingValue
        let birthYear = Int(date.prefix(4))! - record.age
        let frameUID = SyntheticUID.make([o.uidKey, UInt64(plan.index), 3])
        let n2 = volume.rows * volume.columns
        // Outside the reconstruction circle (for profiles with padding).
        var outsideCircle: [Bool] = []
        if p.paddingValue != nil {
            let rad = p.fieldOfView / 2
            outsideCircle = (0..<n2).map { i in
                let x = volume.x(i % volume.columns), y = volume.y(i / volume.columns)
                return x * x + y * y > rad * rad
            }
        }
        var written = 0
        for k in 0..<volume.slices where !record.missing.contains(k) {
            let instance = volume.slices - k
            let file = String(format: "IM%04d.dcm", instance)
            record.slices[written].file = plan.id + "/" + file
            written += 1
            d.instanceNumber = instance
            d.sopInstanceUID = SyntheticUID.make([o.uidKey, UInt64(plan.index), 4, UInt64(instance)])
            d.position = [volume.origin.x, volume.origin.y, volume.z(k)]
            d.extra = [
                (DicomTag(0x0008, 0x0005), "ISO_IR 100"),
                (DicomTag(0x0008, 0x0021), date), (DicomTag(0x0008, 0x0023), date),
                (DicomTag(0x0008, 0x0030), time), (DicomTag(0x0008, 0x0031), time),
                (DicomTag(0x0008, 0x0032), time), (DicomTag(0x0008, 0x0033), time),
                (DicomTag(0x0008, 0x0050), String(format: "SYN%06d", plan.index + 1)),
                (DicomTag(0x0008, 0x0090), ""),
                (DicomTag(0x0008, 0x1030), "CT CHEST (synthetic)"),
                (DicomTag(0x0010, 0x0030), String(format: "%04d0101", birthYear)),
                (DicomTag(0x0010, 0x0040), record.sex),
                (DicomTag(0x0010, 0x1010), String(format: "%03dY", record.age)),
                (DicomTag(0x0018, 0x0022), "HELICAL MODE"),
                (DicomTag(0x0018, 0x0088), String(format: "%.10g", volume.sliceSpacing)),
                (DicomTag(0x0018, 0x1150), String(Int((p.rotationTime * 1000).rounded()))),
                (DicomTag(0x0018, 0x5100), "FFS"),
                (DicomTag(0x0020, 0x0010), String(format: "%d", plan.index + 1)),
                (DicomTag(0x0020, 0x0012), "1"),
                (DicomTag(0x0020, 0x0052), frameUID),
                (DicomTag(0x0020, 0x1040), ""),
                (DicomTag(0x0020, 0x1041), String(format: "%.10g", volume.z(k))),
                (DicomTag(0x0028, 0x1050), "-600"), (DicomTag(0x0028, 0x1051), "1500"),
            ]
            let hu = Array(volume.hu[(k * n2)..<((k + 1) * n2)])
            var stored = d.storedValues(hu: hu)
            if let pad = p.paddingValue { for i in 0..<n2 where (outsideCircle[i]) { stored[i] = pad } }
            do {
                try d.write(stored: stored, rows: volume.rows, columns: volume.columns, to: dir + "/" + file, syntax: p.syntax)
            } catch let e as IngestError {
                throw SynthError.writeFailed(path: dir + "/" + file, reason: e.description)
            }
        }
        if o.truthMasks {
            var w = SafeTensorsWriter()
            w.metadata = ["patient_id": plan.id, "flags": "1 lung, 2 lesion, 4 heart, 8 artifact, 16 airway, 32 body, 64 left lung",
                          "order": "ascending z (slice_index of slices.csv)"]
            let kept = (0..<volume.slices).filter { !record.missing.contains($0) }
            let labels = record.missing.isEmpty ? truth : kept.flatMap { truth[($0 * n2)..<(($0 + 1) * n2)] }
            w.add("labels", shape: [kept.count, volume.rows, volume.columns], .u8(labels))
            do { try w.write(to: URL(fileURLWithPath: directory + "/truth/" + plan.id + ".safetensors")) } catch {
                throw SynthError.writeFailed(path: directory + "/truth/" + plan.id + ".safetensors", reason: "\(error)")
            }
        }
        volume.hu = []
        return record
    }

    static func date(daysAfter2019 days: Int) -> String {
        var c = DateComponents()
        c.year = 2019; c.month = 12; c.day = 1 + days
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let d = cal.date(from: c)!
        let p = cal.dateComponents([.year, .month, .day], from: d)
        return String(format: "%04d%02d%02d", p.year!, p.month!, p.day!)
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    public static let manifestColumns = ["patient_id", "path", "series_uid", "label", "profile", "scanner", "severity",
                                         "pattern", "artifact", "artifact_strength", "heart_rate", "rotation_time",
                                         "lesion_volume_ml", "lesion_slices", "slices", "slice_thickness", "sex", "age", "seed",
                                         "defect", "defect_detail", "noise_hu"]

    static func writeManifest(_ records: [PatientRecord], options o: SynthOptions, to path: String) throws {
        var text = manifestColumns.joined(separator: ",") + "\n"
        for r in records {
            let m = r.plan.motion
            let fields = [r.plan.id, r.plan.id, r.seriesUID, r.plan.diagnosis.name, o.profile.name,
                          o.profile.manufacturer + " " + o.profile.model, r.plan.severity.rawValue, r.pattern,
                          m == nil ? "no" : "yes", String(format: "%.1f", m?.amplitude ?? 0),
                          m.map { String(format: "%.0f", $0.heartRate) } ?? "",
                          m.map { String(format: "%.2f", $0.rotationTime) } ?? "",
                          String(format: "%.1f", r.lesionVolumeML), String(r.lesionSlices), String(r.slices.count),
                          String(format: "%.1f", o.profile.sliceThickness), r.sex, String(r.age), String(o.seed),
                          r.plan.defect?.name ?? "none", r.defectDetail, String(format: "%.1f", r.noiseHU)]
            text += fields.map(csvField).joined(separator: ",") + "\n"
        }
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw SynthError.writeFailed(path: path, reason: (error as NSError).localizedDescription)
        }
    }

    static func writeSliceTruth(_ records: [PatientRecord], to path: String) throws {
        var text = "patient_id,slice_index,instance_number,file,z_mm,lung_area_mm2,lesion_area_mm2,lesion,artifact_area_mm2,artifact\n"
        for r in records {
            for s in r.slices {
                text += "\(r.plan.id),\(s.index),\(s.instanceNumber),\(s.file),\(String(format: "%.2f", s.z)),"
                text += String(format: "%.0f,%.0f,%d,%.0f,%d\n", s.lungArea, s.lesionArea, s.lesionArea >= lesionSliceArea ? 1 : 0,
                               s.artifactArea, s.artifactArea >= 50 ? 1 : 0)
            }
        }
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw SynthError.writeFailed(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Work queue and results shared by the generator's threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var results: [Result<PatientRecord, Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < results.count else { return nil }
        if results.contains(where: { if case .failure = $0 { return true }; return false }) { return nil }
        next += 1
        return next - 1
    }

    func set(_ i: Int, _ r: Result<PatientRecord, Error>) {
        lock.lock(); defer { lock.unlock() }
        results[i] = r
    }

    func all() -> [Result<PatientRecord, Error>?] {
        lock.lock(); defer { lock.unlock() }
        return results
    }
}
