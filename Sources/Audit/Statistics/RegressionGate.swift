/// One rule of the nightly regression gate, judged on an evaluation of the candidate, its
/// comparison with the baseline run and its agreement with the deployment log.
///
/// In the gate file (YAML, see templates/nightly.yaml; JSON has the same shape) each rule is
/// one mapping:
///
///     - {metric: accuracy, max_drop: 0.02, alpha: 0.05}   # noRegression
///     - {metric: sensitivity.covid19, min: 0.90}          # minimum
///     - {metric: fne, max: 0.05}                          # maximum
///     - {no_new_misses: covid19}                          # noNewMisses
///     - {max_probability_difference: 1.0e-4}              # deploymentAgreement
public enum GateRule: Equatable, Sendable, Decodable, CustomStringConvertible {
    /// Fails when the candidate is worse than the baseline on `metric` by more than
    /// `maxDrop` (in the metric's own units: 0.02 is 2 percentage points of accuracy) and the
    /// paired bootstrap p-value of the difference is below `alpha`. "Worse" follows
    /// `MetricID.higherIsBetter`.
    case noRegression(metric: MetricID, maxDrop: Double, alpha: Double)
    /// Fails when the candidate's value of `metric` is below `value`.
    case minimum(metric: MetricID, value: Double)
    /// Fails when the candidate's value of `metric` is above `value`.
    case maximum(metric: MetricID, value: Double)
    /// Fails when a patient of this class whom the baseline predicted right is predicted wrong
    /// by the candidate (a new miss, e.g. a new COVID-19 false negative).
    case noNewMisses(Diagnosis)
    /// Fails when the rerun and the deployment log differ by more than `tolerance` in any
    /// probability, or in any predicted class.
    case deploymentAgreement(tolerance: Double)
    /// Fails when the slice figure `metric` (e.g. `slice.lesion.sensitivity`) is below `value`.
    case sliceMinimum(metric: SliceMetricID, value: Double)
    /// Fails when the slice figure `metric` is above `value`.
    case sliceMaximum(metric: SliceMetricID, value: Double)

    public var description: String {
        switch self {
        case let .noRegression(m, drop, alpha): return "\(m.name): no drop larger than \(drop) with p < \(alpha)"
        case let .minimum(m, v): return "\(m.name) >= \(v)"
        case let .maximum(m, v): return "\(m.name) <= \(v)"
        case let .noNewMisses(d): return "no new \(d.name) misses"
        case let .deploymentAgreement(t): return "rerun within \(t) of the deployment log"
        case let .sliceMinimum(m, v): return "\(m.name) >= \(v)"
        case let .sliceMaximum(m, v): return "\(m.name) <= \(v)"
        }
    }

    enum CodingKeys: String, CodingKey {
        case metric, maxDrop = "max_drop", alpha, min, max, noNewMisses = "no_new_misses"
        case maxProbabilityDifference = "max_probability_difference"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func invalid(_ reason: String) -> DecodingError {
            .dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: reason))
        }
        if let name = try c.decodeIfPresent(String.self, forKey: .noNewMisses) {
            guard let d = Diagnosis(name: name) else { throw invalid("unknown class '\(name)'") }
            self = .noNewMisses(d)
        } else if let t = try c.decodeIfPresent(Double.self, forKey: .maxProbabilityDifference) {
            guard t >= 0 else { throw invalid("max_probability_difference must be >= 0") }
            self = .deploymentAgreement(tolerance: t)
        } else {
            let name = try c.decode(String.self, forKey: .metric)
            let rules = [c.contains(.maxDrop), c.contains(.min), c.contains(.max)].filter { $0 }.count
            if name.hasPrefix("slice.") {
                guard let m = SliceMetricID(name: name) else {
                    throw invalid("unknown slice metric '\(name)' (slice.lesion.sensitivity, slice.lesion.specificity, "
                                  + "slice.lesion.accuracy, slice.lesion.auc, or slice.<metric> for the slice classes)")
                }
                guard rules == 1, !c.contains(.maxDrop) else {
                    throw invalid("slice metric '\(name)' needs exactly one of min, max (max_drop is for patient metrics)")
                }
                if let v = try c.decodeIfPresent(Double.self, forKey: .min) {
                    self = .sliceMinimum(metric: m, value: v)
                } else {
                    self = .sliceMaximum(metric: m, value: try c.decode(Double.self, forKey: .max))
                }
                return
            }
            guard let m = MetricID(name: name) else {
                throw invalid("unknown metric '\(name)' (known: \(MetricID.all.map(\.name).joined(separator: ", ")), and slice.* figures)")
            }
            guard rules == 1 else { throw invalid("metric '\(name)' needs exactly one of max_drop, min, max") }
            if let drop = try c.decodeIfPresent(Double.self, forKey: .maxDrop) {
                let alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? 0.05
                guard drop >= 0, alpha > 0, alpha <= 1 else { throw invalid("max_drop must be >= 0 and alpha in (0, 1]") }
                self = .noRegression(metric: m, maxDrop: drop, alpha: alpha)
            } else if let v = try c.decodeIfPresent(Double.self, forKey: .min) {
                self = .minimum(metric: m, value: v)
            } else {
                self = .maximum(metric: m, value: try c.decode(Double.self, forKey: .max))
            }
        }
    }
}

/// The gate rules of a nightly configuration (the `gates:` list).
public struct GateConfig: Decodable, Equatable, Sendable {
    public var gates: [GateRule]

    public init(gates: [GateRule]) { self.gates = gates }
}

/// What one rule found.
public struct GateOutcome: Encodable, Equatable, Sendable {
    public enum Status: String, Encodable, Sendable {
        case pass, fail
        /// The rule could not be judged: a figure is undefined or an input is missing.
        case error
    }

    public var rule: GateRule
    public var status: Status
    /// The figure the rule looked at (the drop, the value, the number of misses, the largest
    /// difference), when there is one.
    public var measured: Double?
    public var detail: String

    enum CodingKeys: String, CodingKey { case rule, status, measured, detail }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rule.description, forKey: .rule)
        try c.encode(status, forKey: .status)
        try c.encode(measured, forKey: .measured)
        try c.encode(detail, forKey: .detail)
    }
}

/// The verdict of the gate: `fail` when any rule failed, else `error` when any rule could not
/// be judged, else `pass`.
public struct GateVerdict: Encodable, Equatable, Sendable {
    public var status: GateOutcome.Status
    public var outcomes: [GateOutcome]
}

/// Judges gate rules. Pure logic over results: the nightly command will produce the inputs
/// (the candidate's evaluation, its comparison with the stored baseline run, the agreement of
/// the rerun with the deployment log) and write the verdict.
public enum RegressionGate {
    /// `slices`: the candidate's slice figures, for the `slice.*` rules (nil: no slice labels).
    public static func judge(_ rules: [GateRule], candidate: Evaluation, comparison: Comparison?,
                             deployment: Agreement?, slices: SliceEvaluation? = nil) -> GateVerdict {
        let outcomes = rules.map { judge($0, candidate: candidate, comparison: comparison, deployment: deployment, slices: slices) }
        let status: GateOutcome.Status = outcomes.contains { $0.status == .fail } ? .fail
            : outcomes.contains { $0.status == .error } ? .error : .pass
        return GateVerdict(status: status, outcomes: outcomes)
    }

    static func judge(_ rule: GateRule, candidate: Evaluation, comparison: Comparison?, deployment: Agreement?,
                      slices: SliceEvaluation? = nil) -> GateOutcome {
        func outcome(_ status: GateOutcome.Status, _ measured: Double?, _ detail: String) -> GateOutcome {
            GateOutcome(rule: rule, status: status, measured: measured, detail: detail)
        }
        switch rule {
        case let .noRegression(metric, maxDrop, alpha):
            guard let comparison else { return outcome(.error, nil, "no baseline to compare with") }
            let m = comparison.metric(metric)
            guard let difference = m.difference else { return outcome(.error, nil, "\(metric.name) is undefined in one of the runs") }
            guard let p = m.p else { return outcome(.error, nil, "no paired bootstrap p-value (bootstrap off?)") }
            let drop = metric.higherIsBetter ? -difference : difference
            let change = drop >= 0 ? "worse by \(drop)" : "better by \(-drop)"
            let text = "\(change) (baseline \(m.baseline!), candidate \(m.candidate!)), paired bootstrap p = \(p)"
            return outcome(drop > maxDrop && p < alpha ? .fail : .pass, drop, text)
        case let .minimum(metric, value):
            guard let v = candidate.value(metric) else { return outcome(.error, nil, "\(metric.name) is undefined") }
            return outcome(v >= value ? .pass : .fail, v, "\(metric.name) = \(v)")
        case let .maximum(metric, value):
            guard let v = candidate.value(metric) else { return outcome(.error, nil, "\(metric.name) is undefined") }
            return outcome(v <= value ? .pass : .fail, v, "\(metric.name) = \(v)")
        case let .noNewMisses(d):
            guard let comparison else { return outcome(.error, nil, "no baseline to compare with") }
            let misses = comparison.rightToWrong.filter { $0.label == d }.map(\.patientID)
            let detail = misses.isEmpty ? "none" : "\(misses.count): " + misses.joined(separator: ", ")
            return outcome(misses.isEmpty ? .pass : .fail, Double(misses.count), detail)
        case let .deploymentAgreement(tolerance):
            guard let deployment else { return outcome(.error, nil, "no deployment log to compare with") }
            guard let largest = deployment.largestDifference else { return outcome(.error, nil, "no patients in common") }
            var detail = "largest difference \(largest.absoluteDifference) (\(largest.patientID), \(largest.diagnosis.name))"
            if !deployment.disagreeing.isEmpty { detail += "; \(deployment.disagreeing.count) patients with another predicted class" }
            let pass = largest.absoluteDifference <= tolerance && deployment.disagreeing.isEmpty
            return outcome(pass ? .pass : .fail, largest.absoluteDifference, detail)
        case let .sliceMinimum(metric, value), let .sliceMaximum(metric, value):
            guard let slices else { return outcome(.error, nil, "no slice labels for this cohort (slice_labels)") }
            guard let v = slices.value(metric) else { return outcome(.error, nil, "\(metric.name) is undefined") }
            let ok: Bool
            if case .sliceMinimum = rule { ok = v >= value } else { ok = v <= value }
            return outcome(ok ? .pass : .fail, v, "\(metric.name) = \(v) over \(slices.labelled) labelled slices of \(slices.patients) patients")
        }
    }
}
