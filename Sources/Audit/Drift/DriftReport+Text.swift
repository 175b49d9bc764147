import Foundation

/// The plain-text drift report (`mlung-audit drift` without `--json`).
extension DriftReport {
    public var text: String {
        var out: [String] = []
        out.append("Drift: candidate run \(candidate.id) (\(candidate.label), \(candidate.patients) patients) vs reference run \(reference.id) (\(reference.label), \(reference.patients) patients)")
        out.append("Verdict: \(overall.words) [\(overall.rawValue), exit \(overall.exitCode)]")
        if !topFactors.isEmpty {
            out.append("Top factors: " + topFactors.joined(separator: "; "))
        }
        out.append("")
        let header = ["factor", "test", "effect", "min", "p", "p(Holm)", "verdict", "candidate vs reference"]
        var rows: [[String]] = [header]
        let f4 = { (v: Double?) in v.map { String(format: "%.4g", $0) } ?? "-" }
        for f in factors {
            rows.append([f.id, f.test, f.effect.map { "\(f.effectName)=\(String(format: "%.3g", $0))" } ?? "-",
                         String(format: "%.3g", f.minimumEffect), f4(f.p), f4(f.pAdjusted), f.verdict.rawValue, f.description])
        }
        let widths = header.indices.map { k in rows.map { $0[k].count }.max() ?? 0 }
        for r in rows {
            out.append(r.indices.map { k in k == r.count - 1 ? r[k] : r[k].padding(toLength: widths[k], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
        out.append("")
        let p = performance
        let acc = { (e: ProportionEstimate?) in
            e.flatMap { a in a.value.map { v in
                String(format: "%.3f (%d/%d, Wilson %.3f-%.3f)", v, a.count, a.total, a.wilson?.lower ?? 0, a.wilson?.upper ?? 0)
            } } ?? "- (unlabelled)"
        }
        out.append("Accuracy: reference \(acc(p.referenceAccuracy)); candidate \(acc(p.candidateAccuracy))")
        out.append(String(format: "Confidence (mean max probability): reference %.3f, candidate %.3f", p.referenceConfidence, p.candidateConfidence))
        var estimate = String(format: "Label-free accuracy estimate of the candidate: %.3f (average confidence)", p.estimatedAccuracy)
        if let d = p.estimatedAccuracyDoC { estimate += String(format: ", %.3f (difference of confidences)", d) }
        out.append(estimate)
        out.append("Assumption: " + p.assumption)
        out.append("Multiple testing: " + multipleTesting)
        for n in notes { out.append("Note: " + n) }
        return out.joined(separator: "\n") + "\n"
    }
}
