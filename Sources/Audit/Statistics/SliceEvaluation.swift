import Foundation

/// The slice lesion head judged against slice lesion labels (lesion = positive).
public struct LesionFigures: Encodable, Equatable, Sendable {
    /// Labelled lesion slices.
    public var positives: Int
    /// Labelled slices without lesion.
    public var negatives: Int
    /// Lesion slices called lesion / lesion slices.
    public var sensitivity: ProportionEstimate
    /// Slices without lesion not called lesion / slices without lesion.
    public var specificity: ProportionEstimate
    /// Right calls / labelled slices.
    public var accuracy: ProportionEstimate
    /// AUC of the lesion probability.
    public var auc: AUCEstimate
    public var roc: [ROCPoint]

    enum CodingKeys: String, CodingKey { case positives, negatives, sensitivity, specificity, accuracy, auc, roc }
}

/// Slice-level figures of one run: the lesion head against lesion labels and, when the labels
/// carry a class, the slices' four-class probabilities q against it. Bootstrap intervals
/// resample patients (all the slices of a drawn patient come along), since the slices of a
/// patient are not independent; Wilson and DeLong intervals treat slices as independent.
public struct SliceEvaluation: Encodable, Equatable, Sendable {
    /// Where the outputs come from (the run).
    public var source: String
    /// The slice-label file.
    public var labels: String
    /// The join column of the label file (`slice_index`, `sop_instance_uid`, `instance_number`).
    public var join: String
    /// Patients with at least one slice lesion label (the bootstrap's clusters).
    public var patients: Int
    /// Slices of the run's patients, labelled or not.
    public var slices: Int
    /// Slices with a lesion label.
    public var labelled: Int
    public var lesion: LesionFigures
    /// The four-class figures over slices with a class label (nil when no slice has a class).
    public var classes: Evaluation?
    public var settings: StatisticsOptions
    public var notes: [String]
    public var warnings: [String]

    enum CodingKeys: String, CodingKey { case source, labels, join, patients, slices, labelled, lesion, classes, settings, notes, warnings }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(labels, forKey: .labels)
        try c.encode(join, forKey: .join)
        try c.encode(patients, forKey: .patients)
        try c.encode(slices, forKey: .slices)
        try c.encode(labelled, forKey: .labelled)
        try c.encode(lesion, forKey: .lesion)
        try c.encode(classes, forKey: .classes)
        try c.encode(settings, forKey: .settings)
        try c.encode(notes, forKey: .notes)
        try c.encode(warnings, forKey: .warnings)
    }

    /// The point value of a slice metric; nil when undefined.
    public func value(_ metric: SliceMetricID) -> Double? {
        switch metric {
        case .lesionSensitivity: return lesion.sensitivity.value
        case .lesionSpecificity: return lesion.specificity.value
        case .lesionAccuracy: return lesion.accuracy.value
        case .lesionAUC: return lesion.auc.value
        case let .classes(m): return classes?.value(m)
        }
    }
}

/// The slice figures that gates name: `slice.lesion.sensitivity`, `slice.lesion.specificity`,
/// `slice.lesion.accuracy`, `slice.lesion.auc`, and `slice.<metric>` for the four-class figures
/// over slices (`slice.sensitivity.covid19`, `slice.accuracy`, ...).
public enum SliceMetricID: Hashable, Sendable, CustomStringConvertible {
    case lesionSensitivity, lesionSpecificity, lesionAccuracy, lesionAUC
    case classes(MetricID)

    public static let all: [SliceMetricID] = [.lesionSensitivity, .lesionSpecificity, .lesionAccuracy, .lesionAUC]
        + MetricID.all.map { .classes($0) }

    public var name: String {
        switch self {
        case .lesionSensitivity: return "slice.lesion.sensitivity"
        case .lesionSpecificity: return "slice.lesion.specificity"
        case .lesionAccuracy: return "slice.lesion.accuracy"
        case .lesionAUC: return "slice.lesion.auc"
        case let .classes(m): return "slice." + m.name
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let m = SliceMetricID.all.first(where: { $0.name == name }) else { return nil }
        self = m
    }
}

/// Judges slices against slice labels.
public enum SliceEvaluator {
    /// Every slice figure of `slices`. Units are ordered by patient id (UTF-8 bytes), then slice
    /// index; the bootstrap draws patients (those with at least one label of the kind judged)
    /// with the documented generator, and every slice takes its patient's multiplicity.
    public static func evaluate(_ slices: [SlicePrediction], source: String, labels: String, join: String = "slice_index",
                                notes extraNotes: [String] = [], options: StatisticsOptions = StatisticsOptions()) throws -> SliceEvaluation {
        try options.validate()
        let ordered = slices.sorted {
            $0.patientID != $1.patientID ? PredictionSet.precedes($0.patientID, $1.patientID) : $0.sliceIndex < $1.sliceIndex
        }
        func clusters(_ units: [SlicePrediction]) -> (cluster: [Int], count: Int) {
            var cluster: [Int] = [], count = 0, last: String?
            for u in units {
                if u.patientID != last { count += 1; last = u.patientID }
                cluster.append(count - 1)
            }
            return (cluster, count)
        }
        func unitID(_ s: SlicePrediction) -> String { "\(s.patientID)#\(s.sliceIndex)" }

        // The lesion head as a two-class problem inside the four-class machinery: label
        // covid19 for a lesion slice, healthy otherwise; probabilities (p0, p1, 0, 0), so the
        // argmax calls a lesion when p1 > p0 and class 1 is the lesion head.
        let lesionUnits = ordered.filter { $0.lesion != nil }
        let lesionPredictions = lesionUnits.map {
            PatientPrediction(patientID: unitID($0), label: $0.lesion! ? .covid19 : .healthy,
                              probabilities: [$0.lesionProbabilities[0], $0.lesionProbabilities[1], 0, 0])
        }
        let lesionSet = PredictionSet(source: source, patients: lesionPredictions)
        let lesionClusters = clusters(lesionUnits)
        let e = Evaluator.evaluate(lesionSet, labelled: lesionPredictions, clusters: lesionClusters, options: options)
        let c = e.classes[Diagnosis.covid19.rawValue]
        let lesion = LesionFigures(positives: c.positives, negatives: c.negatives, sensitivity: c.sensitivity,
                                   specificity: c.specificity, accuracy: e.accuracy, auc: c.auc, roc: c.roc)

        var classes: Evaluation?
        let classUnits = ordered.filter { $0.diagnosis != nil }
        if !classUnits.isEmpty {
            let predictions = classUnits.map {
                PatientPrediction(patientID: unitID($0), label: $0.diagnosis, probabilities: $0.classProbabilities)
            }
            var ev = Evaluator.evaluate(PredictionSet(source: source, patients: predictions), labelled: predictions,
                                        clusters: clusters(classUnits), options: options)
            ev.notes = ev.notes.map(Self.slicesWording)
            ev.warnings = ev.warnings.map(Self.slicesWording)
            classes = ev
        }

        var notes = extraNotes
        let unlabelled = slices.count - lesionUnits.count
        if unlabelled > 0 { notes.append("\(unlabelled) of \(slices.count) slices have no lesion label and are left out") }
        if lesionUnits.isEmpty { notes.append("no slice has a lesion label: no slice figure can be computed") }
        if c.positives == 0 && !lesionUnits.isEmpty { notes.append("no lesion slices: lesion sensitivity and AUC are undefined") }
        if c.negatives == 0 && !lesionUnits.isEmpty { notes.append("only lesion slices: lesion specificity and AUC are undefined") }
        notes.append("bootstrap intervals resample the \(lesionClusters.count) patients with all their slices; Wilson and DeLong intervals treat slices as independent and are too narrow when slices of a patient are correlated")
        if options.resamples == 0 { notes.append("bootstrap off: no bootstrap intervals") }
        var warnings: [String] = []
        if !lesionUnits.isEmpty && (c.positives < options.minimumPositives || c.negatives < options.minimumNegatives) {
            warnings.append("lesion: \(c.positives) lesion slices, \(c.negatives) slices without lesion (fewer than \(options.minimumPositives) or \(options.minimumNegatives)): too uncertain to judge")
        }
        if !lesionUnits.isEmpty && lesionClusters.count < options.minimumPositives {
            warnings.append("lesion: only \(lesionClusters.count) patients with labelled slices: the bootstrap by patient is too coarse to judge")
        }
        return SliceEvaluation(source: source, labels: labels, join: join, patients: lesionClusters.count, slices: slices.count,
                               labelled: lesionUnits.count, lesion: lesion, classes: classes, settings: options,
                               notes: notes, warnings: warnings)
    }

    static func slicesWording(_ s: String) -> String {
        s.replacingOccurrences(of: " patients", with: " slices")
    }
}
