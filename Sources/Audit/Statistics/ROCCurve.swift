/// One point of a one-vs-rest ROC curve: calling a patient positive when its score is at
/// least `threshold` gives these rates.
public struct ROCPoint: Encodable, Equatable, Sendable {
    /// +∞ for the first point (0, 0) (encoded as null in JSON), then the distinct scores in
    /// decreasing order.
    public var threshold: Double
    public var falsePositiveRate: Double
    public var truePositiveRate: Double

    public init(threshold: Double, falsePositiveRate: Double, truePositiveRate: Double) {
        self.threshold = threshold
        self.falsePositiveRate = falsePositiveRate
        self.truePositiveRate = truePositiveRate
    }

    enum CodingKeys: String, CodingKey { case threshold, fpr, tpr }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(threshold.isFinite ? threshold : nil, forKey: .threshold)
        try c.encode(falsePositiveRate, forKey: .fpr)
        try c.encode(truePositiveRate, forKey: .tpr)
    }
}

public enum ROCCurve {
    /// Every point of the empirical ROC curve, one per distinct score plus (0, 0) at +∞ — the
    /// same as scikit-learn's `roc_curve(y, s, drop_intermediate=False)`. Empty when there
    /// is no positive or no negative.
    public static func points(scores: [Double], positive: [Bool]) -> [ROCPoint] {
        precondition(scores.count == positive.count)
        let p = positive.filter { $0 }.count, n = positive.count - p
        guard p > 0 && n > 0 else { return [] }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points = [ROCPoint(threshold: .infinity, falsePositiveRate: 0, truePositiveRate: 0)]
        var tp = 0, fp = 0
        for (j, i) in order.enumerated() {
            if positive[i] { tp += 1 } else { fp += 1 }
            if j + 1 == order.count || scores[order[j + 1]] != scores[i] {
                points.append(ROCPoint(threshold: scores[i], falsePositiveRate: Double(fp) / Double(n),
                                       truePositiveRate: Double(tp) / Double(p)))
            }
        }
        return points
    }
}
