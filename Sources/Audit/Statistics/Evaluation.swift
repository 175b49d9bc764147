/// Every figure of one prediction set against ground truth, with its intervals.
public struct Evaluation: Encodable, Equatable, Sendable {
    /// Where the predictions come from.
    public var source: String
    /// All patients of the set, labelled or not.
    public var patients: Int
    /// Patients with a label: the only ones in the figures.
    public var labelled: Int
    public var accuracy: ProportionEstimate
    /// Healthy patients called sick / healthy patients.
    public var fpe: ProportionEstimate
    /// Sick patients called healthy / sick patients.
    public var fne: ProportionEstimate
    /// Sick patients called sick with the wrong disease / sick patients.
    public var fdpe: ProportionEstimate
    /// One entry per class, in `Diagnosis` order.
    public var classes: [ClassMetrics]
    public var confusion: ConfusionMatrix
    public var calibration: Calibration
    public var settings: StatisticsOptions
    /// What was left out or could not be computed.
    public var notes: [String]
    /// Figures resting on too few patients to judge (see `StatisticsOptions.minimumPositives`).
    public var warnings: [String]

    /// The point value of a metric; nil when undefined.
    public func value(_ metric: MetricID) -> Double? {
        switch metric {
        case .accuracy: return accuracy.value
        case .fpe: return fpe.value
        case .fne: return fne.value
        case .fdpe: return fdpe.value
        case let .sensitivity(d): return classes[d.rawValue].sensitivity.value
        case let .specificity(d): return classes[d.rawValue].specificity.value
        case let .auc(d): return classes[d.rawValue].auc.value
        case .brier: return calibration.brier.value
        case .ece: return calibration.ece.value
        }
    }

    /// The bootstrap interval of a metric; nil when the bootstrap was off or the metric undefined.
    public func bootstrapInterval(_ metric: MetricID) -> BootstrapInterval? {
        switch metric {
        case .accuracy: return accuracy.bootstrap
        case .fpe: return fpe.bootstrap
        case .fne: return fne.bootstrap
        case .fdpe: return fdpe.bootstrap
        case let .sensitivity(d): return classes[d.rawValue].sensitivity.bootstrap
        case let .specificity(d): return classes[d.rawValue].specificity.bootstrap
        case let .auc(d): return classes[d.rawValue].auc.bootstrap
        case .brier: return calibration.brier.bootstrap
        case .ece: return calibration.ece.bootstrap
        }
    }

    enum CodingKeys: String, CodingKey {
        case source, patients, labelled, accuracy, fpe, fne, fdpe, classes, confusion, calibration, settings, notes, warnings
    }
}
