import Foundation

/// Compares a candidate run with a reference run of the same model (docs/drift.md).
///
/// Every factor is tested on patients (one value per patient, or per patient unit for the
/// features), never on pooled slices, since the slices of a patient are not independent.
/// All tested factors form one family whose p-values are Holm-adjusted, so that the chance of
/// any false "drift" over the whole report stays at most α.
public enum DriftAnalyzer {
    public static func analyze(store: AuditStore, reference: Int, candidate: Int, config: DriftConfig = DriftConfig()) throws -> DriftReport {
        try config.validate()
        guard reference != candidate else { throw DriftError("the reference and the candidate are the same run (\(reference))") }
        let ref = try DriftCohort.load(store, run: reference, config: config, seed: config.seed)
        let cand = try DriftCohort.load(store, run: candidate, config: config, seed: config.seed &+ 1)
        var notes = ref.notes + cand.notes
        if ref.run.modelID != cand.run.modelID {
            notes.append("the runs use different models (\(ref.run.modelID.map(String.init) ?? "none") vs \(cand.run.modelID.map(String.init) ?? "none")): output and feature drift may come from the model")
        }
        if ref.patients.isEmpty || cand.patients.isEmpty {
            throw DriftError("run \(ref.patients.isEmpty ? reference : candidate) has no successful patient to compare")
        }
        return try analyze(reference: ref, candidate: cand, config: config, notes: notes)
    }

    public static func analyze(reference ref: DriftCohort, candidate cand: DriftCohort, config: DriftConfig, notes: [String] = []) throws -> DriftReport {
        var notes = notes
        var factors: [DriftFactor] = []
        let classes = Diagnosis.allCases.map(\.name)
        let minN = config.minimumPatients

        func categorical(_ id: String, _ group: DriftFactor.Group, _ name: String, _ value: (DriftCohort.Patient) -> String?) {
            guard config.enabled(id) else { return }
            var r: [String: Int] = [:], c: [String: Int] = [:]
            for p in ref.patients { r[value(p) ?? "(missing)", default: 0] += 1 }
            for p in cand.patients { c[value(p) ?? "(missing)", default: 0] += 1 }
            let t = CategoricalTest(reference: r, candidate: c, permutations: config.permutations, seed: config.seed)
            let minimum = config.minimumEffect(id, default: config.minimumTotalVariation)
            let enough = ref.patients.count >= minN && cand.patients.count >= minN
            func top(_ counts: [Int]) -> String {
                let n = counts.reduce(0, +)
                guard n > 0, let k = counts.indices.max(by: { counts[$0] < counts[$1] }) else { return "-" }
                return "\(t.categories[k]) (\(Int((100 * Double(counts[k]) / Double(n)).rounded()))%)"
            }
            factors.append(DriftFactor(
                id: id, group: group, name: name, unit: "", test: t.method == .none || !enough ? "none" :
                    (t.method == .chiSquare ? "chi_square" : "chi_square_permutation"),
                statistic: t.method == .none || !enough ? nil : t.statistic, p: t.method == .none || !enough ? nil : t.p,
                pAdjusted: nil, effectName: "total_variation", effect: t.totalVariation, minimumEffect: minimum,
                categorical: t, verdict: enough ? .stable : .insufficient,
                description: "\(name) \(top(t.candidate)) vs \(top(t.reference))"))
        }

        func numeric(_ id: String, _ group: DriftFactor.Group, _ name: String, _ unit: String, psi: Bool = false,
                     _ value: (DriftCohort.Patient) -> Double?) {
            guard config.enabled(id) else { return }
            let a = ref.patients.compactMap(value).filter(\.isFinite), b = cand.patients.compactMap(value).filter(\.isFinite)
            let minimum = config.minimumEffect(id, default: config.minimumKS)
            var f = DriftFactor(id: id, group: group, name: name, unit: unit, test: "none", effectName: "ks_d",
                                minimumEffect: minimum, minimumShift: config.minimumShift(id),
                                reference: DriftFactor.summary(a), candidate: DriftFactor.summary(b),
                                verdict: .insufficient, description: name)
            if let mr = f.reference?.median, let mc = f.candidate?.median {
                f.shift = mc - mr
                f.ratio = mr != 0 ? mc / mr : nil
                f.description = "\(name) \(Self.format(mc, unit)) vs \(Self.format(mr, unit))" + Self.change(mc, mr, unit: id == "image.noise_index" ? "" : unit)
            }
            if a.count >= minN && b.count >= minN {
                let ks = KolmogorovSmirnov(a, b)
                f.test = ks.method == .exact ? "ks_exact" : "ks_asymptotic"
                f.statistic = ks.statistic
                f.p = ks.p
                f.effect = ks.statistic
                f.verdict = .stable
                if psi {
                    f.psi = PopulationStability(reference: a, candidate: b, minimumPerBin: config.psiMinimumPerBin, maximumBins: config.psiMaximumBins)
                }
            }
            factors.append(f)
        }

        // (a) Acquisition metadata.
        categorical("metadata.manufacturer", .metadata, "manufacturer") { $0.manufacturer }
        categorical("metadata.model", .metadata, "scanner model") { $0.model }
        categorical("metadata.kernel", .metadata, "kernel") { $0.kernel }
        numeric("metadata.slice_thickness", .metadata, "slice thickness", "mm") { $0.sliceThickness }
        numeric("metadata.pixel_spacing", .metadata, "pixel spacing", "mm") { $0.pixelSpacing }
        numeric("metadata.kvp", .metadata, "kVp", "kV") { $0.kvp }
        numeric("metadata.exposure", .metadata, "exposure", "mAs") { $0.exposure }
        // (b) Image statistics.
        numeric("image.hu_air", .image, "outside air", "HU") { $0.image?.air }
        numeric("image.hu_fat", .image, "fat", "HU") { $0.image?.fat }
        numeric("image.hu_lung", .image, "lung median", "HU") { $0.image?.lung }
        numeric("image.noise_index", .image, "noise index", "HU") { $0.image?.noise }
        numeric("image.edge_width", .image, "edge width", "mm") { $0.image?.edgeWidth }
        numeric("image.lung_volume", .image, "lung volume", "mL") { $0.lungVolume }
        numeric("image.slice_count", .image, "slice count", "") { Double($0.sliceCount) }
        categorical("image.crop_failures", .image, "patients with a failed lung crop") { $0.cropFailures > 0 ? "some crop failed" : "all crops found" }
        // (c) Model outputs.
        categorical("outputs.predicted_class", .outputs, "predicted class") { classes[$0.predicted] }
        for (k, name) in classes.enumerated() {
            numeric("outputs.score_\(name)", .outputs, "p(\(name))", "", psi: true) { $0.probabilities[k] }
        }
        numeric("outputs.confidence", .outputs, "confidence (max probability)", "", psi: true) { $0.probabilities.max() }
        numeric("outputs.lesion_burden", .outputs, "lesion burden (mean slice lesion probability)", "") { $0.lesionBurden }
        // (d) Features.
        for (id, name, r, c) in [("features.patient", "patient features", ref.patientFeatures, cand.patientFeatures),
                                 ("features.slice", "slice features", ref.sliceFeatures, cand.sliceFeatures)] where config.enabled(id) {
            let minimum = config.minimumEffect(id, default: config.minimumMMD)
            var f = DriftFactor(id: id, group: .features, name: name, unit: "", test: "none", effectName: "mmd2",
                                minimumEffect: minimum, verdict: .insufficient, description: name)
            if r.count >= minN && c.count >= minN && (r.first?.first?.count ?? 0) > 0 {
                let m = MaximumMeanDiscrepancy(reference: r, candidate: c, permutations: config.permutations, seed: config.seed)
                f.test = "mmd_permutation"; f.statistic = m.statistic; f.p = m.p; f.effect = m.statistic; f.mmd = m
                f.verdict = .stable
                f.description = "\(name) MMD² \(Self.format(m.statistic, "")) (\(m.referenceUnits) vs \(m.candidateUnits) patients)"
            }
            factors.append(f)
        }
        // (e) Performance.
        let performance = try Self.performance(ref, cand, config: config)
        if let ra = performance.referenceAccuracy, let ca = performance.candidateAccuracy, config.enabled("performance.accuracy") {
            let t = CategoricalTest(reference: ["right": ra.count, "wrong": ra.total - ra.count],
                                    candidate: ["right": ca.count, "wrong": ca.total - ca.count],
                                    permutations: config.permutations, seed: config.seed)
            let drop = (ra.value ?? 0) - (ca.value ?? 0)
            let enough = ra.total >= minN && ca.total >= minN
            factors.append(DriftFactor(
                id: "performance.accuracy", group: .performance, name: "accuracy", unit: "",
                test: enough && t.method != .none ? (t.method == .chiSquare ? "two_proportion_chi_square" : "chi_square_permutation") : "none",
                statistic: enough ? t.statistic : nil, p: enough ? t.p : nil, pAdjusted: nil,
                effectName: "accuracy_drop", effect: drop, minimumEffect: config.minimumEffect("performance.accuracy", default: config.minimumAccuracyDrop),
                categorical: t, verdict: enough ? .stable : .insufficient,
                description: "accuracy \(Self.format(ca.value ?? 0, "")) vs \(Self.format(ra.value ?? 0, ""))"))
        }

        // Holm over every tested factor, then the verdicts.
        let tested = factors.indices.filter { factors[$0].p != nil }
        let adjusted = HolmCorrection.adjust(tested.map { factors[$0].p! })
        for (k, i) in tested.enumerated() {
            factors[i].pAdjusted = adjusted[k]
            let significant = adjusted[k] < config.alpha
            var large = (factors[i].effectName == "accuracy_drop" ? (factors[i].effect ?? 0) : abs(factors[i].effect ?? 0)) >= factors[i].minimumEffect
            if let s = factors[i].minimumShift, let shift = factors[i].shift, abs(shift) < s { large = false }
            factors[i].verdict = significant ? (large ? .drift : .negligible) : (large ? .inconclusive : .stable)
        }
        let drifting = factors.filter { $0.verdict == .drift }
        let overall: DriftReport.Overall = drifting.contains { $0.group.reachesOutputs } ? .outputDrift
            : (drifting.isEmpty ? .noDrift : .inputDrift)
        let ranked = Self.rankContributors(drifting).prefix(config.topFactors)
        let top = ranked.map(\.description)
        let inconclusive = factors.filter { $0.verdict == .inconclusive }.map(\.name)
        if !inconclusive.isEmpty {
            notes.append("large but not significant (more patients needed): " + inconclusive.joined(separator: ", "))
        }
        let insufficient = factors.filter { $0.verdict == .insufficient }.map(\.name)
        if !insufficient.isEmpty {
            notes.append("not tested, fewer than \(minN) measured patients on a side: " + insufficient.joined(separator: ", "))
        }
        func info(_ c: DriftCohort) -> DriftReport.RunInfo {
            .init(id: c.run.id, label: c.run.label, patients: c.patients.count, labelled: c.patients.filter { $0.label != nil }.count,
                  imagePatients: c.patients.filter { $0.image != nil }.count)
        }
        var report = DriftReport(reference: info(ref), candidate: info(cand), overall: overall, topFactors: Array(top), factors: factors,
                                 performance: performance, config: config,
                                 multipleTesting: "Holm step-down over the \(tested.count) tested factors, family-wise error rate \(config.alpha)",
                                 notes: notes)
        report.topFactorIDs = ranked.map(\.id)
        return report
    }

    /// The drifting factors in the order the summary names them: first what the inputs are
    /// (acquisition metadata, image statistics: the causes a person can act on), then what the
    /// model says (outputs, accuracy), then the model's features (a consequence of any input
    /// shift). Within a rank, by effect / minimum effect; ties (common with small cohorts,
    /// where KS D = 1 for every fully separated factor) by the median shift in pooled
    /// interquartile ranges, then by p and id.
    static func rankContributors(_ drifting: [DriftFactor]) -> [DriftFactor] {
        func rank(_ g: DriftFactor.Group) -> Int {
            switch g {
            case .metadata, .image: return 0
            case .outputs, .performance: return 1
            case .features: return 2
            }
        }
        func standardisedShift(_ f: DriftFactor) -> Double {
            guard let shift = f.shift, let r = f.reference, let c = f.candidate,
                  let rq1 = r.q1, let rq3 = r.q3, let cq1 = c.q1, let cq3 = c.q3 else { return 0 }
            let spread = ((rq3 - rq1) + (cq3 - cq1)) / 2
            return spread > 0 ? abs(shift) / spread : (shift == 0 ? 0 : .greatestFiniteMagnitude)
        }
        return drifting.sorted { a, b in
            if rank(a.group) != rank(b.group) { return rank(a.group) < rank(b.group) }
            let sa = (a.severity * 1e9).rounded(), sb = (b.severity * 1e9).rounded()
            if sa != sb { return sa > sb }
            let ta = standardisedShift(a), tb = standardisedShift(b)
            if ta != tb { return ta > tb }
            if (a.pAdjusted ?? 1) != (b.pAdjusted ?? 1) { return (a.pAdjusted ?? 1) < (b.pAdjusted ?? 1) }
            return a.id < b.id
        }
    }

    static func performance(_ ref: DriftCohort, _ cand: DriftCohort, config: DriftConfig) throws -> DriftReport.Performance {
        func set(_ c: DriftCohort) -> PredictionSet {
            PredictionSet(source: "run\(c.run.id)", metadataColumns: [], patients: c.patients.map {
                PatientPrediction(patientID: $0.patientID, label: $0.label.flatMap { Diagnosis(rawValue: $0) },
                                  probabilities: $0.probabilities, metadata: [:])
            })
        }
        let options = StatisticsOptions(seed: config.seed, resamples: 0)
        let re = ref.patients.contains { $0.label != nil } ? try Evaluator.evaluate(set(ref), options: options) : nil
        let ce = cand.patients.contains { $0.label != nil } ? try Evaluator.evaluate(set(cand), options: options) : nil
        func confidence(_ c: DriftCohort) -> Double {
            c.patients.map { $0.probabilities.max() ?? 0 }.reduce(0, +) / Double(max(1, c.patients.count))
        }
        let rc = confidence(ref), cc = confidence(cand)
        return .init(referenceAccuracy: re?.accuracy, candidateAccuracy: ce?.accuracy, referenceConfidence: rc, candidateConfidence: cc,
                     estimatedAccuracy: cc, estimatedAccuracyDoC: re?.accuracy.value.map { $0 - (rc - cc) },
                     assumption: "average confidence (mean of max_k p_k) estimates accuracy only if the model is calibrated on the candidate's distribution; drift often makes models over-confident, so this is an upper estimate. The difference-of-confidences estimate assumes the calibration gap measured on the reference carries over.",
                     reference: re, candidate: ce)
    }

    static func format(_ v: Double, _ unit: String) -> String {
        let a = abs(v)
        let s: String
        if a == 0 { s = "0" } else if a >= 100 { s = String(format: "%.0f", v) } else if a >= 10 { s = String(format: "%.1f", v) }
        else if a >= 0.01 { s = String(format: "%.3g", v) } else { s = String(format: "%.2e", v) }
        return unit.isEmpty ? s : "\(s) \(unit)"
    }

    static func change(_ candidate: Double, _ reference: Double, unit: String) -> String {
        if unit == "HU" && !(candidate == reference) { return " (\(candidate > reference ? "+" : "")\(format(candidate - reference, unit)))" }
        if reference > 0 && candidate > 0 && candidate != reference { return String(format: " (x%.2g)", candidate / reference) }
        return ""
    }
}
