/// One class against the rest: sensitivity, specificity, AUC and the ROC curve.
public struct ClassMetrics: Encodable, Equatable, Sendable {
    public var diagnosis: Diagnosis
    /// Labelled patients of the class.
    public var positives: Int
    /// Labelled patients of the other classes.
    public var negatives: Int
    public var sensitivity: ProportionEstimate
    public var specificity: ProportionEstimate
    public var auc: AUCEstimate
    /// Every point of the ROC curve of the class's probability (see `ROCCurve.points`).
    public var roc: [ROCPoint]

    enum CodingKeys: String, CodingKey { case diagnosis = "class", positives, negatives, sensitivity, specificity, auc, roc }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(diagnosis.name, forKey: .diagnosis)
        try c.encode(positives, forKey: .positives)
        try c.encode(negatives, forKey: .negatives)
        try c.encode(sensitivity, forKey: .sensitivity)
        try c.encode(specificity, forKey: .specificity)
        try c.encode(auc, forKey: .auc)
        try c.encode(roc, forKey: .roc)
    }
}
