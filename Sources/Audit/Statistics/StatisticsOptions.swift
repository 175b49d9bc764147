/// The settings of every statistic: bootstrap seed and size, confidence level, calibration
/// bins and the subgroup warning rule. Written into every result.
public struct StatisticsOptions: Encodable, Equatable, Sendable {
    /// The default bootstrap seed.
    public static let defaultSeed: UInt64 = 20200
    /// The default (and recommended minimum) number of bootstrap resamples.
    public static let defaultResamples = 2000

    /// Seed of the xoshiro256** stream of the bootstrap.
    public var seed: UInt64
    /// Bootstrap resamples; 0 turns the bootstrap off (no bootstrap intervals or p-values).
    public var resamples: Int
    /// Level of every interval (Wilson, DeLong, bootstrap).
    public var confidenceLevel: Double
    /// Equal-width bins of the top-class confidence for ECE and the reliability diagram.
    public var calibrationBins: Int
    /// A class with fewer positives than this in a cohort or subgroup draws a warning.
    public var minimumPositives: Int
    /// A class with fewer negatives than this in a cohort or subgroup draws a warning.
    public var minimumNegatives: Int

    public init(seed: UInt64 = defaultSeed, resamples: Int = defaultResamples, confidenceLevel: Double = 0.95,
                calibrationBins: Int = Calibration.defaultBins, minimumPositives: Int = 10, minimumNegatives: Int = 10) {
        self.seed = seed
        self.resamples = resamples
        self.confidenceLevel = confidenceLevel
        self.calibrationBins = calibrationBins
        self.minimumPositives = minimumPositives
        self.minimumNegatives = minimumNegatives
    }

    /// Throws when a setting cannot be used.
    public func validate() throws {
        guard resamples >= 0 else { throw StatisticsError.invalidArgument(reason: "bootstrap resamples must be >= 0, got \(resamples)") }
        guard confidenceLevel > 0 && confidenceLevel < 1 else {
            throw StatisticsError.invalidArgument(reason: "confidence level must be in (0, 1), got \(confidenceLevel)")
        }
        guard calibrationBins > 0 else { throw StatisticsError.invalidArgument(reason: "calibration bins must be > 0, got \(calibrationBins)") }
        guard minimumPositives >= 0 && minimumNegatives >= 0 else {
            throw StatisticsError.invalidArgument(reason: "subgroup minimums must be >= 0")
        }
    }

    enum CodingKeys: String, CodingKey {
        case seed, resamples, confidenceLevel = "confidence_level", calibrationBins = "calibration_bins"
        case minimumPositives = "minimum_positives", minimumNegatives = "minimum_negatives"
        case generator, percentiles
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seed, forKey: .seed)
        try c.encode(resamples, forKey: .resamples)
        try c.encode(confidenceLevel, forKey: .confidenceLevel)
        try c.encode(calibrationBins, forKey: .calibrationBins)
        try c.encode(minimumPositives, forKey: .minimumPositives)
        try c.encode(minimumNegatives, forKey: .minimumNegatives)
        try c.encode("xoshiro256** seeded by splitmix64, Lemire index, patients by id (UTF-8)", forKey: .generator)
        try c.encode("linear (type 7)", forKey: .percentiles)
    }
}
