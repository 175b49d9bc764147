import Foundation
public import Audit

/// The failure-mode section of a stored run: the flags `mlung-audit flags` computed and kept
/// in the store (`AuditStore.loadFlags`), counted and listed.
extension FlagsSection {
    /// What each flag points to, in plain words.
    static func describe(_ flag: FlagKind) -> String {
        switch flag {
        case .pulsatileArtifact: return "Heart-motion artifact beside the heart taken for disease (a false positive)"
        case .cropFailure: return "Lung crop failed or implausible lungs: the model saw the wrong region"
        case .truncatedCoverage: return "The scan does not cover the whole lungs"
        case .wrongBodyPart: return "Not a chest CT (modality, body part or too little lung)"
        case .badGeometry: return "Gaps or irregular slice spacing"
        case .huMiscalibration: return "Air or fat not at their usual HU: scanner calibration differs"
        case .contrastEnhanced: return "Contrast-enhanced scan (the model was trained without contrast)"
        case .heavyNoise: return "Image noise far above the reference"
        case .metal: return "Metal in the field (streak artifacts)"
        case .lowConfidence: return "Low top probability, or the two heads disagree"
        case .versionFlip: return "The diagnosis changed from the baseline version"
        }
    }

    /// The run has no stored flags: the section says so and gives `command`.
    public static func notComputed(command: String) -> FlagsSection { FlagsSection(computed: false, computeCommand: command) }

    /// Maps the stored flags of a run. `predictions` are the run's patients as the report
    /// judges them (its head); accuracy is computed on them with and without the patients
    /// flagged `pulsatile_artifact`, as `mlung-audit flags` does.
    public init(record: AuditStore.FlagRunRecord, patients: [PatientFlags], predictions: PredictionSet, head: String,
                command: String) {
        var rows: [FlagRow] = []
        for kind in FlagKind.allCases {
            let fired = patients.compactMap { p in p.finding(kind).map { (p, $0) } }
            guard !fired.isEmpty else { continue }
            var levels: [String: Int] = [:]
            for (_, f) in fired { levels[f.level, default: 0] += 1 }
            let order = ["probable", "suspected", "regressed", "improved", "changed", "flag"]
            let sortedLevels = levels.sorted { a, b in
                let ia = order.firstIndex(of: a.key) ?? order.count, ib = order.firstIndex(of: b.key) ?? order.count
                return ia != ib ? ia < ib : a.key < b.key
            }.map { ($0.key, $0.value) }
            rows.append(FlagRow(flag: kind.rawValue, description: Self.describe(kind), patients: fired.count, levels: sortedLevels,
                                healthy: fired.filter { $0.0.label == 0 }.count,
                                sick: fired.filter { ($0.0.label ?? 0) > 0 }.count,
                                unlabelled: fired.filter { $0.0.label == nil }.count))
        }
        var listed: [FlaggedPatient] = []
        // Version flips are the rows of "Prediction changes": not repeated patient by patient here.
        for p in patients {
            for f in p.findings where f.flag != .versionFlip {
                listed.append(FlaggedPatient(patient: PatientIdentifier(p.patientID),
                                             truth: p.label.map(AuditDisplay.name) ?? "unknown",
                                             predicted: p.predicted.map(AuditDisplay.name) ?? "–",
                                             flag: f.flag.rawValue, level: f.level, reasons: f.reasons,
                                             slices: f.slices.isEmpty ? "" : "slices " + FlagFinding.ranges(f.slices)))
            }
        }
        let artifact = Set(patients.filter { $0.has(.pulsatileArtifact) }.map(\.patientID))
        let options = StatisticsOptions(resamples: 0)
        let all = try? Evaluator.evaluate(predictions, options: options)
        let kept = try? Evaluator.evaluate(predictions.filter { !artifact.contains($0.patientID) }, options: options)
        func estimate(_ e: Evaluation?) -> Estimate? {
            guard let a = e?.accuracy, let v = a.value else { return nil }
            return Estimate(v, lower: a.wilson?.lower, upper: a.wilson?.upper)
        }
        var settings: [String] = []
        if let b = record.baselineRunID { settings.append("version flips against run \(b)") }
        if let r = record.referenceRunID { settings.append("noise judged against run \(r)") }
        self.init(computed: true, computeCommand: command, computedAt: AuditDisplay.timestamp(record.computedAt),
                  toolVersion: record.toolVersion, settings: settings.joined(separator: "; "),
                  patientsJudged: patients.count, storeOnly: patients.filter { $0.status != "ok" }.count,
                  flaggedPatients: patients.filter { !$0.findings.isEmpty }.count, rows: rows, head: head,
                  accuracy: estimate(all), accuracyPatients: all?.labelled ?? 0,
                  accuracyWithoutPulsatile: estimate(kept), accuracyWithoutPulsatilePatients: kept?.labelled ?? 0,
                  pulsatilePatients: artifact.count, patients: listed)
    }
}
