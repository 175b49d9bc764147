/// The figures of one prediction set against ground truth that carry a bootstrap interval,
/// and that comparisons and gates name, e.g. `accuracy`, `sensitivity.covid19`, `auc.cap`.
public enum MetricID: Hashable, Sendable, CustomStringConvertible {
    /// Correct predictions / labelled patients.
    case accuracy
    /// False positive error: healthy patients called sick / healthy patients.
    case fpe
    /// False negative error: sick patients called healthy / sick patients.
    case fne
    /// False disease prediction error: sick patients called sick with the wrong disease / sick patients.
    case fdpe
    /// One vs rest: patients of the class predicted as the class / patients of the class.
    case sensitivity(Diagnosis)
    /// One vs rest: other patients not predicted as the class / other patients.
    case specificity(Diagnosis)
    /// One vs rest area under the ROC curve of the class's probability.
    case auc(Diagnosis)
    /// Multi-class Brier score: the mean over patients of Σ_k (p_k − y_k)², in [0, 2].
    case brier
    /// Expected calibration error of the top-class confidence (equal-width bins).
    case ece

    /// Every metric, in the fixed order of results and JSON.
    public static let all: [MetricID] = [.accuracy, .fpe, .fne, .fdpe]
        + Diagnosis.allCases.map { .sensitivity($0) }
        + Diagnosis.allCases.map { .specificity($0) }
        + Diagnosis.allCases.map { .auc($0) }
        + [.brier, .ece]

    /// The stable name: `accuracy`, `fpe`, `fne`, `fdpe`, `sensitivity.<class>`,
    /// `specificity.<class>`, `auc.<class>`, `brier`, `ece`.
    public var name: String {
        switch self {
        case .accuracy: return "accuracy"
        case .fpe: return "fpe"
        case .fne: return "fne"
        case .fdpe: return "fdpe"
        case let .sensitivity(d): return "sensitivity.\(d.name)"
        case let .specificity(d): return "specificity.\(d.name)"
        case let .auc(d): return "auc.\(d.name)"
        case .brier: return "brier"
        case .ece: return "ece"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let m = MetricID.all.first(where: { $0.name == name }) else { return nil }
        self = m
    }

    /// Whether a larger value is better (accuracy, sensitivity, specificity, AUC) or worse
    /// (the error rates, Brier score and ECE).
    public var higherIsBetter: Bool {
        switch self {
        case .accuracy, .sensitivity, .specificity, .auc: return true
        case .fpe, .fne, .fdpe, .brier, .ece: return false
        }
    }

    /// The position in `all`.
    var index: Int {
        let k = Diagnosis.allCases.count
        switch self {
        case .accuracy: return 0
        case .fpe: return 1
        case .fne: return 2
        case .fdpe: return 3
        case let .sensitivity(d): return 4 + d.rawValue
        case let .specificity(d): return 4 + k + d.rawValue
        case let .auc(d): return 4 + 2 * k + d.rawValue
        case .brier: return 4 + 3 * k
        case .ece: return 5 + 3 * k
        }
    }
}
