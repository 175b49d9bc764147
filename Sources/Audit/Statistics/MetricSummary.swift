/// One figure in compact form, for the nightly verdict: the point value, its closed-form
/// interval (Wilson for proportions, DeLong for AUCs, none for Brier and ECE), the bootstrap
/// interval and, for proportions, the counts.
public struct MetricSummary: Encodable, Equatable, Sendable {
    public var value: Double?
    /// `wilson`, `delong` or nil.
    public var method: String?
    public var interval: ConfidenceInterval?
    public var bootstrap: BootstrapInterval?
    public var count: Int?
    public var total: Int?

    enum CodingKeys: String, CodingKey { case value, method, interval, bootstrap, count, total }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(method, forKey: .method)
        try c.encode(interval, forKey: .interval)
        try c.encode(bootstrap, forKey: .bootstrap)
        try c.encode(count, forKey: .count)
        try c.encode(total, forKey: .total)
    }

    init(_ p: ProportionEstimate) {
        value = p.value
        method = "wilson"
        interval = p.wilson
        bootstrap = p.bootstrap
        count = p.count
        total = p.total
    }

    init(_ a: AUCEstimate) {
        value = a.value
        method = "delong"
        interval = a.delong
        bootstrap = a.bootstrap
        count = nil
        total = nil
    }

    init(_ s: ScalarEstimate) {
        value = s.value
        method = nil
        interval = nil
        bootstrap = s.bootstrap
        count = nil
        total = nil
    }
}

extension Evaluation {
    /// Every `MetricID` in compact form, by metric name.
    public var metricSummaries: [String: MetricSummary] {
        var out: [String: MetricSummary] = [:]
        for m in MetricID.all {
            switch m {
            case .accuracy: out[m.name] = MetricSummary(accuracy)
            case .fpe: out[m.name] = MetricSummary(fpe)
            case .fne: out[m.name] = MetricSummary(fne)
            case .fdpe: out[m.name] = MetricSummary(fdpe)
            case let .sensitivity(d): out[m.name] = MetricSummary(classes[d.rawValue].sensitivity)
            case let .specificity(d): out[m.name] = MetricSummary(classes[d.rawValue].specificity)
            case let .auc(d): out[m.name] = MetricSummary(classes[d.rawValue].auc)
            case .brier: out[m.name] = MetricSummary(calibration.brier)
            case .ece: out[m.name] = MetricSummary(calibration.ece)
            }
        }
        return out
    }
}

/// A subgroup split in compact form (the nightly verdict): per group its size, every figure
/// with its intervals, its warnings and whether it is too small to judge.
public struct SubgroupSummary: Encodable, Equatable, Sendable {
    public struct Group: Encodable, Equatable, Sendable {
        public var value: String
        public var patients: Int
        public var labelled: Int
        public var tooSmall: Bool
        public var warnings: [String]
        public var metrics: [String: MetricSummary]

        enum CodingKeys: String, CodingKey { case value, patients, labelled, tooSmall = "too_small", warnings, metrics }
    }

    public var spec: String
    public var column: String
    public var groups: [Group]

    public init(_ a: SubgroupAnalysis) {
        spec = a.spec.description
        column = a.spec.column
        groups = a.groups.map {
            Group(value: $0.value, patients: $0.evaluation.patients, labelled: $0.evaluation.labelled, tooSmall: $0.tooSmall,
                  warnings: $0.evaluation.warnings, metrics: $0.evaluation.metricSummaries)
        }
    }
}

/// Slice figures in compact form (the nightly verdict), by `SliceMetricID` name; the slice-class
/// figures only when the labels carry a class.
public struct SliceSummary: Encodable, Equatable, Sendable {
    public var labels: String
    public var join: String
    public var patients: Int
    public var slices: Int
    public var labelled: Int
    public var lesionSlices: Int
    public var metrics: [String: MetricSummary]
    public var notes: [String]
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case labels, join, patients, slices, labelled, lesionSlices = "lesion_slices", metrics, notes, warnings
    }

    public init(_ e: SliceEvaluation) {
        labels = e.labels
        join = e.join
        patients = e.patients
        slices = e.slices
        labelled = e.labelled
        lesionSlices = e.lesion.positives
        var m: [String: MetricSummary] = [
            SliceMetricID.lesionSensitivity.name: MetricSummary(e.lesion.sensitivity),
            SliceMetricID.lesionSpecificity.name: MetricSummary(e.lesion.specificity),
            SliceMetricID.lesionAccuracy.name: MetricSummary(e.lesion.accuracy),
            SliceMetricID.lesionAUC.name: MetricSummary(e.lesion.auc),
        ]
        if let classes = e.classes {
            for (name, s) in classes.metricSummaries { m["slice." + name] = s }
        }
        metrics = m
        notes = e.notes
        warnings = e.warnings + (e.classes?.warnings.map { "classes: " + $0 } ?? [])
    }
}
