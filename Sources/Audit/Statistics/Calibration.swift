/// One bin of the reliability diagram of the top-class confidence.
public struct ReliabilityBin: Encodable, Equatable, Sendable {
    /// The bin's edges: [lower, upper), the last bin [lower, 1].
    public var lower: Double
    public var upper: Double
    public var count: Int
    /// Mean top-class probability of the bin's patients; nil when empty.
    public var meanConfidence: Double?
    /// Fraction of the bin's patients predicted right; nil when empty.
    public var accuracy: Double?
    /// Wilson interval of `accuracy`.
    public var wilson: ConfidenceInterval?

    enum CodingKeys: String, CodingKey {
        case lower, upper, count, meanConfidence = "mean_confidence", accuracy, wilson
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lower, forKey: .lower)
        try c.encode(upper, forKey: .upper)
        try c.encode(count, forKey: .count)
        try c.encode(meanConfidence, forKey: .meanConfidence)
        try c.encode(accuracy, forKey: .accuracy)
        try c.encode(wilson, forKey: .wilson)
    }
}

/// Calibration of a prediction set: Brier score, expected calibration error and the
/// reliability bins.
///
/// - Brier score (multi-class, Brier 1950): mean over patients of Σ_k (p_k − y_k)² with y the
///   one-hot label; 0 is perfect, 2 the worst (scikit-learn's `brier_score_loss` with
///   `scale_by_half=False` on the four columns).
/// - ECE: the top-class confidence c = max_k p_k of each patient falls in bin
///   min(⌊c·B⌋, B − 1) of B equal-width bins over [0, 1]; ECE = Σ_b (n_b / n) |acc_b − conf_b|.
public struct Calibration: Encodable, Equatable, Sendable {
    /// The default number of equal-width bins.
    public static let defaultBins = 10

    public var brier: ScalarEstimate
    public var ece: ScalarEstimate
    public var bins: [ReliabilityBin]

    /// The bin of a confidence in [0, 1]: min(⌊c·B⌋, B − 1).
    public static func bin(ofConfidence c: Double, bins: Int) -> Int {
        min(max(Int((c * Double(bins)).rounded(.down)), 0), bins - 1)
    }

    /// The reliability bins of labelled patients.
    static func reliabilityBins(_ patients: [PatientPrediction], bins: Int, level: Double) -> [ReliabilityBin] {
        var count = [Int](repeating: 0, count: bins), right = [Int](repeating: 0, count: bins)
        var confidence = [Double](repeating: 0, count: bins)
        for p in patients {
            let b = bin(ofConfidence: p.confidence, bins: bins)
            count[b] += 1
            confidence[b] += p.confidence
            if p.isCorrect == true { right[b] += 1 }
        }
        return (0..<bins).map { b in
            let n = count[b]
            return ReliabilityBin(lower: Double(b) / Double(bins), upper: Double(b + 1) / Double(bins), count: n,
                                  meanConfidence: n > 0 ? confidence[b] / Double(n) : nil,
                                  accuracy: n > 0 ? Double(right[b]) / Double(n) : nil,
                                  wilson: Wilson.interval(count: right[b], total: n, level: level))
        }
    }
}
