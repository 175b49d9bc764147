import Foundation
internal import Audit

/// A synthetic but internally consistent report: scores are drawn from a seeded generator,
/// and every metric, curve, matrix and histogram is computed from them. Used by the tests
/// and as a preview of the report before the audit store exists.
extension ReportModel {
    public static func demo(seed: UInt64 = 20240502) -> ReportModel {
        var rng = SplitMix64(seed: seed)
        let classes = ["Healthy", "COVID-19", "H1N1", "CAP"]
        let perClass = [96, 88, 52, 64]
        let n = perClass.reduce(0, +)

        // Ground truth, patient attributes and two correlated models' softmax outputs.
        var truth: [Int] = []
        for (k, c) in perClass.enumerated() { truth += [Int](repeating: k, count: c) }
        let separationV1 = [1.55, 1.7, 1.05, 1.25], separationV2 = [1.65, 1.95, 1.2, 1.2]
        var probsV1: [[Double]] = [], probsV2: [[Double]] = []
        var sex: [Int] = [], age: [Int] = [], scanner: [Int] = [], thin: [Bool] = []
        for t in truth {
            var z1 = [Double](), z2 = [Double]()
            for k in 0..<4 {
                let shared = rng.normal(), own1 = rng.normal(), own2 = rng.normal()
                z1.append(0.8 * shared + 0.6 * own1 + (k == t ? separationV1[k] : 0))
                z2.append(0.8 * shared + 0.6 * own2 + (k == t ? separationV2[k] : 0))
            }
            probsV1.append(softmax(z1.map { $0 * 1.6 }))
            probsV2.append(softmax(z2.map { $0 * 1.45 }))
            sex.append(rng.below(2)); age.append(rng.below(3)); scanner.append(rng.below(10) < 6 ? 0 : rng.below(10) < 7 ? 1 : 2)
            thin.append(rng.below(10) < 7)
        }
        let predV1 = probsV1.map(argmax), predV2 = probsV2.map(argmax)

        // Metrics per class from the scores.
        var metrics: [MetricRow] = []
        var curves: [ROCCurve] = []
        var reliability: [ReliabilitySeries] = []
        func accuracy(_ pred: [Int]) -> Double { Double(zip(pred, truth).filter { $0 == $1 }.count) / Double(n) }
        metrics.append(MetricRow(metric: "Accuracy", className: nil, candidate: wilson(accuracy(predV2), n),
                                 baseline: wilson(accuracy(predV1), n), isProportion: true))
        var macroV1 = 0.0, macroV2 = 0.0
        for (k, name) in classes.enumerated() {
            let positive = truth.map { $0 == k }
            let s1 = probsV1.map { $0[k] }, s2 = probsV2.map { $0[k] }
            let auc1 = auc(s1, positive), auc2 = auc(s2, positive)
            macroV1 += auc1.value / 4; macroV2 += auc2.value / 4
            metrics.append(MetricRow(metric: "AUC", className: name, candidate: auc2, baseline: auc1,
                                     significantChange: abs(auc2.value - auc1.value) > 0.02))
            let pos = positive.filter { $0 }.count, neg = n - pos
            let sens1 = Double(zip(predV1, positive).filter { $0 == k && $1 }.count) / Double(pos)
            let sens2 = Double(zip(predV2, positive).filter { $0 == k && $1 }.count) / Double(pos)
            let spec1 = Double(zip(predV1, positive).filter { $0 != k && !$1 }.count) / Double(neg)
            let spec2 = Double(zip(predV2, positive).filter { $0 != k && !$1 }.count) / Double(neg)
            metrics.append(MetricRow(metric: "Sensitivity", className: name, candidate: wilson(sens2, pos), baseline: wilson(sens1, pos),
                                     isProportion: true, significantChange: abs(sens2 - sens1) > 0.06))
            metrics.append(MetricRow(metric: "Specificity", className: name, candidate: wilson(spec2, neg), baseline: wilson(spec1, neg),
                                     isProportion: true))
            curves.append(ROCCurve(className: name, modelLabel: "demo-v2", points: roc(s2, positive), auc: auc2, style: SeriesStyle.cycle(0)))
            curves.append(ROCCurve(className: name, modelLabel: "demo-v1", points: roc(s1, positive), auc: auc1, style: SeriesStyle.cycle(1)))
            if k == 1 {
                reliability.append(calibration(s2, positive, className: name, model: "demo-v2"))
                reliability.append(calibration(s1, positive, className: name, model: "demo-v1"))
            }
        }
        metrics.insert(MetricRow(metric: "Macro AUC", className: nil, candidate: Estimate(macroV2, lower: macroV2 - 0.024, upper: min(1, macroV2 + 0.021)),
                                 baseline: Estimate(macroV1, lower: macroV1 - 0.026, upper: min(1, macroV1 + 0.022))), at: 1)
        metrics.insert(MetricRow(metric: "ECE (COVID-19)", className: nil, candidate: reliability[0].ece, baseline: reliability[1].ece,
                                 higherIsBetter: false), at: 2)

        func confusion(_ pred: [Int]) -> [[Int]] {
            var m = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 4)
            for (t, p) in zip(truth, pred) { m[t][p] += 1 }
            return m
        }

        // Subgroups: COVID-19 AUC per level.
        var subgroups: [SubgroupRow] = []
        let covid = truth.map { $0 == 1 }
        let overall = auc(probsV2.map { $0[1] }, covid).value
        func subgroup(_ group: String, _ level: String, _ members: [Bool]) {
            let idx = members.indices.filter { members[$0] }
            let pos = idx.map { covid[$0] }
            let a2 = auc(idx.map { probsV2[$0][1] }, pos), a1 = auc(idx.map { probsV1[$0][1] }, pos)
            subgroups.append(SubgroupRow(group: group, level: level, patients: idx.count, candidate: a2, baseline: a1,
                                         flagged: a2.value < overall - 0.03 || idx.count < 40))
        }
        subgroup("Sex", "female", sex.map { $0 == 0 }); subgroup("Sex", "male", sex.map { $0 == 1 })
        for (k, l) in ["18–39 years", "40–64 years", "65 years and over"].enumerated() { subgroup("Age", l, age.map { $0 == k }) }
        for (k, l) in ["Vendor A, 64-row", "Vendor B, 128-row", "Vendor C, 16-row"].enumerated() { subgroup("Scanner", l, scanner.map { $0 == k }) }
        subgroup("Slice thickness", "≤ 1.5 mm", thin); subgroup("Slice thickness", "> 1.5 mm", thin.map { !$0 })

        // Flips, with synthetic DICOM ids and dates (which the report must pseudonymise).
        var flips: [FlipCase] = []
        let firstDay = StudyDate(year: 2020, month: 1, day: 6)!
        for i in 0..<n where predV1[i] != predV2[i] {
            flips.append(FlipCase(patient: PatientIdentifier(String(format: "DEMO-PID-%05d", 1000 + i * 7)),
                                  studyDate: firstDay.adding(days: (i * 37) % 170),
                                  truth: classes[truth[i]], baselinePrediction: classes[predV1[i]],
                                  baselineProbability: probsV1[i][predV1[i]], candidatePrediction: classes[predV2[i]],
                                  candidateProbability: probsV2[i][predV2[i]]))
        }
        func pid(_ i: Int) -> PatientIdentifier { PatientIdentifier(String(format: "DEMO-PID-%05d", 1000 + i * 7)) }
        let failureModes = [
            FailureModeRow(mode: "Confidently wrong disease", description: "Wrong pneumonia class with probability ≥ 0.8",
                           cases: 9, share: 9.0 / Double(n), examples: [pid(17), pid(140), pid(233)], severity: .fail),
            FailureModeRow(mode: "Heads disagree", description: "Slice-vote class differs from the patient network's class",
                           cases: 14, share: 14.0 / Double(n), examples: [pid(3), pid(98)], severity: .warn),
            FailureModeRow(mode: "Small lung crop", description: "Lung mask covers under 12 % of the crop on most slices",
                           cases: 4, share: 4.0 / Double(n), examples: [pid(61)], severity: .warn),
            FailureModeRow(mode: "Thick slices", description: "Slice thickness above 2.5 mm (outside the validated range)",
                           cases: 21, share: 21.0 / Double(n), examples: [pid(12), pid(55), pid(201)], severity: .notEvaluated),
            FailureModeRow(mode: "Motion artefact", description: "Streak score above the 99th percentile of the reference cohort",
                           cases: 2, share: 2.0 / Double(n), examples: [pid(288)], severity: .pass),
        ]

        // Drift: four image features on the reference cohort against a new scanner's cohort.
        func feature(_ name: String, _ unit: String, _ lo: Double, _ hi: Double, ref: (Double, Double), cur: (Double, Double)) -> DriftFeature {
            let edges = (0...20).map { lo + (hi - lo) * Double($0) / 20 }
            let a = (0..<400).map { _ in ref.0 + ref.1 * rng.normal() }
            let b = (0..<180).map { _ in cur.0 + cur.1 * rng.normal() }
            let fa = HistogramPlot.fractions(a, edges: edges), fb = HistogramPlot.fractions(b, edges: edges)
            let p = psi(fa, fb), d = ks(a, b)
            let pValue = ksPValue(d, a.count, b.count)
            return DriftFeature(name: name, unit: unit, binEdges: edges, referenceFractions: fa, currentFractions: fb,
                                psi: p, ks: d, pValue: pValue, shifted: p > 0.25)
        }
        let drift = DriftSection(referenceCohort: "DEMO-A (reference)", currentCohort: "DEMO-B (new scanner)", features: [
            feature("Mean lung density", "HU", -900, -700, ref: (-812, 28), cur: (-781, 30)),
            feature("Image noise in air", "HU SD", 0, 60, ref: (22, 6), cur: (31, 7)),
            feature("Lung volume", "L", 2, 8, ref: (4.9, 0.9), cur: (5.0, 0.95)),
            feature("COVID-19 probability", "", 0, 1, ref: (0.32, 0.2), cur: (0.36, 0.21)),
        ], psiThreshold: 0.25)

        let gates = [
            GateResult(name: "Macro AUC", criterion: "candidate ≥ baseline − 0.01", observed: Format.signed(macroV2 - macroV1, digits: 3), outcome: macroV2 >= macroV1 - 0.01 ? .pass : .fail),
            GateResult(name: "COVID-19 sensitivity", criterion: "lower 95 % bound ≥ 85 %", observed: metrics.first { $0.className == "COVID-19" && $0.metric == "Sensitivity" }!.candidate.formattedPercent(), outcome: .pass),
            GateResult(name: "Calibration", criterion: "COVID-19 ECE ≤ 0.05", observed: reliability[0].ece.formatted(), outcome: reliability[0].ece.value <= 0.05 ? .pass : .warn),
            GateResult(name: "Subgroups", criterion: "no subgroup AUC below cohort − 0.03", observed: "\(subgroups.filter(\.flagged).count) flagged", outcome: subgroups.contains(where: \.flagged) ? .warn : .pass),
            GateResult(name: "Confident errors", criterion: "≤ 2 % of patients", observed: Format.percent(9.0 / Double(n)), outcome: .fail),
            GateResult(name: "Scanner drift", criterion: "PSI ≤ 0.25 on every feature", observed: "\(drift.features.filter(\.shifted).count) of \(drift.features.count) shifted", outcome: drift.features.contains(where: \.shifted) ? .fail : .pass),
        ]

        let cover = CoverInfo(
            candidate: ModelIdentity(name: "MLung-Sys", version: "demo-v2", digest: hexDigest("demo-v2")),
            baseline: ModelIdentity(name: "MLung-Sys", version: "demo-v1", digest: hexDigest("demo-v1")),
            cohort: CohortInfo(name: "DEMO-A", description: "synthetic retrospective chest CT cohort",
                               patients: n, studies: n, series: n + 12,
                               classCounts: zip(classes, perClass).map { ($0, $1) },
                               firstStudy: firstDay, lastStudy: firstDay.adding(days: 169)),
            runID: "run-0007", baselineRunID: "run-0003", toolVersion: AuditVersion.tool,
            runFinished: "2024-05-02T09:30:00Z", site: "Demo Hospital, Radiology QA board", gates: gates)

        let appendix = AppendixInfo(settings: [
            ("Preprocessing", "lung window L −600 / W 1500; crop to lung mask; 224 × 224 slices"),
            ("Patient network input", "every slice with lung on it, in table order"),
            ("Operating threshold", "arg max of the patient probabilities"),
            ("Confidence intervals", "95 %; DeLong for AUC, Wilson for proportions, bootstrap (2 000) for ECE"),
            ("Comparison test", "paired DeLong (AUC), McNemar (sensitivity), α = 0.05, Holm-corrected"),
            ("Reliability bins", "10 equal-width bins on the predicted probability"),
            ("Drift features", "20 equal-width bins; PSI threshold 0.25"),
            ("Pseudonyms", "HMAC-SHA-256 with the audit's secret; dates shifted by one audit-wide offset"),
        ], reproductionCommand: "mlung-audit report --run run-0007 --baseline run-0003 --drift-reference run-0002 --out qa-report.pdf",
           notes: ["All numbers in this demo are computed from synthetic scores drawn from a seeded generator."])

        return ReportModel(cover: cover, classNames: classes, subgroupMetric: "COVID-19 AUC (one vs rest)", metrics: metrics,
                           rocCurves: curves, confusionMatrices: [
                               ConfusionMatrix(title: "demo-v2 (candidate)", classNames: classes, counts: confusion(predV2)),
                               ConfusionMatrix(title: "demo-v1 (baseline)", classNames: classes, counts: confusion(predV1)),
                           ], reliability: reliability, subgroups: subgroups, flips: flips, failureModes: failureModes,
                           drift: drift, appendix: appendix, exampleSlices: demoSlices(&rng))
    }

    /// Four synthetic chest slices (body, two lungs, a ground-glass lesion) with lesion maps.
    static func demoSlices(_ rng: inout SplitMix64) -> SliceStrip {
        let size = 160
        var slices: [SliceImage] = []
        for (k, lesion) in [0.0, 0.55, 1.0, 0.35].enumerated() {
            var hu = [Float](repeating: -1000, count: size * size)
            let c = Double(size) / 2
            for y in 0..<size {
                for x in 0..<size {
                    let dx = (Double(x) - c) / (c * 0.92), dy = (Double(y) - c * 1.04) / (c * 0.7)
                    guard dx * dx + dy * dy < 1 else { continue }
                    var v = 40.0
                    for side in [-1.0, 1.0] {
                        let lx = (Double(x) - c - side * c * 0.42) / (c * 0.33), ly = (Double(y) - c) / (c * 0.52)
                        if lx * lx + ly * ly < 1 { v = -850 }
                    }
                    // Ground-glass lesion in the right lung (image left).
                    let gx = (Double(x) - c * 0.62) / (c * 0.14 * (0.6 + lesion)), gy = (Double(y) - c * 0.86) / (c * 0.16 * (0.6 + lesion))
                    if lesion > 0 && v < -500 && gx * gx + gy * gy < 1 { v = -520 + 60 * (1 - gx * gx - gy * gy) }
                    hu[y * size + x] = Float(v + 18 * rng.normal())
                }
            }
            // A 14 x 14 lesion map over the crop box around the lungs.
            let crop = Rect(x: c * 0.18, y: c * 0.42, width: c * 1.64, height: c * 1.16)
            let mw = 14, mh = 14
            var map = [Float](repeating: 0, count: mw * mh)
            for y in 0..<mh {
                for x in 0..<mw {
                    let px = crop.minX + (Double(x) + 0.5) * crop.width / Double(mw), py = crop.minY + (Double(y) + 0.5) * crop.height / Double(mh)
                    let d2 = pow((px - c * 0.62) / (c * 0.2), 2) + pow((py - c * 0.86) / (c * 0.22), 2)
                    map[y * mw + x] = Float(lesion * exp(-d2))
                }
            }
            let label = ["non-pneumonia", "COVID-19", "COVID-19", "COVID-19"][k]
            slices.append(SliceImage(width: size, height: size, hu: hu, caption: "slice \(12 + k * 8) · \(label)",
                                     overlay: LesionOverlay(width: mw, height: mh, values: map, placement: crop)))
        }
        return SliceStrip(title: nil, slices: slices)
    }
}

/// The tool version as the Audit library states it.
enum AuditVersion {
    static var tool: String { AuditLibrary.toolVersion }
}

// MARK: - small statistics for the synthetic demo (the audit's own statistics live in Audit)

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator for reproducible demo data.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Box-Muller.
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

private func softmax(_ z: [Double]) -> [Double] {
    let m = z.max() ?? 0
    let e = z.map { exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

private func argmax(_ p: [Double]) -> Int { p.indices.max { p[$0] < p[$1] } ?? 0 }

/// Wilson score interval for a proportion.
private func wilson(_ p: Double, _ n: Int) -> Estimate {
    let z = 1.959964, nn = Double(n)
    let denom = 1 + z * z / nn
    let centre = (p + z * z / (2 * nn)) / denom
    let half = z * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot() / denom
    return Estimate(p, lower: centre - half, upper: centre + half)
}

/// AUC by the Mann-Whitney statistic, with the Hanley-McNeil (1982) interval.
private func auc(_ scores: [Double], _ positive: [Bool]) -> Estimate {
    let pos = zip(scores, positive).filter { $0.1 }.map(\.0), neg = zip(scores, positive).filter { !$0.1 }.map(\.0)
    guard !pos.isEmpty, !neg.isEmpty else { return Estimate(.nan) }
    var wins = 0.0
    for p in pos { for q in neg { wins += p > q ? 1 : p == q ? 0.5 : 0 } }
    let a = wins / Double(pos.count * neg.count)
    let q1 = a / (2 - a), q2 = 2 * a * a / (1 + a)
    let np = Double(pos.count), nn = Double(neg.count)
    let se = ((a * (1 - a) + (np - 1) * (q1 - a * a) + (nn - 1) * (q2 - a * a)) / (np * nn)).squareRoot()
    return Estimate(a, lower: max(0, a - 1.96 * se), upper: min(1, a + 1.96 * se))
}

/// Empirical ROC curve: one point per distinct threshold, from (0, 0) to (1, 1).
private func roc(_ scores: [Double], _ positive: [Bool]) -> [ROCPoint] {
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    let P = Double(positive.filter { $0 }.count), N = Double(positive.count) - P
    var tp = 0.0, fp = 0.0
    var points = [ROCPoint(0, 0)]
    for (k, i) in order.enumerated() {
        if positive[i] { tp += 1 } else { fp += 1 }
        if k == order.count - 1 || scores[order[k + 1]] != scores[i] { points.append(ROCPoint(fp / N, tp / P)) }
    }
    return points
}

private func calibration(_ scores: [Double], _ positive: [Bool], className: String, model: String) -> ReliabilitySeries {
    var bins: [ReliabilityBin] = []
    var ece = 0.0
    for b in 0..<10 {
        let lo = Double(b) / 10, hi = Double(b + 1) / 10
        let idx = scores.indices.filter { scores[$0] >= lo && (scores[$0] < hi || (b == 9 && scores[$0] <= hi)) }
        guard !idx.isEmpty else { bins.append(ReliabilityBin(lower: lo, upper: hi, meanPredicted: (lo + hi) / 2, observedFrequency: 0, count: 0)); continue }
        let mean = idx.map { scores[$0] }.reduce(0, +) / Double(idx.count)
        let freq = Double(idx.filter { positive[$0] }.count) / Double(idx.count)
        ece += Double(idx.count) / Double(scores.count) * abs(mean - freq)
        bins.append(ReliabilityBin(lower: lo, upper: hi, meanPredicted: mean, observedFrequency: freq, count: idx.count))
    }
    return ReliabilitySeries(className: className, modelLabel: model, bins: bins, ece: Estimate(ece, lower: ece * 0.62, upper: ece * 1.45))
}

/// Population stability index, with empty bins floored at 1e-4.
private func psi(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { s, ab in
        let p = max(ab.0, 1e-4), q = max(ab.1, 1e-4)
        return s + (q - p) * log(q / p)
    }
}

/// Two-sample Kolmogorov-Smirnov statistic.
private func ks(_ a: [Double], _ b: [Double]) -> Double {
    let x = a.sorted(), y = b.sorted()
    var i = 0, j = 0, d = 0.0
    while i < x.count && j < y.count {
        let v = min(x[i], y[j])
        while i < x.count && x[i] <= v { i += 1 }
        while j < y.count && y[j] <= v { j += 1 }
        d = max(d, abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)))
    }
    return d
}

/// Asymptotic p-value of the KS statistic (Kolmogorov distribution).
private func ksPValue(_ d: Double, _ n: Int, _ m: Int) -> Double {
    let en = (Double(n * m) / Double(n + m)).squareRoot()
    let lambda = (en + 0.12 + 0.11 / en) * d
    var sum = 0.0
    for k in 1...100 {
        let term = 2 * (k % 2 == 1 ? 1.0 : -1.0) * exp(-2 * Double(k * k) * lambda * lambda)
        sum += term
        if abs(term) < 1e-10 { break }
    }
    return max(0, min(1, sum))
}

/// A stand-in weight digest for the demo: SHA-256 of the version name.
private func hexDigest(_ s: String) -> String {
    let h = HMACSHA256.mac(key: Array("mlung-audit-demo-weights".utf8), message: Array(s.utf8))
    return h.map { String(format: "%02x", $0) }.joined()
}
