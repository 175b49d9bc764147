import Foundation

/// One compared quantity (a "factor"): its test, effect size, Holm-adjusted p-value,
/// sample-size-aware verdict and the values behind them.
public struct DriftFactor: Codable, Equatable, Sendable {
    public enum Group: String, Codable, Sendable, CaseIterable {
        case metadata, image, features, outputs, performance
        /// Metadata, image statistics and features describe the inputs (features are the
        /// model's own view of them); outputs and performance are what the model says.
        public var reachesOutputs: Bool { self == .outputs || self == .performance }
    }

    public enum Verdict: String, Codable, Sendable {
        /// Adjusted p < α and effect ≥ its minimum (and the median shift, where set, too).
        case drift
        /// Adjusted p < α but the effect is below its minimum: real but too small to matter.
        case negligible
        /// Effect ≥ its minimum but adjusted p ≥ α: too few patients to tell.
        case inconclusive
        /// Neither.
        case stable
        /// Fewer than `minimum_patients` measured patients on a side: not tested.
        case insufficient
    }

    public struct Summary: Codable, Equatable, Sendable {
        public var n: Int
        public var median: Double?
        public var q1: Double?
        public var q3: Double?
        public var mean: Double?
    }

    public var id: String
    public var group: Group
    /// Plain name ("slice thickness") and unit ("mm", "HU", "" for none).
    public var name: String
    public var unit: String
    /// `ks_exact`, `ks_asymptotic`, `chi_square`, `chi_square_permutation`, `mmd_permutation`,
    /// `two_proportion_chi_square`, or `none`.
    public var test: String
    public var statistic: Double?
    public var p: Double?
    /// Holm-adjusted over every tested factor of the report.
    public var pAdjusted: Double?
    /// `ks_d`, `total_variation`, `mmd2`, `accuracy_drop`.
    public var effectName: String
    public var effect: Double?
    public var minimumEffect: Double
    /// Numeric factors: the medians' difference (candidate − reference) and ratio, and the
    /// smallest difference that counts (when set).
    public var shift: Double?
    public var ratio: Double?
    public var minimumShift: Double?
    public var reference: Summary?
    public var candidate: Summary?
    /// Categorical factors: the 2 × K table.
    public var categorical: CategoricalTest?
    /// Score factors: the population stability index.
    public var psi: PopulationStability?
    public var mmd: MaximumMeanDiscrepancy?
    public var verdict: Verdict
    /// The factor in plain words, e.g. "slice thickness 7.5 mm vs 5 mm".
    public var description: String

    enum CodingKeys: String, CodingKey {
        case id, group, name, unit, test, statistic, p, effect, shift, ratio, reference, candidate, categorical, psi, mmd
        case verdict, description
        case pAdjusted = "p_adjusted", effectName = "effect_name", minimumEffect = "minimum_effect", minimumShift = "minimum_shift"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(group, forKey: .group); try c.encode(name, forKey: .name)
        try c.encode(unit, forKey: .unit); try c.encode(test, forKey: .test); try c.encode(statistic, forKey: .statistic)
        try c.encode(p, forKey: .p); try c.encode(pAdjusted, forKey: .pAdjusted); try c.encode(effectName, forKey: .effectName)
        try c.encode(effect, forKey: .effect); try c.encode(minimumEffect, forKey: .minimumEffect)
        try c.encode(shift, forKey: .shift); try c.encode(ratio, forKey: .ratio); try c.encode(minimumShift, forKey: .minimumShift)
        try c.encode(reference, forKey: .reference); try c.encode(candidate, forKey: .candidate)
        try c.encode(categorical, forKey: .categorical); try c.encode(psi, forKey: .psi); try c.encode(mmd, forKey: .mmd)
        try c.encode(verdict, forKey: .verdict); try c.encode(description, forKey: .description)
    }

    /// How far past its minimum the effect is (for ranking the contributing factors).
    var severity: Double {
        guard let e = effect else { return 0 }
        return minimumEffect > 0 ? abs(e) / minimumEffect : abs(e) * 1e6
    }

    static func summary(_ v: [Double]) -> Summary {
        let s = v.sorted()
        guard !s.isEmpty else { return Summary(n: 0) }
        return Summary(n: s.count, median: Bootstrap.quantile(sorted: s, 0.5), q1: Bootstrap.quantile(sorted: s, 0.25),
                       q3: Bootstrap.quantile(sorted: s, 0.75), mean: s.reduce(0, +) / Double(s.count))
    }
}
