import Foundation

/// Version flip between a prior run (another model version) and this one: `regressed` when
/// the prior answer was right and this one is wrong, `improved` for the reverse, `changed`
/// when the answers differ on an unlabelled patient.
///
/// Measurements: `prior_predicted`, `predicted`, `label` (NaN when unknown).
public enum VersionFlipDetector {
    public static func evaluate(predicted: Int, prior: Int, label: Diagnosis?, priorRun: Int) -> FlagEvaluation {
        let m = [FlagMeasurement("prior_predicted", Double(prior)), FlagMeasurement("predicted", Double(predicted)),
                 FlagMeasurement("label", label.map { Double($0.rawValue) } ?? .nan)]
        func name(_ k: Int) -> String { Diagnosis(rawValue: k)?.name ?? "\(k)" }
        guard prior != predicted else { return FlagEvaluation(flag: .versionFlip, measurements: m) }
        let level: String
        if let label {
            if prior == label.rawValue { level = "regressed" } else if predicted == label.rawValue { level = "improved" } else { level = "changed" }
        } else {
            level = "changed"
        }
        let reason = "run \(priorRun) said \(name(prior)), this run says \(name(predicted))" + (label.map { " (label \($0.name))" } ?? "")
        return .make(.versionFlip, m, reasons: [reason], level: level)
    }
}
