/// One metric of a baseline and a candidate on the same patients, with the paired bootstrap
/// interval and p-value of the difference (candidate − baseline).
public struct MetricComparison: Encodable, Equatable, Sendable {
    public var metric: MetricID
    public var baseline: Double?
    public var candidate: Double?
    /// candidate − baseline; nil when either is undefined.
    public var difference: Double?
    /// Percentile interval of the paired bootstrap differences.
    public var bootstrap: BootstrapInterval?
    /// Two-sided paired bootstrap p-value (see `Bootstrap.pairedPValue`).
    public var p: Double?

    enum CodingKeys: String, CodingKey { case metric, baseline, candidate, difference, bootstrap, p }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(metric.name, forKey: .metric)
        try c.encode(baseline, forKey: .baseline)
        try c.encode(candidate, forKey: .candidate)
        try c.encode(difference, forKey: .difference)
        try c.encode(bootstrap, forKey: .bootstrap)
        try c.encode(p, forKey: .p)
    }
}

/// DeLong's paired test of one class's AUC, candidate against baseline.
public struct PairedAUCTest: Encodable, Equatable, Sendable {
    public var diagnosis: Diagnosis
    public var baseline: Double?
    public var candidate: Double?
    /// candidate − baseline.
    public var difference: Double?
    public var standardError: Double?
    /// difference / standard error; ±∞ when the error is 0 and the difference is not
    /// (encoded as null in JSON, with p = 0).
    public var z: Double?
    public var p: Double?
    /// difference ± z_{level}·SE.
    public var interval: ConfidenceInterval?

    enum CodingKeys: String, CodingKey {
        case diagnosis = "class", baseline, candidate, difference, standardError = "standard_error", z, p, interval
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(diagnosis.name, forKey: .diagnosis)
        try c.encode(baseline, forKey: .baseline)
        try c.encode(candidate, forKey: .candidate)
        try c.encode(difference, forKey: .difference)
        try c.encode(standardError, forKey: .standardError)
        try c.encode(z.flatMap { $0.isFinite ? $0 : nil }, forKey: .z)
        try c.encode(p, forKey: .p)
        try c.encode(interval, forKey: .interval)
    }
}

/// A labelled patient whose prediction went from right to wrong or wrong to right.
public struct Flip: Encodable, Equatable, Sendable {
    public enum Direction: String, Encodable, Sendable {
        case rightToWrong = "right_to_wrong"
        case wrongToRight = "wrong_to_right"
    }

    public var patientID: String
    public var label: Diagnosis
    public var direction: Direction
    public var baselinePredicted: Diagnosis
    public var candidatePredicted: Diagnosis
    public var baselineProbabilities: [Double]
    public var candidateProbabilities: [Double]

    enum CodingKeys: String, CodingKey {
        case patientID = "patient_id", label, direction, baselinePredicted = "baseline_predicted"
        case candidatePredicted = "candidate_predicted", baselineProbabilities = "baseline_probabilities"
        case candidateProbabilities = "candidate_probabilities"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(patientID, forKey: .patientID)
        try c.encode(label.name, forKey: .label)
        try c.encode(direction, forKey: .direction)
        try c.encode(baselinePredicted.name, forKey: .baselinePredicted)
        try c.encode(candidatePredicted.name, forKey: .candidatePredicted)
        try c.encode(baselineProbabilities, forKey: .baselineProbabilities)
        try c.encode(candidateProbabilities, forKey: .candidateProbabilities)
    }
}

/// The comparison of a candidate prediction set with a baseline on the same patients.
public struct Comparison: Encodable, Equatable, Sendable {
    public var baseline: String
    public var candidate: String
    /// Patients in both sets (all of them: the sets must hold the same patients).
    public var patients: Int
    /// Patients with a label: the only ones in the metric comparisons, McNemar and DeLong.
    public var labelled: Int
    /// Every `MetricID`, in `MetricID.all` order.
    public var metrics: [MetricComparison]
    /// McNemar's test of accuracy; nil without labelled patients.
    public var mcnemar: McNemarTest?
    /// DeLong's paired test per class, in `Diagnosis` order.
    public var delong: [PairedAUCTest]
    /// Labelled patients right in one set and wrong in the other, by patient id.
    public var flips: [Flip]
    /// Agreement of the two sets on all patients, labelled or not.
    public var agreement: Agreement
    public var settings: StatisticsOptions
    public var notes: [String]

    /// The comparison of one metric.
    public func metric(_ m: MetricID) -> MetricComparison { metrics[m.index] }

    public var rightToWrong: [Flip] { flips.filter { $0.direction == .rightToWrong } }
    public var wrongToRight: [Flip] { flips.filter { $0.direction == .wrongToRight } }

    enum CodingKeys: String, CodingKey {
        case baseline, candidate, patients, labelled, metrics, mcnemar, delong, flips, rightToWrong = "right_to_wrong"
        case wrongToRight = "wrong_to_right", agreement, settings, notes
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(baseline, forKey: .baseline)
        try c.encode(candidate, forKey: .candidate)
        try c.encode(patients, forKey: .patients)
        try c.encode(labelled, forKey: .labelled)
        try c.encode(metrics, forKey: .metrics)
        try c.encode(mcnemar, forKey: .mcnemar)
        try c.encode(delong, forKey: .delong)
        try c.encode(rightToWrong.count, forKey: .rightToWrong)
        try c.encode(wrongToRight.count, forKey: .wrongToRight)
        try c.encode(flips, forKey: .flips)
        try c.encode(agreement, forKey: .agreement)
        try c.encode(settings, forKey: .settings)
        try c.encode(notes, forKey: .notes)
    }
}
