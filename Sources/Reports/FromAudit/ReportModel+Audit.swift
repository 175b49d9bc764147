import Foundation
public import Audit

/// The QA report of a stored run: every figure comes from the statistics of `Audit`
/// (`Evaluator`, `Comparator`) over the run's stored predictions; nothing is estimated here.
extension ReportModel {
    /// Maps a run (and its baseline) onto the report.
    ///
    /// - `policy` is needed here only to print failure reasons without identifiers; patient
    ///   ids and dates in tables still go through `content(policy:)`.
    /// - `reproductionCommand` is printed verbatim in the appendix.
    /// - `flags`: the run's stored failure-mode flags (`FlagsSection(record:...)`), or
    ///   `FlagsSection.notComputed(command:)`; `drift`: the drift analysis against a reference run
    ///   (`DriftSection(report:...)`); `gates`: the release gates of a nightly verdict
    ///   (`NightlyVerdictFile.gates`), judged by `gateSource`. Sections left nil or empty are
    ///   printed as "not evaluated".
    public init(audit data: AuditStore.RunReportData, policy: IdentifierPolicy, reproductionCommand: String,
                flags: FlagsSection? = nil, drift: DriftSection? = nil, gates: [GateResult] = [], gateSource: String? = nil) {
        let cand = data.candidate, base = data.baseline
        var candidateID = AuditDisplay.identity(cand)
        var baselineID = base.map(AuditDisplay.identity)
        if let b = baselineID, b.version == candidateID.version, let bRun = base?.run.id {
            // Two runs of one model version: tell them apart by run.
            candidateID.version += " (run \(cand.run.id))"
            baselineID?.version = b.version + " (run \(bRun))"
        }
        let cLabel = candidateID.version, bLabel = baselineID?.version ?? ""
        let ev = cand.evaluation, bev = base?.evaluation
        let alpha = 1 - data.options.confidenceLevel
        let classNames = AuditDisplay.classNames

        // Metrics: intervals are Wilson for proportions, DeLong for AUC (bootstrap when DeLong
        // is undefined), bootstrap percentile for Brier and ECE.
        func proportion(_ p: ProportionEstimate) -> Estimate {
            guard let v = p.value else { return Estimate(.nan) }
            return Estimate(v, lower: p.wilson?.lower, upper: p.wilson?.upper)
        }
        func auc(_ a: AUCEstimate) -> Estimate {
            guard let v = a.value else { return Estimate(.nan) }
            let ci = a.delong.map { ($0.lower, $0.upper) } ?? a.bootstrap.map { ($0.lower, $0.upper) }
            return Estimate(v, lower: ci?.0, upper: ci?.1)
        }
        func scalar(_ s: ScalarEstimate) -> Estimate {
            guard let v = s.value else { return Estimate(.nan) }
            return Estimate(v, lower: s.bootstrap?.lower, upper: s.bootstrap?.upper)
        }
        func significant(_ m: MetricID) -> Bool {
            guard let p = data.comparison?.metric(m).p else { return false }
            return p < alpha
        }
        var metrics: [MetricRow] = []
        func row(_ name: String, _ cls: String?, _ id: MetricID, _ get: (Evaluation) -> Estimate, proportion isProportion: Bool) {
            metrics.append(MetricRow(metric: name, className: cls, candidate: get(ev), baseline: bev.map(get),
                                     higherIsBetter: id.higherIsBetter, isProportion: isProportion, significantChange: significant(id)))
        }
        row("Accuracy", nil, .accuracy, { proportion($0.accuracy) }, proportion: true)
        row("False positive error (healthy called sick)", nil, .fpe, { proportion($0.fpe) }, proportion: true)
        row("False negative error (sick called healthy)", nil, .fne, { proportion($0.fne) }, proportion: true)
        row("Wrong disease (sick, other disease)", nil, .fdpe, { proportion($0.fdpe) }, proportion: true)
        row("Brier score", nil, .brier, { scalar($0.calibration.brier) }, proportion: false)
        row("ECE (top-class confidence)", nil, .ece, { scalar($0.calibration.ece) }, proportion: false)
        for d in Diagnosis.allCases {
            let k = d.rawValue, name = AuditDisplay.name(d)
            row("AUC", name, .auc(d), { auc($0.classes[k].auc) }, proportion: false)
            row("Sensitivity", name, .sensitivity(d), { proportion($0.classes[k].sensitivity) }, proportion: true)
            row("Specificity", name, .specificity(d), { proportion($0.classes[k].specificity) }, proportion: true)
        }

        // ROC curves, both versions per class.
        var curves: [ROCCurve] = []
        for d in Diagnosis.allCases {
            let k = d.rawValue, name = AuditDisplay.name(d)
            for (e, label, style) in [(Optional(ev), cLabel, 0), (bev, bLabel, 1)] {
                guard let e, !e.classes[k].roc.isEmpty else { continue }
                curves.append(ROCCurve(className: name, modelLabel: label,
                                       points: e.classes[k].roc.map { ROCPoint($0.falsePositiveRate, $0.truePositiveRate) },
                                       auc: auc(e.classes[k].auc), style: SeriesStyle.cycle(style)))
            }
        }

        var confusion = [ConfusionMatrix(title: "\(cLabel) (candidate)", classNames: classNames, counts: ev.confusion.counts)]
        if let bev { confusion.append(ConfusionMatrix(title: "\(bLabel) (baseline)", classNames: classNames, counts: bev.confusion.counts)) }

        func reliability(_ e: Evaluation, _ label: String) -> ReliabilitySeries {
            var s = ReliabilitySeries(className: "Top-class confidence", modelLabel: label, bins: e.calibration.bins.map { b in
                ReliabilityBin(lower: b.lower, upper: b.upper, meanPredicted: b.meanConfidence ?? (b.lower + b.upper) / 2,
                               observedFrequency: b.accuracy ?? 0, count: b.count)
            }, ece: scalar(e.calibration.ece))
            s.observedLabel = "Accuracy"
            s.predictedLabel = "Top-class confidence"
            return s
        }
        var calibration = [reliability(ev, cLabel)]
        if let bev { calibration.append(reliability(bev, bLabel)) }

        // Subgroups: accuracy in every group of every manifest metadata column.
        var subgroups: [SubgroupRow] = []
        for analysis in cand.subgroups {
            let baseAnalysis = base?.subgroups.first { $0.spec.column == analysis.spec.column }
            for g in analysis.groups {
                let bg = baseAnalysis?.groups.first { $0.value == g.value }
                subgroups.append(SubgroupRow(group: analysis.spec.column, level: g.value, patients: g.evaluation.patients,
                                             candidate: proportion(g.evaluation.accuracy),
                                             baseline: bg.map { proportion($0.evaluation.accuracy) }, flagged: g.tooSmall))
            }
        }

        // Flips: every labelled patient whose diagnosis changed between the versions.
        let byID = Dictionary(cand.patients.map { ($0.patientID, $0) }, uniquingKeysWith: { a, _ in a })
        var flips: [FlipCase] = []
        var unlabelledChanges = 0
        for d in data.comparison?.agreement.disagreeing ?? [] {
            guard let truth = d.label else { unlabelledChanges += 1; continue }
            flips.append(FlipCase(patient: PatientIdentifier(d.patientID), studyDate: byID[d.patientID].flatMap(AuditDisplay.studyDate),
                                  truth: AuditDisplay.name(truth),
                                  baselinePrediction: AuditDisplay.name(d.baselinePredicted),
                                  baselineProbability: d.baselineProbabilities[d.baselinePredicted.rawValue],
                                  candidatePrediction: AuditDisplay.name(d.candidatePredicted),
                                  candidateProbability: d.candidateProbabilities[d.candidatePredicted.rawValue]))
        }

        // The cohort: patients in the figures (assessed and labelled), their studies and series.
        let assessed = cand.patients.filter { $0.status == "ok" }
        let labelled = assessed.filter { $0.label != nil }
        let failed = cand.patients.filter { $0.status == "failed" }
        let dates = labelled.compactMap(AuditDisplay.studyDate).sorted()
        let manifestURL = URL(fileURLWithPath: data.cohort.manifestPath)
        var description = "\(cand.patients.count) patients listed in the manifest, \(assessed.count) assessed"
        if !failed.isEmpty { description += ", \(failed.count) failed" }
        if assessed.count > labelled.count { description += ", \(assessed.count - labelled.count) without a known diagnosis" }
        let cohort = CohortInfo(
            name: manifestURL.lastPathComponent, description: description, patients: ev.labelled,
            studies: Set(labelled.map { $0.series?.studyInstanceUID ?? $0.patientID }).count,
            series: Set(labelled.map { $0.seriesContentSHA256 ?? $0.patientID }).count,
            classCounts: Diagnosis.allCases.map { (AuditDisplay.name($0), ev.confusion.positives($0)) },
            firstStudy: dates.first, lastStudy: dates.last)

        let finished = AuditDisplay.timestamp(cand.run.endedAt ?? cand.run.startedAt)
        var cover = CoverInfo(candidate: candidateID, baseline: baselineID, cohort: cohort, runID: String(cand.run.id),
                              baselineRunID: base.map { String($0.run.id) }, toolVersion: AuditLibrary.toolVersion,
                              runFinished: finished, site: "audit store \(URL(fileURLWithPath: data.storePath).lastPathComponent), host \(cand.run.host)",
                              gates: gates)

        cover.gateSource = gates.isEmpty ? nil : gateSource

        // Appendix: every setting, the tests behind the stars, notes and failures.
        var settings: [(String, String)] = []
        func describe(_ r: AuditStore.ReportRun, _ role: String) {
            settings.append(("\(role) run", "run \(r.run.id) · \(r.run.kind) · label \"\(r.run.label)\" · \(r.run.status)"))
            settings.append(("\(role) run started, finished", "\(AuditDisplay.timestamp(r.run.startedAt)), \(r.run.endedAt.map(AuditDisplay.timestamp) ?? "not finished")"))
            settings.append(("\(role) run host, tool", "\(r.run.host), MLung Audit \(r.run.toolVersion)"))
            if let m = r.model {
                settings.append(("\(role) model", "\(m.name) \(m.version), classes \(m.classes.joined(separator: ", "))"))
                if let p = r.modelPath { settings.append(("\(role) weights file", p)) }
                settings.append(("\(role) weights SHA-256", m.sha256))
                settings.append(("\(role) slice network digest", m.sliceDigest))
                settings.append(("\(role) patient network digest", m.patientDigest))
            } else {
                settings.append(("\(role) predictions", "imported deployment log: \(r.run.settingsJSON)"))
            }
            if let s = try? JSONDecoder().decode(RunSettings.self, from: Data(r.run.settingsJSON.utf8)) {
                let p = s.preprocess
                settings.append(("\(role) preprocessing", "lung mask below \(Format.fixed(Double(p.lungThresholdHU), digits: 0)) HU, opening \(p.openingKernel) px, "
                    + "components of at least \(Format.percent(p.minComponentFraction, digits: 2)) of the slice, crop margin \(p.cropMargin) px, "
                    + "crop resized to \(p.inputSize) × \(p.inputSize); series of at least \(s.minimumSlices) slices"))
            }
            settings.append(("\(role) patient head judged", r.head == .learned ? "learned patient network (softmax)" : "non-parametric assessment (scores s0–s3)"))
        }
        describe(cand, "Candidate")
        if let base { describe(base, "Baseline") }
        let o = data.options
        settings += [
            ("Cohort manifest", data.cohort.manifestPath),
            ("Manifest SHA-256", data.cohort.manifestSHA256),
            ("Audit store", data.storePath),
            ("Confidence intervals", "\(Format.percent(o.confidenceLevel, digits: 0)): Wilson for proportions, DeLong for AUC, "
                + "percentile bootstrap for Brier and ECE (\(o.resamples) resamples by patient, seed \(o.seed), xoshiro256**)"),
            ("Significant change (*)", "paired bootstrap p < \(Format.fixed(alpha, digits: 2)) on the patients assessed in both runs"),
            ("Calibration", "\(o.calibrationBins) equal-width bins of the top-class confidence"),
            ("Subgroups", data.cohort.metadataColumns.isEmpty ? "none: the manifest has no metadata column"
                : "by every manifest metadata column with 2 to \(AuditStore.reportSubgroupMaximumLevels) distinct values and, beyond 3 values, at least \(AuditStore.reportSubgroupMinimumMeanSize) patients per value on average (of \(data.cohort.metadataColumns.joined(separator: ", "))); REVIEW when a class has fewer than \(o.minimumPositives) positives or \(o.minimumNegatives) negatives"),
            ("Release gates", gates.isEmpty ? "not evaluated: no gate verdict was given" : "\(gates.count) gates from \(gateSource ?? "a gate verdict")"),
            ("Failure modes", flags.map { f in f.computed
                ? "stored flags of run \(cand.run.id), computed \(f.computedAt) by MLung Audit \(f.toolVersion)" + (f.settings.isEmpty ? "" : "; \(f.settings)")
                : "not computed for run \(cand.run.id): \(f.computeCommand)" } ?? "not evaluated: no failure-mode rules have run on this audit"),
            ("Drift", drift?.analysis.map { "DriftAnalyzer: \($0.candidateRun) against \($0.referenceRun); \($0.multipleTesting)" }
                ?? "not evaluated: no drift reference was given"),
            ("Pseudonyms", "HMAC-SHA-256 with this audit store's secret; dates shifted by one offset for the store"),
        ]

        var notes: [String] = []
        let ids = cand.patients.map(\.patientID)
        let folder = manifestURL.deletingLastPathComponent().path
        if !failed.isEmpty {
            let list = failed.map { p in
                "\(policy.display(PatientIdentifier(p.patientID))) (\(AuditDisplay.scrub(p.error ?? "no reason recorded", policy: policy, patientIDs: ids, cohortFolder: folder)))"
            }.sorted()
            notes.append("\(failed.count) patient\(failed.count == 1 ? "" : "s") of the candidate run could not be assessed and \(failed.count == 1 ? "is" : "are") left out of every figure: "
                + list.joined(separator: "; ") + ".")
        }
        for (role, e) in [("Candidate", Optional(ev)), ("Baseline", bev)] {
            guard let e else { continue }
            for n in e.notes { notes.append("\(role): \(n).") }
            for w in e.warnings { notes.append("\(role), too few patients: \(w).") }
        }
        if let c = data.comparison {
            if data.comparisonLeftOut > 0 {
                notes.append("\(data.comparisonLeftOut) patients assessed by only one of the two runs are left out of the comparison.")
            }
            if let m = c.mcnemar {
                notes.append("McNemar's test of accuracy (\(m.method == .exactBinomial ? "exact binomial" : "chi-square with continuity correction")): "
                    + "\(m.baselineOnlyCorrect) patients right only with \(bLabel), \(m.candidateOnlyCorrect) right only with \(cLabel), p = \(Format.fixed(m.p, digits: 3)).")
            }
            for t in c.delong {
                guard let diff = t.difference, let p = t.p else { continue }
                notes.append("DeLong's paired test, \(AuditDisplay.name(t.diagnosis)) AUC: difference \(Format.signed(diff, digits: 3)), p = \(Format.fixed(p, digits: 3)).")
            }
            let a = c.agreement
            notes.append("Agreement of the two runs over \(a.patients) patients: \(a.samePrediction) with the same diagnosis"
                + (a.kappa.map { ", Cohen's kappa \(Format.fixed($0, digits: 3))" } ?? "") + ".")
            if unlabelledChanges > 0 {
                notes.append("\(unlabelledChanges) patients without a known diagnosis changed diagnosis; they are not listed as flips.")
            }
        }

        self.init(cover: cover, classNames: classNames, subgroupMetric: "Accuracy (share of labelled patients diagnosed right)",
                  metrics: metrics, rocCurves: curves, confusionMatrices: confusion, reliability: calibration,
                  subgroups: subgroups, flips: flips, failureModes: [], drift: drift,
                  appendix: AppendixInfo(settings: settings, reproductionCommand: reproductionCommand, notes: notes), flags: flags)
    }
}
