/// A point estimate with an optional confidence interval, e.g. an AUC of 0.931 (0.902–0.957).
public struct Estimate: Sendable, Equatable {
    public var value: Double
    public var lower: Double?
    public var upper: Double?

    public init(_ value: Double, lower: Double? = nil, upper: Double? = nil) {
        self.value = value; self.lower = lower; self.upper = upper
    }

    /// "0.931 (0.902–0.957)", or "0.931" without an interval.
    public func formatted(digits: Int = 3) -> String {
        let v = Format.fixed(value, digits: digits)
        guard let lower, let upper else { return v }
        return "\(v) (\(Format.fixed(lower, digits: digits))–\(Format.fixed(upper, digits: digits)))"
    }

    /// As a percentage: "88.0 % (84.1–91.2)".
    public func formattedPercent(digits: Int = 1) -> String {
        guard !value.isNaN else { return "–" }
        let v = Format.fixed(value * 100, digits: digits) + " %"
        guard let lower, let upper else { return v }
        return "\(v) (\(Format.fixed(lower * 100, digits: digits))–\(Format.fixed(upper * 100, digits: digits)))"
    }
}
