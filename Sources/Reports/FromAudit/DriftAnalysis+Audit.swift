import Foundation
public import Audit

/// The drift section of a stored run: `Audit`'s `DriftReport` (made by `DriftAnalyzer`) mapped
/// onto the report, with plots of the per-patient values of the main factors.
extension DriftAnalysis {
    /// Plain names of the tests and effect sizes.
    static func testName(_ t: String) -> String {
        switch t {
        case "ks_exact": return "KS (exact)"
        case "ks_asymptotic": return "KS (asymptotic)"
        case "chi_square": return "chi-square"
        case "chi_square_permutation": return "chi-square (perm.)"
        case "two_proportion_chi_square": return "chi-square (2×2)"
        case "mmd_permutation": return "MMD (perm.)"
        case "none": return "not tested"
        default: return t.replacingOccurrences(of: "_", with: " ")
        }
    }

    static func effectName(_ e: String) -> String {
        switch e {
        case "ks_d": return "KS D"
        case "total_variation": return "TV"
        case "mmd2": return "MMD²"
        case "accuracy_drop": return "drop"
        default: return e.replacingOccurrences(of: "_", with: " ")
        }
    }

    /// A patient's value of numeric factor `id` as `DriftAnalyzer` measures it (nil: a factor
    /// this mapping does not know, so it is not plotted).
    static func value(_ id: String) -> ((DriftCohort.Patient) -> Double?)? {
        switch id {
        case "metadata.slice_thickness": return { $0.sliceThickness }
        case "metadata.pixel_spacing": return { $0.pixelSpacing }
        case "metadata.kvp": return { $0.kvp }
        case "metadata.exposure": return { $0.exposure }
        case "image.hu_air": return { $0.image?.air }
        case "image.hu_fat": return { $0.image?.fat }
        case "image.hu_lung": return { $0.image?.lung }
        case "image.noise_index": return { $0.image?.noise }
        case "image.edge_width": return { $0.image?.edgeWidth }
        case "image.lung_volume": return { $0.lungVolume }
        case "image.slice_count": return { Double($0.sliceCount) }
        case "outputs.confidence": return { $0.probabilities.max() }
        case "outputs.lesion_burden": return { $0.lesionBurden }
        default:
            for (k, d) in Diagnosis.allCases.enumerated() where id == "outputs.score_\(d.name)" {
                return { $0.probabilities.count > k ? $0.probabilities[k] : nil }
            }
            return nil
        }
    }

    /// Cumulative-distribution plots at most.
    public static let maximumPlots = 6

    /// Factors whose values are re-read from the DICOM pixels.
    static let pixelFactors: Set<String> = ["image.hu_air", "image.hu_fat", "image.hu_lung", "image.noise_index", "image.edge_width"]

    static func rank(_ verdict: DriftFactor.Verdict) -> Int {
        switch verdict {
        case .drift: return 0
        case .inconclusive: return 1
        case .negligible: return 2
        case .stable: return 3
        case .insufficient: return 4
        }
    }

    /// The numeric factors that may be plotted, in order (at most `maximum`): drifting first,
    /// then inconclusive, negligible and stable ones, each by effect over its minimum. Only
    /// tested factors this mapping can recompute per patient. The section plots the first
    /// `maximumPlots` whose values are not one constant on both sides.
    public static func plottedFactors(_ report: DriftReport, maximum: Int = 10) -> [String] {
        let numeric = report.factors.filter { $0.effectName == "ks_d" && $0.effect != nil && value($0.id) != nil }
        return numeric.sorted { a, b in
            let ra = rank(a.verdict), rb = rank(b.verdict)
            if ra != rb { return ra < rb }
            let sa = a.minimumEffect > 0 ? (a.effect ?? 0) / a.minimumEffect : 0
            let sb = b.minimumEffect > 0 ? (b.effect ?? 0) / b.minimumEffect : 0
            if sa != sb { return sa > sb }
            return a.id < b.id
        }.prefix(maximum).map(\.id)
    }

    /// Whether any of `factors` needs the series' pixels re-read.
    public static func needsPixels(_ factors: [String]) -> Bool { factors.contains { pixelFactors.contains($0) } }

    /// Maps `report`; `reference` and `candidate` (the same runs loaded by `DriftCohort.load`)
    /// give the per-patient values of the plotted factors (nil: no ECDF plots). `referenceName`
    /// and `candidateName` label the two sides in the plots.
    public init(report: DriftReport, reference: DriftCohort?, candidate: DriftCohort?, plotted: [String]) {
        var notes = report.notes
        var plots: [Plot] = []
        let byID = Dictionary(report.factors.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        func effectText(_ f: DriftFactor) -> String {
            "\(Self.effectName(f.effectName)) \(ReportModel.effect(f.effect, name: Self.effectName(f.effectName))), p (Holm) \(ReportModel.pValue(f.pAdjusted))"
        }
        // The predicted-class mix, and any other categorical factor that drifts.
        let categorical = report.factors.filter { f in
            guard let t = f.categorical, !t.categories.isEmpty, f.id != "performance.accuracy" else { return false }
            return f.id == "outputs.predicted_class" || f.verdict == .drift
        }
        // The class mix first, then at most two drifting categorical factors (by effect).
        let classMix = categorical.filter { $0.id == "outputs.predicted_class" }
        let others = categorical.filter { $0.id != "outputs.predicted_class" }
            .sorted { ($0.effect ?? 0, $1.id) > ($1.effect ?? 0, $0.id) }.prefix(2)
        for f in classMix + others {
            guard let t = f.categorical else { continue }
            var categories = t.categories
            if f.id == "outputs.predicted_class" {
                categories = categories.map { c in Diagnosis.allCases.first { $0.name == c }.map(AuditDisplay.name) ?? c }
            }
            plots.append(.categories(id: "drift-" + ReportModel.slug(f.id), name: f.name, categories: categories,
                                     reference: t.reference, candidate: t.candidate, verdict: f.verdict.rawValue, effect: effectText(f)))
        }
        if let reference, let candidate {
            var shown = 0
            for id in plotted where shown < Self.maximumPlots {
                guard let f = byID[id], let get = Self.value(id) else { continue }
                let r = reference.patients.compactMap(get).filter(\.isFinite)
                let c = candidate.patients.compactMap(get).filter(\.isFinite)
                // The plot must show the values the test used.
                guard r.count == f.reference?.n, c.count == f.candidate?.n else {
                    notes.append("the plot of \(f.name) is left out: its values could not be measured again as the test measured them")
                    continue
                }
                // One value on each side (e.g. kVp 120 vs 100): the table's words say it all.
                if Set(r).count <= 1 && Set(c).count <= 1 { continue }
                plots.append(.ecdf(id: "drift-" + ReportModel.slug(id), name: f.name, unit: f.unit, reference: r, candidate: c,
                                   verdict: f.verdict.rawValue, effect: effectText(f)))
                shown += 1
            }
        }
        let factors = report.factors.map { f in
            Factor(id: f.id, group: f.group.rawValue, name: f.name, test: Self.testName(f.test), effectName: Self.effectName(f.effectName),
                   effect: f.effect, minimumEffect: f.minimumEffect, p: f.p, pAdjusted: f.pAdjusted, verdict: f.verdict.rawValue,
                   description: f.description)
        }
        let p = report.performance
        func accuracy(_ e: ProportionEstimate?) -> String {
            guard let e, let v = e.value else { return "not measured: no labelled patients" }
            let ci = e.wilson.map { " (95 % CI \(Format.fixed($0.lower * 100, digits: 1))–\(Format.fixed($0.upper * 100, digits: 1)), Wilson)" } ?? ""
            return "\(Format.percent(v))\(ci), \(e.count) of \(e.total) right"
        }
        var performance: [(String, String)] = [
            ("Accuracy, reference run \(report.reference.id)", accuracy(p.referenceAccuracy)),
            ("Accuracy, this run (\(report.candidate.id))", accuracy(p.candidateAccuracy)),
            ("Mean confidence (top probability)", "reference \(Format.fixed(p.referenceConfidence, digits: 3)), this run \(Format.fixed(p.candidateConfidence, digits: 3))"),
        ]
        var estimate = "\(Format.percent(p.estimatedAccuracy)) (average confidence)"
        if let d = p.estimatedAccuracyDoC { estimate += ", \(Format.percent(d)) (difference of confidences)" }
        performance.append(("Label-free accuracy estimate, this run", estimate))
        performance.append(("Assumption of the estimate", p.assumption))
        func describe(_ r: DriftReport.RunInfo) -> String {
            "run \(r.id) \"\(r.label)\": \(r.patients) patients, \(r.labelled) labelled, \(r.imagePatients) with image statistics"
        }
        self.init(overall: report.overall.rawValue, overallWords: report.overall.words, topFactors: report.topFactors,
                  factors: factors, plots: plots, performance: performance, multipleTesting: report.multipleTesting,
                  alpha: report.config.alpha, notes: notes, referenceRun: describe(report.reference), candidateRun: describe(report.candidate))
    }
}

extension DriftSection {
    /// The drift section of the report's run (`candidate`) against reference run `reference`.
    public init(report: DriftReport, reference: DriftCohort?, candidate: DriftCohort?, plotted: [String]) {
        self.init(referenceCohort: "reference run \(report.reference.id)", currentCohort: "run \(report.candidate.id)",
                  features: [], psiThreshold: 0,
                  analysis: DriftAnalysis(report: report, reference: reference, candidate: candidate, plotted: plotted))
    }
}
