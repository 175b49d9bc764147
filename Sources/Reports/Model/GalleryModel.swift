/// A flag that fired on a case, with the measurements that fired it.
public struct GalleryFlag: Sendable {
    public var name: String
    /// `flag`, or the flag's level (`probable`, `suspected`, `regressed`, ...).
    public var level: String
    /// Why it fired: each a measurement against its threshold ("lung volume 2.31 L outside 2.5-9 L").
    public var reasons: [String]
    /// Every measurement of the flag's detector: (name, value).
    public var measurements: [(String, String)]
    /// The slices concerned, 1-based ("4-6, 9"), or empty.
    public var slices: String

    public init(name: String, level: String = "flag", reasons: [String], measurements: [(String, String)], slices: String = "") {
        self.name = name; self.level = level; self.reasons = reasons; self.measurements = measurements; self.slices = slices
    }

    /// One measurement and the threshold it crossed.
    public init(name: String, measurement: String, threshold: String) {
        self.init(name: name, reasons: ["\(measurement) (fires at \(threshold))"], measurements: [])
    }
}

/// One case of the failure-case gallery: a strip of slices with lesion maps, both heads'
/// patient probabilities, the ground truth and the flags.
public struct GalleryCase: Sendable {
    public var patient: PatientIdentifier
    public var studyDate: StudyDate?
    /// Why the case is in the gallery, e.g. "false negative", "wrong disease", "flip".
    public var category: String
    public var truth: String
    public var classNames: [String]
    /// The patient network's probabilities, one per class.
    public var patientProbabilities: [Double]
    /// The non-parametric (slice vote) head's probabilities, one per class.
    public var sliceVoteProbabilities: [Double]
    /// Every k-th slice, lung window, overlays placed through the crop box; captions name the
    /// slice and its predicted class.
    public var slices: [SliceImage]
    public var flags: [GalleryFlag]
    /// The slice vote's own answer when it is not the argmax of its scores (the
    /// non-parametric head calls a patient healthy when enough slices are); nil: the argmax.
    public var sliceVotePrediction: Int? = nil
    /// Slices in the whole series, when `slices` shows only some of them.
    public var sliceCount: Int? = nil

    public init(patient: PatientIdentifier, studyDate: StudyDate?, category: String, truth: String, classNames: [String],
                patientProbabilities: [Double], sliceVoteProbabilities: [Double], slices: [SliceImage], flags: [GalleryFlag]) {
        self.patient = patient; self.studyDate = studyDate; self.category = category; self.truth = truth
        self.classNames = classNames; self.patientProbabilities = patientProbabilities
        self.sliceVoteProbabilities = sliceVoteProbabilities; self.slices = slices; self.flags = flags
    }
}

/// The gallery document: which run and filter, and the cases in order.
public struct GalleryModel: Sendable {
    public var model: ModelIdentity
    public var runID: String
    public var cohort: String
    /// What was selected, e.g. "false negatives (fn)".
    public var filter: String
    public var toolVersion: String
    public var runFinished: String
    public var cases: [GalleryCase]
    /// Slices per row of the strip.
    public var slicesPerRow: Int
    /// The overlay's name on the colour bar.
    public var overlayLabel = "lesion probability"
    /// What the overlay is, for the caption under each strip.
    public var overlayNote = "lesion probability"
    /// False when no flag rules have run: the cases then say so instead of "no flag fired".
    public var flagsEvaluated = true

    public init(model: ModelIdentity, runID: String, cohort: String, filter: String, toolVersion: String,
                runFinished: String, cases: [GalleryCase], slicesPerRow: Int = 4) {
        self.model = model; self.runID = runID; self.cohort = cohort; self.filter = filter
        self.toolVersion = toolVersion; self.runFinished = runFinished; self.cases = cases; self.slicesPerRow = slicesPerRow
    }

    /// Template values, tables and figures for `templates/gallery`.
    public func content(policy: IdentifierPolicy) throws -> ReportContent {
        var tables: [String: ReportTable] = [:]
        var figures: [String: Figure] = [:]
        var caseValues: [TemplateValue] = []
        // Cases in pseudonym order, so the order reveals nothing about the identifiers.
        let ordered = cases.sorted { (policy.display($0.patient), $0.category) < (policy.display($1.patient), $1.category) }
        for (i, c) in ordered.enumerated() {
            let n = c.classNames.count
            guard n > 0, c.patientProbabilities.count == n, c.sliceVoteProbabilities.count == n else {
                throw ReportsError.invalidInput(what: "gallery case \(i + 1)", problem: "needs one probability per class for both heads")
            }
            let id = "case-\(i + 1)"
            var stripIDs: [TemplateValue] = []
            let perRow = max(1, slicesPerRow)
            for (r, start) in stride(from: 0, to: c.slices.count, by: perRow).enumerated() {
                let sid = "\(id)-slices-\(r + 1)"
                let row = Array(c.slices[start..<min(start + perRow, c.slices.count)])
                figures[sid] = Figure(SliceStrip(slices: row, overlayLabel: overlayLabel, colorBar: r == 0, aspect: Double(perRow) * 0.95))
                stripIDs.append(.text(sid))
            }
            let predicted = c.patientProbabilities.indices.max { c.patientProbabilities[$0] < c.patientProbabilities[$1] }!
            let voted = c.sliceVotePrediction.flatMap { c.classNames.indices.contains($0) ? $0 : nil }
                ?? c.sliceVoteProbabilities.indices.max { c.sliceVoteProbabilities[$0] < c.sliceVoteProbabilities[$1] }!
            tables["\(id)-probs"] = ReportTable(columns: [
                .init("Class"), .number("Patient network"), .number("Slice vote"), .init("", .left),
            ], rows: c.classNames.enumerated().map { k, name in
                var notes: [String] = []
                if name == c.truth { notes.append("ground truth") }
                if k == predicted { notes.append("patient network's answer") }
                if k == voted { notes.append("slice vote's answer") }
                let style: ReportTable.CellStyle = name == c.truth ? .bold : .normal
                return .init([.init(name, style), .init(Format.fixed(c.patientProbabilities[k], digits: 3), k == predicted ? .bold : .normal),
                              .init(Format.fixed(c.sliceVoteProbabilities[k], digits: 3), k == voted ? .bold : .normal),
                              .init(notes.joined(separator: ", "), .muted)])
            })
            tables["\(id)-flags"] = ReportTable(columns: [.init("Flag"), .init("What fired it"), .init("Measurements")],
                rows: c.flags.map { f in
                    .init([.init(f.level == "flag" ? f.name : "\(f.name) (\(f.level))", .bold),
                           .init(f.reasons.joined(separator: "; ") + (f.slices.isEmpty ? "" : " [slices \(f.slices)]")),
                           .init(f.measurements.map { "\($0.0) \($0.1)" }.joined(separator: ", "), .muted)])
                })
            caseValues.append([
                "number": .text(String(i + 1)), "patient": .text(policy.display(c.patient)),
                "date": c.studyDate.map { .text(policy.display($0)) } ?? .flag(false),
                "category": .text(c.category), "truth": .text(c.truth),
                "predicted": .text(c.classNames[predicted]),
                "predictedProbability": .text(Format.fixed(c.patientProbabilities[predicted], digits: 2)),
                "voted": .text(c.classNames[voted]),
                "correct": .flag(c.classNames[predicted] == c.truth),
                "strips": .list(stripIDs), "probs": .text("\(id)-probs"),
                "flags": .text("\(id)-flags"), "hasFlags": .flag(!c.flags.isEmpty),
                "flagCount": .text(String(c.flags.count)),
                "sliceCount": .text(c.sliceCount.map { $0 > c.slices.count ? "\(c.slices.count) of \($0)" : String(c.slices.count) }
                                    ?? String(c.slices.count)),
            ])
        }
        let title = "MLung-Sys failure-case gallery: \(model.version)"
        let fields = FieldList([
            .init("Model", model.label), .init("Weights SHA-256", model.digest, mono: true),
            .init("Cohort", cohort), .init("Audit run", runID), .init("Selection", filter),
            .init("Cases", String(cases.count)), .init("Tool", "MLung Audit \(toolVersion)"),
            .init("Identifiers", policy.isPseudonymised ? "pseudonymised (keyed HMAC-SHA-256); dates marked * are shifted"
                                                        : "SHOWN: this gallery contains patient identifiers and real dates"),
        ])
        return ReportContent(
            metadata: DocumentMetadata(title: title, author: "MLung Audit \(toolVersion)", subject: "Failure cases of run \(runID)",
                                       keywords: "MLung-Sys, gallery, failure cases", creator: "MLung Audit \(toolVersion)",
                                       creationDate: runFinished),
            runningHeader: title + " · run \(runID)",
            runningHeaderNote: policy.isPseudonymised ? "Identifiers pseudonymised" : "CONTAINS PATIENT IDENTIFIERS",
            footer: "MLung Audit \(toolVersion) · run \(runID)",
            values: ["model": .text(model.label), "run": .text(runID), "filter": .text(filter), "cohort": .text(cohort),
                     "count": .text(String(cases.count)), "cases": .list(caseValues),
                     "overlayNote": .text(overlayNote), "flagsEvaluated": .flag(flagsEvaluated),
                     "identifiers": ["pseudonymised": .flag(policy.isPseudonymised)]],
            tables: tables, fields: ["gallery": fields], figures: figures)
    }

    /// Renders the gallery with the `gallery/gallery` template.
    public func render(templates: ReportTemplates, policy: IdentifierPolicy, theme: Theme = Theme()) throws -> RenderedDocument {
        try DocumentRenderer(theme: theme).render(template: "gallery/gallery", templates: templates, content: content(policy: policy))
    }

    /// Three synthetic cases built from the demo slices.
    public static func demo() -> GalleryModel {
        var rng = SplitMix64(seed: 99)
        let classes = ["Healthy", "COVID-19", "H1N1", "CAP"]
        var cases: [GalleryCase] = []
        let specs: [(String, String, [Double], [Double], [GalleryFlag])] = [
            ("false negative", "COVID-19", [0.61, 0.27, 0.05, 0.07], [0.48, 0.39, 0.05, 0.08],
             [GalleryFlag(name: "Heads disagree", measurement: "margin 0.09", threshold: "< 0.10")]),
            ("wrong disease", "H1N1", [0.03, 0.84, 0.08, 0.05], [0.05, 0.71, 0.17, 0.07],
             [GalleryFlag(name: "Confidently wrong disease", measurement: "p = 0.84", threshold: "≥ 0.80"),
              GalleryFlag(name: "Thick slices", measurement: "3.0 mm", threshold: "> 2.5 mm")]),
            ("flip (now wrong)", "CAP", [0.12, 0.18, 0.41, 0.29], [0.10, 0.22, 0.30, 0.38], []),
        ]
        for (k, spec) in specs.enumerated() {
            var slices: [SliceImage] = []
            for _ in 0..<2 { slices += ReportModel.demoSlices(&rng).slices }
            for j in slices.indices { slices[j].caption = "slice \(6 + j * 6) · " + (j % 3 == 0 ? "non-pneumonia" : spec.1 == "CAP" ? "CAP" : "COVID-19") }
            cases.append(GalleryCase(patient: PatientIdentifier(String(format: "DEMO-PID-%05d", 2000 + k * 31)),
                                     studyDate: StudyDate(year: 2020, month: 3, day: 2 + k * 9), category: spec.0, truth: spec.1,
                                     classNames: classes, patientProbabilities: spec.2, sliceVoteProbabilities: spec.3,
                                     slices: slices, flags: spec.4))
        }
        return GalleryModel(model: ModelIdentity(name: "MLung-Sys", version: "demo-v2", digest: String(repeating: "ab", count: 32)),
                            runID: "run-0007", cohort: "DEMO-A", filter: "flagged cases (--filter flagged)",
                            toolVersion: AuditVersion.tool, runFinished: "2024-05-02T09:30:00Z", cases: cases)
    }
}
