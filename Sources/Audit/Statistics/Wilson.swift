/// Wilson's score interval for a binomial proportion (Wilson 1927).
///
/// With p̂ = count/total, n = total and z = Φ⁻¹(1 − (1 − level)/2):
///
///     center    = (p̂ + z²/(2n)) / (1 + z²/n)
///     halfwidth = z √(p̂(1 − p̂)/n + z²/(4n²)) / (1 + z²/n)
///
/// clipped to [0, 1] (rounding only); the same as statsmodels' `proportion_confint(method="wilson")`.
public enum Wilson {
    /// The interval, or nil when `total` is 0.
    public static func interval(count: Int, total: Int, level: Double = 0.95) -> ConfidenceInterval? {
        precondition(count >= 0 && count <= total, "Wilson interval needs 0 <= count <= total")
        guard total > 0 else { return nil }
        let z = NormalDistribution.quantile(1 - (1 - level) / 2)
        let n = Double(total), p = Double(count) / n, z2 = z * z
        let denominator = 1 + z2 / n
        let center = (p + z2 / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        return ConfidenceInterval(lower: max(0, center - half), upper: min(1, center + half))
    }
}
