import Foundation

/// The plain-text form of an evaluation report: readable tables for a terminal.
extension EvaluationReport {
    /// At most this many flips and disagreeing patients are listed in text (JSON has all).
    public static let textListLimit = 20

    public var text: String {
        var out: [String] = []
        let e = evaluation, s = e.settings
        let pct = Self.format(s.confidenceLevel * 100, decimals: 0) + "%"
        out.append("MLung Audit evaluation of \(e.source)")
        out.append("patients \(e.patients), labelled \(e.labelled); intervals \(pct); bootstrap \(s.resamples) resamples by patient, seed \(s.seed)")
        out.append("")
        out += Self.figures(e, level: pct)
        out.append("")
        out += Self.confusion(e.confusion)
        out.append("")
        out += Self.calibration(e, level: pct)
        out += Self.remarks(e)
        for analysis in subgroups {
            out.append("")
            out += Self.subgroupTable(analysis, level: pct)
        }
        if let baseline, let comparison {
            out.append("")
            out.append("Baseline \(baseline.source): accuracy \(Self.format(baseline.accuracy.value)) "
                       + "(Wilson \(Self.format(baseline.accuracy.wilson)), bootstrap \(Self.format(baseline.accuracy.bootstrap)))")
            out += Self.comparisonTables(comparison, level: pct)
        }
        if let slices {
            out.append("")
            out += Self.sliceTables(slices, level: pct)
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func format(_ x: Double?, decimals: Int = 4) -> String {
        guard let x else { return "-" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.\(decimals)f", x)
    }

    static func format(_ i: ConfidenceInterval?) -> String {
        guard let i else { return "-" }
        return "[" + format(i.lower) + ", " + format(i.upper) + "]"
    }

    static func format(_ i: BootstrapInterval?) -> String {
        guard let i else { return "-" }
        return "[" + format(i.lower) + ", " + format(i.upper) + "]"
    }

    static func formatP(_ p: Double?) -> String {
        guard let p else { return "-" }
        return p < 1e-4 ? String(format: "%.1e", p) : String(format: "%.4f", p)
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    static func row(_ cells: [String], _ widths: [Int]) -> String {
        var line = zip(cells, widths).map { pad($0, $1) }.joined()
        while line.last == " " { line.removeLast() }
        return line
    }

    static func figures(_ e: Evaluation, level: String) -> [String] {
        let w = [22, 9, 20, 20, 10]
        var out = [row(["figure", "value", "Wilson \(level)", "bootstrap \(level)", "count"], w)]
        func line(_ name: String, _ p: ProportionEstimate) {
            out.append(row([name, format(p.value), format(p.wilson), format(p.bootstrap), "\(p.count)/\(p.total)"], w))
        }
        line("accuracy", e.accuracy)
        line("FPE healthy->sick", e.fpe)
        line("FNE sick->healthy", e.fne)
        line("FDPE wrong disease", e.fdpe)
        for c in e.classes { line("sensitivity \(c.diagnosis.name)", c.sensitivity) }
        for c in e.classes { line("specificity \(c.diagnosis.name)", c.specificity) }
        out.append(row(["", "", "DeLong \(level)", "", "pos/neg"], w))
        for c in e.classes {
            out.append(row(["AUC \(c.diagnosis.name)", format(c.auc.value), format(c.auc.delong), format(c.auc.bootstrap),
                            "\(c.positives)/\(c.negatives)"], w))
        }
        out.append(row(["Brier score", format(e.calibration.brier.value), "", format(e.calibration.brier.bootstrap), ""], w))
        out.append(row(["ECE (\(e.settings.calibrationBins) bins)", format(e.calibration.ece.value), "", format(e.calibration.ece.bootstrap), ""], w))
        return out
    }

    static func confusion(_ m: ConfusionMatrix) -> [String] {
        let names = Diagnosis.allCases.map(\.name)
        let w = [12] + names.map { _ in 10 }
        var out = ["confusion matrix (rows: truth, columns: predicted)", row(["truth"] + names, w)]
        for (t, counts) in m.counts.enumerated() { out.append(row([names[t]] + counts.map(String.init), w)) }
        return out
    }

    static func calibration(_ e: Evaluation, level: String) -> [String] {
        let w = [14, 8, 12, 10, 20]
        var out = ["reliability (top-class confidence)", row(["bin", "n", "confidence", "accuracy", "Wilson \(level)"], w)]
        for b in e.calibration.bins where b.count > 0 {
            out.append(row(["\(format(b.lower, decimals: 2))-\(format(b.upper, decimals: 2))", "\(b.count)",
                            format(b.meanConfidence), format(b.accuracy), format(b.wilson)], w))
        }
        return out
    }

    static func remarks(_ e: Evaluation) -> [String] {
        e.notes.map { "note: \($0)" } + e.warnings.map { "warning: \($0)" }
    }

    static func subgroupTable(_ a: SubgroupAnalysis, level: String) -> [String] {
        let w = [16, 9, 9, 9, 20, 8, 8, 8] + Diagnosis.allCases.map { _ in 9 } + [6]
        var out = ["subgroups by \(a.spec)",
                   row(["value", "patients", "labelled", "accuracy", "Wilson \(level)", "FPE", "FNE", "FDPE"]
                       + Diagnosis.allCases.map { "AUC \($0.name)" } + ["judge"], w)]
        for g in a.groups {
            let e = g.evaluation
            out.append(row([g.value, "\(e.patients)", "\(e.labelled)", format(e.accuracy.value), format(e.accuracy.wilson),
                            format(e.fpe.value, decimals: 3), format(e.fne.value, decimals: 3), format(e.fdpe.value, decimals: 3)]
                           + e.classes.map { format($0.auc.value) } + [g.tooSmall ? "small" : "ok"], w))
        }
        for g in a.groups {
            for warning in g.evaluation.warnings { out.append("warning: \(a.spec.column) = \(g.value): \(warning)") }
        }
        return out
    }

    static func comparisonTables(_ c: Comparison, level: String) -> [String] {
        var out = ["comparison: candidate \(c.candidate) against baseline \(c.baseline) (difference = candidate - baseline)"]
        let w = [22, 10, 10, 11, 22, 8]
        out.append(row(["figure", "baseline", "candidate", "difference", "bootstrap \(level)", "p"], w))
        for m in c.metrics {
            out.append(row([m.metric.name, format(m.baseline), format(m.candidate), format(m.difference), format(m.bootstrap), formatP(m.p)], w))
        }
        if let t = c.mcnemar {
            let method = t.method == .exactBinomial ? "exact binomial" : "chi-square, continuity corrected"
            out.append("McNemar (accuracy): only baseline right \(t.baselineOnlyCorrect), only candidate right \(t.candidateOnlyCorrect), "
                       + "\(method), statistic \(format(t.statistic)), p \(formatP(t.p))")
        }
        let dw = [12, 10, 10, 11, 10, 9, 8]
        out.append(row(["DeLong AUC", "baseline", "candidate", "difference", "SE", "z", "p"], dw))
        for t in c.delong {
            out.append(row([t.diagnosis.name, format(t.baseline), format(t.candidate), format(t.difference), format(t.standardError),
                            format(t.z, decimals: 3), formatP(t.p)], dw))
        }
        out.append("flips: \(c.rightToWrong.count) right->wrong, \(c.wrongToRight.count) wrong->right")
        func probabilities(_ p: [Double]) -> String { "[" + p.map { format($0, decimals: 3) }.joined(separator: " ") + "]" }
        for f in c.flips.prefix(textListLimit) {
            out.append("  \(f.patientID) (\(f.label.name)) \(f.direction == .rightToWrong ? "right->wrong" : "wrong->right"): "
                       + "\(f.baselinePredicted.name) \(probabilities(f.baselineProbabilities)) -> "
                       + "\(f.candidatePredicted.name) \(probabilities(f.candidateProbabilities))")
        }
        if c.flips.count > textListLimit { out.append("  ... \(c.flips.count - textListLimit) more (see --json)") }
        let a = c.agreement
        var agreement = "agreement: same predicted class \(a.samePrediction)/\(a.patients), kappa \(format(a.kappa))"
        if let l = a.largestDifference {
            agreement += ", largest probability difference \(String(format: "%.3g", l.absoluteDifference)) (\(l.patientID), \(l.diagnosis.name))"
        }
        agreement += ", mean \(a.meanAbsoluteDifference.map { String(format: "%.3g", $0) } ?? "-")"
        out.append(agreement)
        for d in a.disagreeing.prefix(textListLimit) {
            out.append("  \(d.patientID) (\(d.label?.name ?? "unlabelled")): \(d.baselinePredicted.name) -> \(d.candidatePredicted.name)")
        }
        if a.disagreeing.count > textListLimit { out.append("  ... \(a.disagreeing.count - textListLimit) more (see --json)") }
        out += c.notes.map { "note: \($0)" }
        return out
    }

    static func sliceTables(_ e: SliceEvaluation, level: String) -> [String] {
        var out = ["Slices of \(e.source) against \(e.labels) (joined by \(e.join)): \(e.labelled) of \(e.slices) slices labelled, "
                   + "\(e.lesion.positives) with lesion, from \(e.patients) patients; bootstrap by patient"]
        let w = [22, 9, 20, 20, 10]
        out.append(row(["lesion head", "value", "Wilson \(level)", "bootstrap \(level)", "count"], w))
        for (name, p) in [("sensitivity", e.lesion.sensitivity), ("specificity", e.lesion.specificity), ("accuracy", e.lesion.accuracy)] {
            out.append(row([name, format(p.value), format(p.wilson), format(p.bootstrap), "\(p.count)/\(p.total)"], w))
        }
        out.append(row(["", "", "DeLong \(level)", "", "pos/neg"], w))
        out.append(row(["AUC", format(e.lesion.auc.value), format(e.lesion.auc.delong), format(e.lesion.auc.bootstrap),
                        "\(e.lesion.positives)/\(e.lesion.negatives)"], w))
        if let c = e.classes {
            out.append("")
            out.append("slice classes (q against the slice class; \(c.labelled) slices)")
            out += figures(c, level: level)
            out += confusion(c.confusion)
            out += remarks(c)
        }
        out += e.notes.map { "note: \($0)" } + e.warnings.map { "warning: \($0)" }
        return out
    }
}
