import Foundation
import Model

/// Computes every enabled flag for every successful patient of a run, from the store and a
/// re-read of each series (docs/flags.md). Per patient: the slices are re-read, analysed once
/// (`SliceAnatomy`), and handed to each detector; the noise flag compares each patient with
/// the reference median once all patients are measured; version flips compare with a baseline run.
public enum FlagEngine {
    /// Detectors that need only one patient (everything but the noise ratio and version flips).
    /// Returns the evaluations and the patient's noise index.
    public static func evaluate(_ c: FlagCase, config: FlagConfig) -> (evaluations: [FlagEvaluation], noiseIndex: Double) {
        let anatomy = analyse(c, config: config)
        var out: [FlagEvaluation] = []
        let hasPixels = anatomy.contains { $0 != nil }
        if config.isEnabled(.pulsatileArtifact) && hasPixels {
            out.append(PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config.pulsatile))
        }
        if config.isEnabled(.cropFailure) {
            out.append(CropFailureDetector.evaluate(c, anatomy: anatomy, lesionLevel: config.pulsatile.lesionLevel, config: config.cropFailure,
                                                    fieldOfView: config.fieldOfView))
        }
        if config.isEnabled(.truncatedCoverage) {
            out.append(CoverageDetector.evaluate(c, anatomy: anatomy, config: config.coverage, fieldOfView: config.fieldOfView))
        }
        if config.isEnabled(.wrongBodyPart) {
            out.append(BodyPartDetector.evaluate(c, anatomy: anatomy, config: config.bodyPart, fieldOfView: config.fieldOfView))
        }
        if config.isEnabled(.badGeometry) { out.append(GeometryDetector.evaluate(c, config: config.geometry)) }
        if config.isEnabled(.huMiscalibration) && hasPixels {
            out.append(HUCalibrationDetector.evaluate(c, anatomy: anatomy, config: config.calibration, fieldOfView: config.fieldOfView))
        }
        if config.isEnabled(.contrastEnhanced) && hasPixels {
            out.append(ContrastDetector.evaluate(c, anatomy: anatomy, config: config.contrast, fieldOfView: config.fieldOfView))
        }
        if config.isEnabled(.metal) && hasPixels { out.append(MetalDetector.evaluate(c, config: config.metal)) }
        if config.isEnabled(.lowConfidence) { out.append(ConfidenceDetector.evaluate(c, config: config.confidence)) }
        let noise = config.isEnabled(.heavyNoise) && hasPixels ? NoiseDetector.noiseIndex(c, anatomy: anatomy, config: config.noise) : .nan
        return (out, noise)
    }

    /// Each slice's anatomy (nil where the pixels were not read).
    public static func analyse(_ c: FlagCase, config: FlagConfig) -> [SliceAnatomy?] {
        c.slices.map { s in
            guard s.hu.count == c.rows * c.columns, c.rows > 4, c.columns > 4 else { return nil }
            return SliceAnatomy(hu: s.hu, rows: c.rows, cols: c.columns, rowMM: c.rowMM, colMM: c.colMM, settings: c.preprocess,
                                leftIsHighColumn: c.patientLeftIsHighColumn, posteriorIsHighRow: c.posteriorIsHighRow,
                                config: config.pulsatile)
        }
    }

    /// Computes the flags of run `id` (not stored: see `AuditStore.saveFlags`). `baseline` adds
    /// version flips against that run; `referenceNoise` is the noise reference median (else the
    /// configuration's, else this run's median); `model` is the run's model (see
    /// `model(store:run:)`; without it no counterfactual is measured). `progress` gets each
    /// patient id when done.
    public static func compute(store: AuditStore, run id: Int, config: FlagConfig, baseline: Int?, referenceNoise: Double?,
                               model: MLungSys? = nil,
                               progress: (String, Int, Int) -> Void = { _, _, _ in }) throws -> [PatientFlags] {
        let patients = try store.okPatients(run: id)
        let prior = try baseline.map { try store.predictions(run: $0) }
        var out: [PatientFlags] = []
        var noise: [Double] = []
        for (k, pid) in patients.enumerated() {
            var status = "ok", error: String?
            var c: FlagCase?
            do {
                c = try store.flagCase(run: id, patientID: pid, pixels: true)
            } catch let e as IngestError {
                status = "store-only"
                error = e.description
                c = try store.flagCase(run: id, patientID: pid, pixels: false)
            }
            guard var c else { continue }
            c.model = model
            let (evaluations, ni) = evaluate(c, config: config)
            var p = PatientFlags(patientID: pid, label: c.label?.rawValue, predicted: c.predicted, status: status, error: error,
                                 measurements: [:], findings: [])
            for e in evaluations {
                p.measurements[e.flag.rawValue] = e.measurements
                if let f = e.finding { p.findings.append(f) }
            }
            if config.isEnabled(.versionFlip), let prior, let b = baseline, let before = prior[pid] {
                let e = VersionFlipDetector.evaluate(predicted: c.predicted, prior: before, label: c.label, priorRun: b)
                p.measurements[e.flag.rawValue] = e.measurements
                if let f = e.finding { p.findings.append(f) }
            }
            if !ni.isNaN { p.measurements[FlagKind.heavyNoise.rawValue] = [FlagMeasurement("noise_index_hu", ni)] }
            noise.append(ni)
            out.append(p)
            progress(pid, k + 1, patients.count)
        }
        // Noise against the reference median.
        if config.isEnabled(.heavyNoise) {
            let valid = noise.filter { !$0.isNaN }.sorted()
            let reference = config.noise.referenceHU ?? referenceNoise ?? (valid.isEmpty ? Double.nan : valid[valid.count / 2])
            for i in out.indices where !noise[i].isNaN && !reference.isNaN {
                let e = NoiseDetector.evaluate(noiseIndex: noise[i], reference: reference, config: config.noise)
                out[i].measurements[e.flag.rawValue] = e.measurements
                if let f = e.finding { out[i].findings.append(f) }
            }
        }
        return out
    }

    /// Run `id`'s model (both networks), read again from the weight file it was added from. nil
    /// with the reason when it cannot be used: an imported run (no model), a weight file that
    /// moved or no longer reads, or one whose networks are not the ones the run used (digests).
    public static func model(store: AuditStore, run id: Int) throws -> (model: MLungSys?, unavailable: String?) {
        guard let run = try store.run(id: id), let (model, path) = try store.reportModel(run: run) else {
            return (nil, "run \(id) has no model (imported predictions)")
        }
        guard FileManager.default.fileExists(atPath: path) else { return (nil, "the weight file \(path) is not there any more") }
        let file: WeightFile
        do { file = try WeightFile(contentsOf: URL(fileURLWithPath: path)) } catch { return (nil, "\(error)") }
        guard file.patientNetworkDigest == model.patientDigest, file.sliceNetworkDigest == model.sliceDigest else {
            return (nil, "the networks in \(path) are not the ones run \(id) used (digest differs)")
        }
        return (MLungSys(weights: file), nil)
    }

    /// The median stored noise index of a run whose flags were computed (the reference for another run).
    public static func referenceNoise(store: AuditStore, run id: Int) throws -> Double? {
        let v = try store.loadFlags(run: id).compactMap { p in
            p.measurements[FlagKind.heavyNoise.rawValue]?.first { $0.name == "noise_index_hu" }?.value
        }.filter { !$0.isNaN }.sorted()
        return v.isEmpty ? nil : v[v.count / 2]
    }
}
