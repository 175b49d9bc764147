import Foundation

/// The population stability index of a candidate sample against a reference sample.
///
/// Bins: B = clamp(⌊min(n_ref, n_cand) / minimumPerBin⌋, 2, maximumBins), so that every bin
/// expects about `minimumPerBin` observations of the smaller sample. The inner edges are the
/// reference quantiles at k/B, k = 1…B−1 (NumPy's default linear interpolation, Hyndman & Fan
/// type 7), duplicates removed; bin k holds the values v with e_{k−1} < v ≤ e_k (NumPy's
/// `searchsorted(edges, v, side="left")`). Shares are smoothed by half a count,
/// r_k = (R_k + ½) / (n_ref + B/2) and c_k = (C_k + ½) / (n_cand + B/2), so that an empty bin
/// never gives an infinite index, and
///
///     PSI = Σ_k (c_k − r_k) · ln(c_k / r_k).
///
/// Under no drift, PSI ≈ χ²_{B−1} · (1/n_ref + 1/n_cand), so its expected value
/// `nullExpectation` = (B − 1)(1/n_ref + 1/n_cand) is the noise floor of the index at this
/// sample size; the usual reading (below 0.1 stable, 0.1–0.25 moderate, above 0.25 major
/// shift) is only meaningful well above that floor.
public struct PopulationStability: Codable, Equatable, Sendable {
    public var bins: Int
    public var edges: [Double]
    public var referenceCounts: [Int]
    public var candidateCounts: [Int]
    public var value: Double
    public var nullExpectation: Double

    public init(reference: [Double], candidate: [Double], minimumPerBin: Int = 10, maximumBins: Int = 10) {
        precondition(!reference.isEmpty && !candidate.isEmpty, "PSI needs two non-empty samples")
        let wanted = max(2, min(maximumBins, min(reference.count, candidate.count) / max(1, minimumPerBin)))
        let sorted = reference.sorted()
        var e: [Double] = []
        for k in 1..<wanted {
            let q = Bootstrap.quantile(sorted: sorted, Double(k) / Double(wanted))
            if e.last != q { e.append(q) }
        }
        edges = e
        bins = e.count + 1
        func counts(_ v: [Double]) -> [Int] {
            var c = [Int](repeating: 0, count: e.count + 1)
            for x in v {
                // First edge ≥ x (binary search).
                var lo = 0, hi = e.count
                while lo < hi { let mid = (lo + hi) / 2; if e[mid] < x { lo = mid + 1 } else { hi = mid } }
                c[lo] += 1
            }
            return c
        }
        referenceCounts = counts(reference)
        candidateCounts = counts(candidate)
        let nr = Double(reference.count), nc = Double(candidate.count), b = Double(bins)
        var psi = 0.0
        for k in 0..<bins {
            let r = (Double(referenceCounts[k]) + 0.5) / (nr + b / 2)
            let c = (Double(candidateCounts[k]) + 0.5) / (nc + b / 2)
            psi += (c - r) * log(c / r)
        }
        value = psi
        nullExpectation = (b - 1) * (1 / nr + 1 / nc)
    }

    enum CodingKeys: String, CodingKey {
        case bins, edges, value
        case referenceCounts = "reference_counts", candidateCounts = "candidate_counts"
        case nullExpectation = "null_expectation"
    }
}
