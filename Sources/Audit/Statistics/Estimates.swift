/// A two-sided confidence interval.
public struct ConfidenceInterval: Codable, Equatable, Sendable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    public func contains(_ x: Double) -> Bool { lower <= x && x <= upper }
}

/// A percentile bootstrap interval, with the number of resamples in which the figure was
/// defined (a resample without, say, any COVID-19 patient has no COVID-19 sensitivity).
public struct BootstrapInterval: Codable, Equatable, Sendable {
    public var lower: Double
    public var upper: Double
    /// Resamples in which the figure was defined; the percentiles are taken over these.
    public var resamples: Int

    public init(lower: Double, upper: Double, resamples: Int) {
        self.lower = lower
        self.upper = upper
        self.resamples = resamples
    }

    enum CodingKeys: String, CodingKey { case lower, upper, resamples }
}

/// A proportion `count / total` with its Wilson score and bootstrap intervals.
public struct ProportionEstimate: Encodable, Equatable, Sendable {
    public var count: Int
    public var total: Int
    /// nil when `total` is 0.
    public var value: Double?
    public var wilson: ConfidenceInterval?
    public var bootstrap: BootstrapInterval?

    enum CodingKeys: String, CodingKey { case count, total, value, wilson, bootstrap }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        try c.encode(total, forKey: .total)
        try c.encode(value, forKey: .value)
        try c.encode(wilson, forKey: .wilson)
        try c.encode(bootstrap, forKey: .bootstrap)
    }
}

/// A one-vs-rest AUC with its DeLong and bootstrap intervals.
public struct AUCEstimate: Encodable, Equatable, Sendable {
    /// nil when the class has no positives or no negatives.
    public var value: Double?
    public var positives: Int
    public var negatives: Int
    /// DeLong's standard error (Sun & Xu's fast algorithm); nil with fewer than 2 positives or negatives.
    public var standardError: Double?
    /// AUC ± z·SE, clipped to [0, 1] (as pROC's `ci.auc(method = "delong")`).
    public var delong: ConfidenceInterval?
    public var bootstrap: BootstrapInterval?

    enum CodingKeys: String, CodingKey {
        case value, positives, negatives, standardError = "standard_error", delong, bootstrap
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(positives, forKey: .positives)
        try c.encode(negatives, forKey: .negatives)
        try c.encode(standardError, forKey: .standardError)
        try c.encode(delong, forKey: .delong)
        try c.encode(bootstrap, forKey: .bootstrap)
    }
}

/// A figure that is not a proportion (Brier score, ECE) with its bootstrap interval.
public struct ScalarEstimate: Encodable, Equatable, Sendable {
    public var value: Double?
    public var bootstrap: BootstrapInterval?

    enum CodingKeys: String, CodingKey { case value, bootstrap }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(bootstrap, forKey: .bootstrap)
    }
}
