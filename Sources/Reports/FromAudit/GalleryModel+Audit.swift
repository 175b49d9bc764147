import Foundation
public import Audit

/// Which cases of a run go into the failure-case gallery (`--filter`).
public enum GalleryFilter: String, CaseIterable, Sendable {
    /// Healthy patients the learned head calls sick.
    case fp
    /// Sick patients the learned head calls healthy.
    case fn
    /// Sick patients called sick with another disease.
    case wrongDisease = "wrong-disease"
    /// Patients whose diagnosis differs from the baseline run's (needs a baseline).
    case flips
    /// Patients with any stored failure-mode flag (needs `mlung-audit flags --run R` first).
    case flagged
    /// Every assessed patient.
    case all

    /// "false negatives (--filter fn)".
    public var title: String {
        let what: String
        switch self {
        case .fp: what = "false positives"
        case .fn: what = "false negatives"
        case .wrongDisease: what = "wrong disease"
        case .flips: what = "diagnosis changed from the baseline"
        case .flagged: what = "patients with a failure-mode flag"
        case .all: what = "every assessed patient"
        }
        return "\(what) (--filter \(rawValue))"
    }

    /// Whether a patient (assessed, with the learned head's answer) is selected.
    func selects(label: Diagnosis?, predicted: Int, baselinePredicted: Int?, flagged: Bool = false) -> Bool {
        switch self {
        case .flagged: return flagged
        case .fp: return label == .healthy && predicted != 0
        case .fn: return (label?.isSick ?? false) && predicted == 0
        case .wrongDisease: return (label?.isSick ?? false) && predicted != 0 && predicted != label?.rawValue
        case .flips: return baselinePredicted.map { $0 != predicted } ?? false
        case .all: return true
        }
    }
}

extension GalleryModel {
    /// The gallery of a stored run: the selected patients, each with every k-th slice of its
    /// series (`slices(patientID)`, re-read from DICOM by `AuditStore.gallerySlices`), the
    /// stored lesion maps placed back through each slice's crop box, both heads'
    /// probabilities and the ground truth. Flags are shown as not evaluated.
    public init(audit data: AuditStore.RunReportData, filter: GalleryFilter,
                slices: (String) throws -> [AuditStore.GallerySlice]) throws {
        try self.init(audit: data, filters: [filter], flags: nil, slices: slices)
    }

    /// The gallery of a stored run with its stored flags: `filters` must all hold (e.g.
    /// `[.fp, .flagged]`: healthy patients called sick that fired a flag); `flags` are the run's
    /// stored flags (`AuditStore.loadFlags`), nil when they were never computed (the cases then
    /// say "not evaluated"). Each case lists its flags with the measurements that fired them.
    public init(audit data: AuditStore.RunReportData, filters: [GalleryFilter], flags: [PatientFlags]?,
                slices: (String) throws -> [AuditStore.GallerySlice]) throws {
        let filters = filters.isEmpty ? [GalleryFilter.all] : filters
        let findings = Dictionary((flags ?? []).map { ($0.patientID, $0.findings) }, uniquingKeysWith: { a, _ in a })
        let cand = data.candidate
        let basePredicted: [String: Int] = Dictionary((data.baseline?.patients ?? []).compactMap { p in
            p.status == "ok" ? p.predicted.map { (p.patientID, $0) } : nil
        }, uniquingKeysWith: { a, _ in a })
        var cases: [GalleryCase] = []
        for p in cand.patients where p.status == "ok" {
            let fired = findings[p.patientID] ?? []
            guard let probs = p.probabilities, let predicted = p.predicted,
                  filters.allSatisfy({ $0.selects(label: p.label, predicted: predicted, baselinePredicted: basePredicted[p.patientID],
                                                  flagged: !fired.isEmpty) }) else { continue }
            let flaggedSlices = Set(fired.flatMap(\.slices))
            var category: String
            switch (p.label, predicted) {
            case (nil, _): category = "diagnosis unknown"
            case (.healthy?, 0): category = "correct (healthy)"
            case (.healthy?, _): category = "false positive"
            case (_?, 0): category = "false negative"
            case (let l?, let k) where l.rawValue == k: category = "correct"
            default: category = "wrong disease"
            }
            if let b = basePredicted[p.patientID], b != predicted {
                category += " · was \(AuditDisplay.name(b))"
            }
            let images = try slices(p.patientID).map { s -> SliceImage in
                let box = s.cropBox
                let overlay = LesionOverlay(width: s.mapSize, height: s.mapSize, values: s.lesionMap,
                                            placement: Rect(x: Double(box.col0), y: Double(box.row0),
                                                            width: Double(box.width), height: Double(box.height)),
                                            threshold: 0.2)
                let cls = s.predicted == 0 ? "non-pneumonia" : AuditDisplay.name(s.predicted)
                return SliceImage(width: s.columns, height: s.rows, hu: s.hu,
                                  caption: "slice \(s.index + 1) · \(cls)" + (s.cropFailed ? " · no lung" : "")
                                    + (flaggedSlices.contains(s.index) ? " · flagged" : ""), overlay: overlay)
            }
            var c = GalleryCase(patient: PatientIdentifier(p.patientID), studyDate: AuditDisplay.studyDate(p), category: category,
                                truth: p.label.map(AuditDisplay.name) ?? "unknown", classNames: AuditDisplay.classNames,
                                patientProbabilities: probs, sliceVoteProbabilities: p.nonParametric ?? [Double](repeating: .nan, count: 4),
                                slices: images, flags: fired.map { f in
                                    GalleryFlag(name: f.flag.rawValue, level: f.level, reasons: f.reasons,
                                                measurements: f.measurements.map { ($0.name, Self.measurement($0.value)) },
                                                slices: f.slices.isEmpty ? "" : FlagFinding.ranges(f.slices))
                                })
            c.sliceVotePrediction = p.nonParametricPredicted
            c.sliceCount = p.sliceCount
            cases.append(c)
        }
        let finished = AuditDisplay.timestamp(cand.run.endedAt ?? cand.run.startedAt)
        self.init(model: AuditDisplay.identity(cand), runID: String(cand.run.id),
                  cohort: URL(fileURLWithPath: data.cohort.manifestPath).lastPathComponent,
                  filter: filters.map(\.title).joined(separator: " and ") + (data.baseline.map { "; baseline run \($0.run.id)" } ?? ""),
                  toolVersion: AuditLibrary.toolVersion, runFinished: finished, cases: cases)
        overlayLabel = "lesion map"
        overlayNote = "the model's lesion map (cosine similarity to the lesion prototype, rescaled to 0–1; transparent at or below 0.2)"
        flagsEvaluated = flags != nil
    }

    /// A stored measurement as the gallery prints it (NaN: "n/a").
    static func measurement(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "n/a" : (v > 0 ? "∞" : "−∞") }
        if v == v.rounded() && abs(v) < 1e7 { return Format.fixed(v, digits: 0) }
        let a = abs(v)
        return Format.fixed(v, digits: a >= 100 ? 1 : a >= 1 ? 2 : 3)
    }
}
