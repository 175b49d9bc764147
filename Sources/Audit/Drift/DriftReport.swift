import Foundation

/// The drift analysis of a candidate run against a reference run (schema `mlung-audit/drift/1`).
public struct DriftReport: Encodable, Sendable {
    public enum Overall: String, Codable, Sendable {
        case noDrift = "no_drift"
        case inputDrift = "input_drift"
        case outputDrift = "output_drift"

        /// Exit codes of `mlung-audit drift` (docs/drift.md).
        public var exitCode: Int32 {
            switch self {
            case .noDrift: return 0
            case .inputDrift: return 10
            case .outputDrift: return 11
            }
        }

        public var words: String {
            switch self {
            case .noDrift: return "no drift"
            case .inputDrift: return "drift in the inputs only"
            case .outputDrift: return "drift that reaches the model's outputs"
            }
        }
    }

    public struct RunInfo: Encodable, Sendable {
        public var id: Int
        public var label: String
        public var patients: Int
        public var labelled: Int
        public var imagePatients: Int
    }

    /// Accuracy side by side: measured where labels exist, and the label-free estimate.
    public struct Performance: Encodable, Sendable {
        /// The reference's measured accuracy (nil when it has no labels) with its Wilson interval.
        public var referenceAccuracy: ProportionEstimate?
        public var candidateAccuracy: ProportionEstimate?
        /// Mean over patients of max_k p_k.
        public var referenceConfidence: Double
        public var candidateConfidence: Double
        /// Average-confidence estimate of the candidate's accuracy (= candidateConfidence), and
        /// the difference-of-confidences estimate: reference accuracy − (reference confidence −
        /// candidate confidence), when the reference is labelled.
        public var estimatedAccuracy: Double
        public var estimatedAccuracyDoC: Double?
        public var assumption: String
        /// Both sets judged by the statistics library (labelled patients only).
        public var reference: Evaluation?
        public var candidate: Evaluation?

        enum CodingKeys: String, CodingKey {
            case referenceAccuracy = "reference_accuracy", candidateAccuracy = "candidate_accuracy"
            case referenceConfidence = "reference_confidence", candidateConfidence = "candidate_confidence"
            case estimatedAccuracy = "estimated_accuracy", estimatedAccuracyDoC = "estimated_accuracy_doc"
            case assumption, reference, candidate
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(referenceAccuracy, forKey: .referenceAccuracy); try c.encode(candidateAccuracy, forKey: .candidateAccuracy)
            try c.encode(referenceConfidence, forKey: .referenceConfidence); try c.encode(candidateConfidence, forKey: .candidateConfidence)
            try c.encode(estimatedAccuracy, forKey: .estimatedAccuracy); try c.encode(estimatedAccuracyDoC, forKey: .estimatedAccuracyDoC)
            try c.encode(assumption, forKey: .assumption); try c.encode(reference, forKey: .reference); try c.encode(candidate, forKey: .candidate)
        }
    }

    public var schema = "mlung-audit/drift/1"
    public var toolVersion = AuditLibrary.toolVersion
    public var reference: RunInfo
    public var candidate: RunInfo
    public var overall: Overall
    /// The drifting factors, most severe first, in plain words.
    public var topFactors: [String]
    /// The ids of `topFactors`, in the same order.
    public var topFactorIDs: [String] = []
    public var factors: [DriftFactor]
    public var performance: Performance
    public var config: DriftConfig
    public var multipleTesting: String
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case schema, reference, candidate, overall, factors, performance, config, notes
        case toolVersion = "tool_version", topFactors = "top_factors", topFactorIDs = "top_factor_ids", multipleTesting = "multiple_testing"
    }
}

extension DriftReport.RunInfo {
    enum CodingKeys: String, CodingKey { case id, label, patients, labelled, imagePatients = "image_patients" }
}
