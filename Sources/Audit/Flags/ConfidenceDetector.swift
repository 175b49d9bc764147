import Foundation

/// Low confidence: top patient probability under 0.6, or the two heads (learned and
/// non-parametric) name different classes.
///
/// Measurements: `top_probability`, `heads_agree` (1, 0; NaN without a non-parametric head).
public enum ConfidenceDetector {
    public static func evaluate(_ c: FlagCase, config cfg: FlagConfig.Confidence) -> FlagEvaluation {
        let top = c.probabilities.max() ?? 0
        let agree: Double = c.nonParametricPredicted.map { $0 == c.predicted ? 1 : 0 } ?? .nan
        let m = [FlagMeasurement("top_probability", top), FlagMeasurement("heads_agree", agree)]
        var reasons: [String] = []
        if top < cfg.minTopProbability { reasons.append("top probability \(flagNumber(top)) < \(flagNumber(cfg.minTopProbability))") }
        if cfg.headsMustAgree && agree == 0, let np = c.nonParametricPredicted {
            reasons.append("learned head says \(Diagnosis(rawValue: c.predicted)?.name ?? "\(c.predicted)"), non-parametric head \(Diagnosis(rawValue: np)?.name ?? "\(np)")")
        }
        return .make(.lowConfidence, m, reasons: reasons)
    }
}
