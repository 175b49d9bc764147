import Foundation

/// Turning a `ReportModel` into what the templates and the layout use.
extension ReportModel {
    /// The template values, tables, field lists and figures of the QA report, with patient
    /// identifiers and dates printed through `policy`.
    public func content(policy: IdentifierPolicy) -> ReportContent {
        let c = cover
        let candidateLabel = c.candidate.version
        let baselineLabel = c.baseline?.version
        var tables: [String: ReportTable] = [:]
        var fields: [String: FieldList] = [:]
        var figures: [String: Figure] = [:]

        // Cover fields.
        var coverFields: [FieldList.Field] = [
            .init("Candidate model", "\(c.candidate.label)"),
            .init("Candidate weights SHA-256", c.candidate.digest, mono: true),
        ]
        if let b = c.baseline {
            coverFields += [.init("Baseline model", b.label), .init("Baseline weights SHA-256", b.digest, mono: true)]
        }
        let counts = c.cohort.classCounts.map { "\($0.0) \(Format.count($0.1))" }.joined(separator: ", ")
        coverFields += [
            .init("Cohort", "\(c.cohort.name): \(c.cohort.description)"),
            .init("Size", "\(Format.count(c.cohort.patients)) patients, \(Format.count(c.cohort.studies)) studies, \(Format.count(c.cohort.series)) series"),
            .init("Ground truth", counts),
        ]
        if let a = c.cohort.firstStudy, let b = c.cohort.lastStudy {
            coverFields.append(.init("Study dates", "\(policy.display(a)) to \(policy.display(b))"))
        }
        coverFields += [
            .init("Audit run", c.runID + (c.baselineRunID.map { " (baseline run \($0))" } ?? ""), mono: false),
            .init("Run finished", c.runFinished),
            .init("Site", c.site),
            .init("Tool", "MLung Audit \(c.toolVersion)"),
            .init("Identifiers", policy.isPseudonymised
                  ? "pseudonymised (keyed HMAC-SHA-256); dates marked * are shifted"
                  : "SHOWN: this report contains patient identifiers and real dates"),
        ]
        fields["cover"] = FieldList(coverFields)

        let gateDetails = c.gates.contains { $0.detail != nil }
        var gateRows: [ReportTable.Row] = []
        var lastGateGroup: String? = nil
        for g in c.gates {
            if let group = g.group, group != lastGateGroup { gateRows.append(.group(group)); lastGateGroup = group }
            var cells: [ReportTable.Cell] = [.init(g.name, .bold), .init(g.criterion), .init(g.observed)]
            if gateDetails { cells.append(.init(g.detail ?? "", .muted)) }
            cells.append(.init(g.outcome.rawValue.uppercased(), g.outcome.cellStyle))
            gateRows.append(.init(cells))
        }
        var gateColumns: [ReportTable.Column] = [.init("Gate"), .init("Criterion"), .init("Observed", .right)]
        if gateDetails { gateColumns.append(.init("What was found")) }
        gateColumns.append(.init("Outcome", .center))
        tables["gates"] = ReportTable(columns: gateColumns, rows: gateRows,
                                      note: c.gateSource.map { "Judged by \($0). ERROR: the gate could not be judged." })

        // Metrics, grouped by class; overall metrics first.
        var metricRows: [ReportTable.Row] = []
        let groups: [String?] = [nil] + classNames.map { Optional($0) }
        for group in groups {
            let rows = metrics.filter { $0.className == group }
            guard !rows.isEmpty else { continue }
            metricRows.append(.group(group ?? "All classes"))
            for m in rows {
                let value = { (e: Estimate) in m.isProportion ? e.formattedPercent() : e.formatted() }
                var cells: [ReportTable.Cell] = [.init(m.metric), .init(value(m.candidate))]
                if c.baseline != nil {
                    if let b = m.baseline {
                        let change = m.candidate.value - b.value
                        let delta = change.isNaN ? "–" : m.isProportion ? Format.signed(change * 100, digits: 1) + " pt"
                                                                        : Format.signed(change, digits: 3)
                        let better = (m.candidate.value > b.value) == m.higherIsBetter
                        let style: ReportTable.CellStyle = m.significantChange ? (better ? .pass : .fail) : .normal
                        cells += [.init(value(b)), .init(delta + (m.significantChange ? " *" : ""), style)]
                    } else {
                        cells += [.init("–", .muted), .init("–", .muted)]
                    }
                }
                metricRows.append(.init(cells))
            }
        }
        var metricColumns: [ReportTable.Column] = [.init("Metric"), .number("\(candidateLabel) (95 % CI)")]
        if let baselineLabel { metricColumns += [.number("\(baselineLabel) (95 % CI)"), .number("Change")] }
        tables["metrics"] = ReportTable(columns: metricColumns, rows: metricRows,
            note: "Intervals are 95 % confidence intervals. Changes marked * are significant at the comparison's level; "
                + "green where the candidate is better, red where it is worse.")

        // ROC curves, one panel per class.
        var rocList: [TemplateValue] = []
        for name in classNames {
            let curves = rocCurves.filter { $0.className == name }
            guard !curves.isEmpty else { continue }
            let id = "roc-" + ReportModel.slug(name)
            figures[id] = Figure(LinePlot.roc(title: name + " vs rest", curves: curves))
            rocList.append(["id": .text(id), "className": .text(name)])
        }

        var confusionList: [TemplateValue] = []
        for (k, m) in confusionMatrices.enumerated() {
            let id = "confusion-\(k + 1)"
            figures[id] = Figure(ConfusionMatrixPlot(title: m.title, subtitle: "accuracy " + Format.percent(m.accuracy),
                                                     classNames: m.classNames, counts: m.counts))
            confusionList.append(["id": .text(id), "title": .text(m.title), "accuracy": .text(Format.percent(m.accuracy))])
        }

        var reliabilityList: [TemplateValue] = []
        for (k, r) in reliability.enumerated() {
            let id = "reliability-\(k + 1)"
            var diagram = ReliabilityDiagram(title: "\(r.className) · \(r.modelLabel)", subtitle: "ECE " + r.ece.formatted(), bins: r.bins)
            diagram.observedLabel = r.observedLabel
            diagram.predictedLabel = r.predictedLabel
            figures[id] = Figure(diagram)
            reliabilityList.append(["id": .text(id), "className": .text(r.className), "model": .text(r.modelLabel),
                                    "ece": .text(r.ece.formatted())])
        }

        // Subgroups.
        var subgroupRows: [ReportTable.Row] = []
        var lastGroup: String? = nil
        for s in subgroups {
            if s.group != lastGroup { subgroupRows.append(.group(s.group)); lastGroup = s.group }
            var cells: [ReportTable.Cell] = [.init(s.level), .init(Format.count(s.patients)), .init(s.candidate.formatted())]
            if c.baseline != nil {
                cells.append(s.baseline.map { .init($0.formatted()) } ?? .init("–", .muted))
                cells.append(s.baseline.map { .init(Format.signed(s.candidate.value - $0.value, digits: 3)) } ?? .init("–", .muted))
            }
            cells.append(s.flagged ? .init("REVIEW", .warn) : .init("ok", .muted))
            subgroupRows.append(.init(cells))
        }
        var subgroupColumns: [ReportTable.Column] = [.init("Subgroup"), .number("Patients"), .number("\(candidateLabel)")]
        if let baselineLabel { subgroupColumns += [.number(baselineLabel), .number("Change")] }
        subgroupColumns.append(.init("Flag", .center))
        tables["subgroups"] = ReportTable(columns: subgroupColumns, rows: subgroupRows,
            note: "\(subgroupMetric) with 95 % confidence intervals. REVIEW: below the whole-cohort value by more than the gate allows, or too few patients to tell.")

        // Flips.
        let sortedFlips = flips.sorted { (policy.display($0.patient), $0.truth) < (policy.display($1.patient), $1.truth) }
        tables["flips"] = ReportTable(columns: [
            .init("Patient", mono: true), .init("Study date"), .init("Ground truth"),
            .init("\(baselineLabel ?? "baseline")"), .number("p"), .init("\(candidateLabel)"), .number("p "), .init("Change"),
        ], rows: sortedFlips.map { f in
            let style: ReportTable.CellStyle = f.direction == .fixed ? .pass : f.direction == .broken ? .fail : .warn
            return .init([.init(policy.display(f.patient)), .init(f.studyDate.map { policy.display($0) } ?? "–"), .init(f.truth),
                          .init(f.baselinePrediction), .init(Format.fixed(f.baselineProbability, digits: 2)),
                          .init(f.candidatePrediction), .init(Format.fixed(f.candidateProbability, digits: 2)),
                          .init(f.direction.rawValue, style)])
        }, note: "p: the model's probability for its predicted class.")

        tables["failure-modes"] = ReportTable(columns: [
            .init("Failure mode"), .init("What fires it"), .number("Cases"), .number("Share"), .init("Examples", mono: true),
            .init("Severity", .center),
        ], rows: failureModes.map { f in
            .init([.init(f.mode, .bold), .init(f.description), .init(Format.count(f.cases)), .init(Format.percent(f.share)),
                   .init(f.examples.prefix(3).map { policy.display($0) }.joined(separator: " ")),
                   .init(f.severity.rawValue.uppercased(), f.severity.cellStyle)])
        })

        let flagsValue: TemplateValue = flags.map { flagsContent($0, policy: policy, tables: &tables) } ?? .flag(false)

        var driftList: [TemplateValue] = []
        var driftAnalysisValue: TemplateValue = .flag(false)
        if let d = drift, let a = d.analysis {
            driftAnalysisValue = driftAnalysisContent(a, reference: d.referenceCohort, candidate: d.currentCohort,
                                                      tables: &tables, fields: &fields, figures: &figures, list: &driftList)
        } else if let d = drift {
            tables["drift"] = ReportTable(columns: [
                .init("Feature"), .number("PSI"), .number("KS D"), .number("p"), .init("Status", .center),
            ], rows: d.features.map { f in
                .init([.init(f.name), .init(Format.fixed(f.psi, digits: 3)), .init(Format.fixed(f.ks, digits: 3)),
                       .init(f.pValue < 0.001 ? "< 0.001" : Format.fixed(f.pValue, digits: 3)),
                       f.shifted ? .init("SHIFTED", .fail) : .init("stable", .pass)])
            }, note: "PSI: population stability index over the bins shown (above \(Format.fixed(d.psiThreshold, digits: 2)) counts as a shift). "
                + "KS D: largest gap between the two cumulative distributions; p from the two-sample Kolmogorov-Smirnov test.")
            for (k, f) in d.features.enumerated() {
                let id = "drift-\(k + 1)"
                figures[id] = Figure(HistogramPlot(title: f.name, subtitle: "PSI \(Format.fixed(f.psi, digits: 3)) · KS D \(Format.fixed(f.ks, digits: 3))",
                    binEdges: f.binEdges, series: [
                        .init(label: d.referenceCohort, values: f.referenceFractions, style: SeriesStyle.cycle(0)),
                        .init(label: d.currentCohort, values: f.currentFractions, style: SeriesStyle.cycle(1)),
                    ], xAxis: Axis(f.unit.isEmpty ? f.name : "\(f.name) (\(f.unit))"), yAxis: Axis("Share of patients", format: .percent)))
                driftList.append(["id": .text(id), "name": .text(f.name), "shifted": .flag(f.shifted)])
            }
        }
        if let strip = exampleSlices { figures["examples"] = Figure(strip) }

        fields["settings"] = FieldList(appendix.settings.map { .init($0.0, $0.1) })

        // Template values.
        func identity(_ m: ModelIdentity) -> TemplateValue {
            ["name": .text(m.name), "version": .text(m.version), "label": .text(m.label), "digest": .text(m.digest),
             "shortDigest": .text(m.shortDigest)]
        }
        let verdict = c.verdict
        let failed = c.gates.filter { $0.outcome == .fail }
        let warned = c.gates.filter { $0.outcome == .warn }
        let errored = c.gates.filter { $0.outcome == .error }
        let summaryClasses: [TemplateValue] = classNames.map { name in
            let rows = metrics.filter { $0.className == name }
            return ["name": .text(name), "metrics": .list(rows.map { m in
                let v = m.isProportion ? m.candidate.formattedPercent() : m.candidate.formatted()
                let b = m.baseline.map { $0.value.isNaN ? "–" : m.isProportion ? Format.percent($0.value) : Format.fixed($0.value, digits: 3) }
                return ["metric": .text(m.metric), "value": .text(v), "baseline": b.map { .text($0) } ?? .flag(false)]
            })]
        }
        let fixed = flips.filter { $0.direction == .fixed }.count
        let broken = flips.filter { $0.direction == .broken }.count
        let shiftedFeatures = drift?.features.filter(\.shifted).map(\.name) ?? []
        let values: TemplateValue = .object([
            "candidate": identity(c.candidate),
            "baseline": c.baseline.map(identity) ?? .flag(false),
            "cohort": ["name": .text(c.cohort.name), "description": .text(c.cohort.description),
                       "patients": .text(Format.count(c.cohort.patients))],
            "run": ["id": .text(c.runID), "finished": .text(c.runFinished), "site": .text(c.site), "tool": .text(c.toolVersion)],
            "verdict": [
                "kind": .text(verdict == .notEvaluated ? "note" : verdict.rawValue),
                "gateNote": .flag(c.gateSource != nil),
                "word": .text(verdict.rawValue.uppercased()),
                "pass": .flag(verdict == .pass), "fail": .flag(verdict == .fail), "warn": .flag(verdict == .warn),
                "gateCount": .text(String(c.gates.count)), "evaluated": .flag(!c.gates.isEmpty),
                "failedCount": .text(String(failed.count)), "warnedCount": .text(String(warned.count)),
                "failedNames": .text(failed.map(\.name).joined(separator: ", ")),
                "warnedNames": .text(warned.map(\.name).joined(separator: ", ")),
                "error": .flag(verdict == .error), "errorCount": .text(String(errored.count)),
                "errorNames": .text(errored.map(\.name).joined(separator: ", ")),
                "passedCount": .text(String(c.gates.filter { $0.outcome == .pass }.count)),
                "source": c.gateSource.map { .text($0) } ?? .flag(false),
            ],
            "identifiers": ["pseudonymised": .flag(policy.isPseudonymised)],
            "summary": ["classes": .list(summaryClasses)],
            "flips": [
                "any": .flag(!flips.isEmpty), "count": .text(String(flips.count)),
                "share": .text(Format.percent(Double(flips.count) / Double(max(c.cohort.patients, 1)))),
                "fixed": .text(String(fixed)), "broken": .text(String(broken)),
                "other": .text(String(flips.count - fixed - broken)),
            ],
            "failureModes": ["any": .flag(!failureModes.isEmpty || flags != nil), "legacy": .flag(!failureModes.isEmpty),
                             "count": .text(String(failureModes.count)),
                             "top": .text(failureModes.max(by: { $0.cases < $1.cases })?.mode ?? "")],
            "flags": flagsValue,
            "subgroups": ["any": .flag(!subgroups.isEmpty), "metric": .text(subgroupMetric),
                          "flagged": .text(String(subgroups.filter(\.flagged).count)), "count": .text(String(subgroups.count))],
            "roc": .list(rocList),
            "confusion": .list(confusionList),
            "reliability": .list(reliabilityList),
            "drift": drift.map { d in
                ["reference": .text(d.referenceCohort), "current": .text(d.currentCohort),
                 "featureCount": .text(String(d.features.count)), "shiftedCount": .text(String(shiftedFeatures.count)),
                 "shiftedNames": .text(shiftedFeatures.joined(separator: ", ")), "anyShifted": .flag(!shiftedFeatures.isEmpty),
                 "psiThreshold": .text(Format.fixed(d.psiThreshold, digits: 2)), "figures": .list(driftList),
                 "analysis": driftAnalysisValue]
            } ?? .flag(false),
            "examples": .flag(exampleSlices != nil),
            "appendix": ["command": .text(appendix.reproductionCommand), "notes": .list(appendix.notes.map { .text($0) })],
        ])

        let title = "MLung-Sys QA report: \(c.candidate.version)" + (c.baseline.map { " vs \($0.version)" } ?? "")
        return ReportContent(
            metadata: DocumentMetadata(title: title, author: "MLung Audit \(c.toolVersion)",
                                       subject: "Model QA audit on cohort \(c.cohort.name)",
                                       keywords: "MLung-Sys, QA, audit, ROC, calibration, drift",
                                       creator: "MLung Audit \(c.toolVersion)", creationDate: c.runFinished),
            runningHeader: title + " · cohort \(c.cohort.name)",
            runningHeaderNote: policy.isPseudonymised ? "Identifiers pseudonymised" : "CONTAINS PATIENT IDENTIFIERS",
            footer: "MLung Audit \(c.toolVersion) · run \(c.runID)",
            values: values, tables: tables, fields: fields, figures: figures)
    }

    /// Renders the QA report with the `report/report` template.
    public func render(templates: ReportTemplates, policy: IdentifierPolicy, theme: Theme = Theme()) throws -> RenderedDocument {
        try DocumentRenderer(theme: theme).render(template: "report/report", templates: templates, content: content(policy: policy))
    }

    /// "COVID-19" -> "covid-19": ids for figures.
    static func slug(_ s: String) -> String {
        var out = ""
        for ch in s.lowercased() {
            if ch.isLetter || ch.isNumber { out.append(ch) } else if out.last != "-" { out.append("-") }
        }
        return out.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }
}
