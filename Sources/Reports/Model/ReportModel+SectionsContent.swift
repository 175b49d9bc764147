import Foundation

/// Tables, figures and template values of the drift analysis and the stored flags.
extension ReportModel {
    /// "< 0.001" or three decimals; "–" when there is none.
    static func pValue(_ p: Double?) -> String {
        guard let p, p.isFinite else { return "–" }
        return p < 0.001 ? "< 0.001" : Format.fixed(p, digits: 3)
    }

    /// An effect size: MMD² (small numbers) with 4 decimals, the rest with 3.
    static func effect(_ v: Double?, name: String) -> String {
        guard let v else { return "–" }
        return Format.fixed(v, digits: name == "MMD²" ? 4 : 3)
    }

    /// A plot title without its parenthetical ("lesion burden (mean slice ...)" -> "lesion burden"); the axis keeps it.
    static func shortTitle(_ name: String) -> String {
        guard name.count > 28, let r = name.range(of: " (") else { return name }
        return String(name[..<r.lowerBound])
    }

    static let driftGroupTitles: [(String, String)] = [
        ("metadata", "Acquisition (DICOM header)"), ("image", "Image statistics"), ("features", "The model's features"),
        ("outputs", "The model's outputs"), ("performance", "Accuracy (both runs labelled)"),
    ]

    static func verdictStyle(_ v: String) -> ReportTable.CellStyle {
        switch v {
        case "drift": return .fail
        case "inconclusive": return .warn
        case "stable": return .pass
        default: return .muted
        }
    }

    func driftAnalysisContent(_ a: DriftAnalysis, reference: String, candidate: String, tables: inout [String: ReportTable],
                              fields: inout [String: FieldList], figures: inout [String: Figure], list: inout [TemplateValue]) -> TemplateValue {
        var rows: [ReportTable.Row] = []
        let known = Set(Self.driftGroupTitles.map(\.0))
        let groups = Self.driftGroupTitles + Array(Set(a.factors.map(\.group)).subtracting(known)).sorted().map { ($0, $0) }
        for (group, title) in groups {
            let members = a.factors.filter { $0.group == group }
            guard !members.isEmpty else { continue }
            rows.append(.group(title))
            for f in members {
                rows.append(.init([
                    .init(f.description), .init(f.test, .muted),
                    .init(f.effect == nil ? "–" : "\(f.effectName) \(Self.effect(f.effect, name: f.effectName))"),
                    .init(Self.effect(f.minimumEffect, name: f.effectName), .muted),
                    .init(Self.pValue(f.p)), .init(Self.pValue(f.pAdjusted)),
                    .init(f.verdict.uppercased(), Self.verdictStyle(f.verdict)),
                ]))
            }
        }
        tables["drift"] = ReportTable(columns: [
            .init("Factor: this run vs reference"), .init("Test"), .number("Effect"), .number("Min."),
            .number("p"), .number("p (Holm)"), .init("Verdict", .center),
        ], rows: rows, note: "One value per patient; numbers are medians, categories the most frequent one. KS D: the largest gap between the two cumulative distributions (Kolmogorov-Smirnov); "
            + "TV (total variation): half the sum of the differences in category shares (chi-square test); MMD²: maximum mean discrepancy "
            + "of the model's features (permutation test over patients). p (Holm): adjusted over every tested factor. "
            + "DRIFT: p (Holm) < \(Format.fixed(a.alpha, digits: 2)) and the effect at least its minimum; INCONCLUSIVE: large but not "
            + "significant; NEGLIGIBLE: significant but small; INSUFFICIENT: too few patients to test.")
        fields["drift-performance"] = FieldList(a.performance.map { .init($0.0, $0.1) })
        for plot in a.plots {
            switch plot {
            case let .ecdf(id, name, unit, ref, cand, verdict, effect):
                let r = ref.filter(\.isFinite).sorted(), c = cand.filter(\.isFinite).sorted()
                guard !r.isEmpty, !c.isEmpty else { continue }
                let lo = min(r.first!, c.first!), hi = max(r.last!, c.last!)
                // A little room on both sides, so that a step at the extremes stays visible.
                let pad = hi > lo ? (hi - lo) * 0.04 : max(abs(hi) * 0.05, 1)
                func steps(_ v: [Double]) -> ([Double], [Double]) {
                    var xs = [v[0]], ys = [0.0]
                    for (k, x) in v.enumerated() { xs.append(x); ys.append(Double(k + 1) / Double(v.count)) }
                    if hi > v.last! { xs.append(hi); ys.append(1) }
                    return (xs, ys)
                }
                let (rx, ry) = steps(r), (cx, cy) = steps(c)
                figures[id] = Figure(LinePlot(title: Self.shortTitle(name), subtitle: "\(effect) · \(verdict.uppercased())",
                    xAxis: Axis(unit.isEmpty ? name : "\(name) (\(unit))", range: (lo - pad)...(hi + pad)),
                    yAxis: Axis("Share of patients at or below", range: 0...1, format: .percent),
                    series: [.init(label: "reference (n = \(r.count))", x: rx, y: ry, style: SeriesStyle.cycle(0), steps: true),
                             .init(label: "this run (n = \(c.count))", x: cx, y: cy, style: SeriesStyle.cycle(1), steps: true)],
                    legend: .below, aspect: 1.3))
                list.append(["id": .text(id), "name": .text(name)])
            case let .categories(id, name, categories, ref, cand, verdict, effect):
                let rn = Double(max(ref.reduce(0, +), 1)), cn = Double(max(cand.reduce(0, +), 1))
                figures[id] = Figure(BarChart(title: Self.shortTitle(name), subtitle: "\(effect) · \(verdict.uppercased())", categories: categories, series: [
                    .init(label: "reference (n = \(ref.reduce(0, +)))", values: ref.map { Double($0) / rn }, style: SeriesStyle.cycle(0)),
                    .init(label: "this run (n = \(cand.reduce(0, +)))", values: cand.map { Double($0) / cn }, style: SeriesStyle.cycle(1)),
                ]))
                list.append(["id": .text(id), "name": .text(name)])
            }
        }
        let count = { (v: String) in String(a.factors.filter { $0.verdict == v }.count) }
        return [
            "overall": .text(a.overall), "words": .text(a.overallWords), "kind": .text(a.kind),
            "noDrift": .flag(a.overall == "no_drift"), "inputDrift": .flag(a.overall == "input_drift"),
            "outputDrift": .flag(a.overall == "output_drift"),
            "top": .list(a.topFactors.map { .text($0) }), "anyTop": .flag(!a.topFactors.isEmpty),
            "topText": .text(a.topFactors.joined(separator: "; ")),
            "referenceRun": .text(a.referenceRun), "candidateRun": .text(a.candidateRun),
            "multipleTesting": .text(a.multipleTesting), "notes": .list(a.notes.map { .text($0) }),
            "factorCount": .text(String(a.factors.count)), "testedCount": .text(String(a.factors.filter { $0.p != nil }.count)),
            "driftCount": .text(count("drift")), "inconclusiveCount": .text(count("inconclusive")),
            "figures": .list(list), "anyFigures": .flag(!list.isEmpty),
        ]
    }

    func flagsContent(_ f: FlagsSection, policy: IdentifierPolicy, tables: inout [String: ReportTable]) -> TemplateValue {
        tables["flag-counts"] = ReportTable(columns: [
            .init("Flag"), .init("What it points to"), .number("Patients"), .init("By level"), .number("Truly healthy"), .number("Truly sick"),
        ], rows: f.rows.map { r in
            .init([.init(r.flag, .bold), .init(r.description), .init(Format.count(r.patients)),
                   .init(r.levels.map { "\($0.0) \($0.1)" }.joined(separator: ", ")),
                   .init(Format.count(r.healthy)), .init(Format.count(r.sick))])
        }, note: "Patients: how many of the \(Format.count(f.patientsJudged)) patients judged fired the flag. Truly healthy / sick: "
            + "by the cohort's ground truth" + (f.rows.contains { $0.unlabelled > 0 } ? "; patients without a known diagnosis are in neither column." : "."))
        let sorted = f.patients.sorted { (policy.display($0.patient), $0.flag) < (policy.display($1.patient), $1.flag) }
        let shown = sorted.prefix(f.maximumRows)
        // One group per patient (in pseudonym order), one row per flag that fired.
        var patientRows: [ReportTable.Row] = []
        var lastPatient: String? = nil
        for p in shown {
            let name = policy.display(p.patient)
            if name != lastPatient {
                patientRows.append(.group("\(name) · truth \(p.truth) · answer \(p.predicted)"))
                lastPatient = name
            }
            let flag = p.level == "flag" ? p.flag : "\(p.flag) (\(p.level))"
            let what = p.reasons.joined(separator: "; ") + (p.slices.isEmpty ? "" : " [\(p.slices)]")
            patientRows.append(.init([.init(flag, .bold), .init(what)]))
        }
        tables["flag-patients"] = ReportTable(columns: [.init("Flag"), .init("Measurements that fired it (against the threshold) [slices]")],
            rows: patientRows,
            note: shown.count < sorted.count ? "The first \(shown.count) of \(sorted.count) rows; `mlung-audit flags --json` lists all." : nil)
        let pct = { (e: Estimate?) in e.map { $0.formattedPercent() } ?? "–" }
        let top = f.rows.max { ($0.patients, $1.flag) < ($1.patients, $0.flag) }
        return [
            "computed": .flag(f.computed), "command": .text(f.computeCommand), "computedAt": .text(f.computedAt),
            "tool": .text(f.toolVersion), "settings": .text(f.settings), "anySettings": .flag(!f.settings.isEmpty),
            "judged": .text(Format.count(f.patientsJudged)), "storeOnly": .text(Format.count(f.storeOnly)), "anyStoreOnly": .flag(f.storeOnly > 0),
            "flagged": .text(Format.count(f.flaggedPatients)), "anyFlagged": .flag(f.flaggedPatients > 0),
            "flagKinds": .text(String(f.rows.count)), "top": .text(top?.flag ?? ""), "topCount": .text(Format.count(top?.patients ?? 0)),
            "head": .text(f.head),
            "accuracy": .text(pct(f.accuracy)), "accuracyPatients": .text(Format.count(f.accuracyPatients)),
            "accuracyWithout": .text(pct(f.accuracyWithoutPulsatile)),
            "accuracyWithoutPatients": .text(Format.count(f.accuracyWithoutPulsatilePatients)),
            "pulsatile": .text(Format.count(f.pulsatilePatients)), "anyPulsatile": .flag(f.pulsatilePatients > 0),
            "rowCount": .text(String(sorted.count)),
        ]
    }
}
