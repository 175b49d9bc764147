import Foundation

/// Thresholds and settings of the drift analysis. Every field has a default in code; a
/// YAML or JSON file overrides any subset (`mlung-audit drift --config FILE`; commented
/// example: templates/drift.yaml). Keys are snake_case; docs/drift.md explains each.
public struct DriftConfig: Codable, Equatable, Sendable {
    /// Family-wise error rate of all the tests together (Holm).
    public var alpha = 0.05
    /// Fewer patients than this on either side: the comparison is `insufficient` (no test).
    public var minimumPatients = 8
    /// Permutations of the permutation tests (MMD; chi-square with small expected counts).
    public var permutations = 1999
    public var seed: UInt64 = 20200
    /// Smallest effect that counts as drift, by kind of comparison.
    public var minimumKS = 0.2
    public var minimumTotalVariation = 0.1
    public var minimumMMD = 0.01
    /// Largest accuracy drop (reference − candidate) tolerated when the candidate is labelled.
    public var minimumAccuracyDrop = 0.05
    /// PSI binning: about this many observations of the smaller sample per bin, at most `psiMaximumBins`.
    public var psiMinimumPerBin = 10
    public var psiMaximumBins = 10
    /// Feature test: at most this many patients per side (a seeded reservoir sample over the
    /// streamed patients), and this many evenly spaced slices per patient for the slice test.
    public var mmdMaximumPatients = 300
    public var mmdSlicesPerPatient = 4
    /// Image statistics re-read this many evenly spaced lung slices per patient from the
    /// DICOM files (0: no re-reading; only the stored outputs are used).
    public var imageSlicesPerPatient = 5
    /// How many drifting factors the summary names.
    public var topFactors = 5
    /// Per-comparison overrides by id (e.g. `image.noise_index`): `min_effect`, `min_shift`
    /// (smallest |median difference| in the factor's unit), `enabled`.
    public var factors: [String: FactorOverride] = [:]

    public struct FactorOverride: Codable, Equatable, Sendable {
        public var minEffect: Double?
        public var minShift: Double?
        public var enabled: Bool?
        enum CodingKeys: String, CodingKey { case minEffect = "min_effect", minShift = "min_shift", enabled }
    }

    /// Default smallest median shifts (in the factor's unit) below which a numeric factor is not drift.
    public static let defaultShifts: [String: Double] = [
        "image.hu_air": 5, "image.hu_fat": 5, "image.hu_lung": 5,
        "metadata.slice_thickness": 0.25, "metadata.pixel_spacing": 0.05,
    ]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case alpha, seed, permutations, factors
        case minimumPatients = "minimum_patients", minimumKS = "minimum_ks"
        case minimumTotalVariation = "minimum_total_variation", minimumMMD = "minimum_mmd"
        case minimumAccuracyDrop = "minimum_accuracy_drop"
        case psiMinimumPerBin = "psi_minimum_per_bin", psiMaximumBins = "psi_maximum_bins"
        case mmdMaximumPatients = "mmd_maximum_patients", mmdSlicesPerPatient = "mmd_slices_per_patient"
        case imageSlicesPerPatient = "image_slices_per_patient", topFactors = "top_factors"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DriftConfig()
        alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? d.alpha
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        permutations = try c.decodeIfPresent(Int.self, forKey: .permutations) ?? d.permutations
        factors = try c.decodeIfPresent([String: FactorOverride].self, forKey: .factors) ?? d.factors
        minimumPatients = try c.decodeIfPresent(Int.self, forKey: .minimumPatients) ?? d.minimumPatients
        minimumKS = try c.decodeIfPresent(Double.self, forKey: .minimumKS) ?? d.minimumKS
        minimumTotalVariation = try c.decodeIfPresent(Double.self, forKey: .minimumTotalVariation) ?? d.minimumTotalVariation
        minimumMMD = try c.decodeIfPresent(Double.self, forKey: .minimumMMD) ?? d.minimumMMD
        minimumAccuracyDrop = try c.decodeIfPresent(Double.self, forKey: .minimumAccuracyDrop) ?? d.minimumAccuracyDrop
        psiMinimumPerBin = try c.decodeIfPresent(Int.self, forKey: .psiMinimumPerBin) ?? d.psiMinimumPerBin
        psiMaximumBins = try c.decodeIfPresent(Int.self, forKey: .psiMaximumBins) ?? d.psiMaximumBins
        mmdMaximumPatients = try c.decodeIfPresent(Int.self, forKey: .mmdMaximumPatients) ?? d.mmdMaximumPatients
        mmdSlicesPerPatient = try c.decodeIfPresent(Int.self, forKey: .mmdSlicesPerPatient) ?? d.mmdSlicesPerPatient
        imageSlicesPerPatient = try c.decodeIfPresent(Int.self, forKey: .imageSlicesPerPatient) ?? d.imageSlicesPerPatient
        topFactors = try c.decodeIfPresent(Int.self, forKey: .topFactors) ?? d.topFactors
    }

    /// Throws when a value is out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ key: String, _ why: String) throws {
            if !ok { throw DriftError("drift config: '\(key)' \(why)") }
        }
        try check(alpha > 0 && alpha < 1, "alpha", "must be in (0, 1)")
        try check(minimumPatients >= 2, "minimum_patients", "must be at least 2")
        try check(permutations >= 99 && permutations <= 1_000_000, "permutations", "must be between 99 and 1000000")
        try check(psiMinimumPerBin >= 1 && psiMaximumBins >= 2, "psi_minimum_per_bin / psi_maximum_bins", "must be at least 1 / 2")
        try check(mmdMaximumPatients >= 4 && mmdSlicesPerPatient >= 1, "mmd_maximum_patients / mmd_slices_per_patient", "must be at least 4 / 1")
        try check(imageSlicesPerPatient >= 0, "image_slices_per_patient", "must not be negative")
        try check(minimumKS >= 0 && minimumTotalVariation >= 0 && minimumMMD >= 0 && minimumAccuracyDrop >= 0,
                  "minimum_*", "must not be negative")
    }

    func minimumEffect(_ id: String, default value: Double) -> Double { factors[id]?.minEffect ?? value }
    func minimumShift(_ id: String) -> Double? { factors[id]?.minShift ?? Self.defaultShifts[id] }
    func enabled(_ id: String) -> Bool { factors[id]?.enabled ?? true }
}
