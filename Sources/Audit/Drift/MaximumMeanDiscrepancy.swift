import Foundation

/// A two-sample test on feature vectors: the maximum mean discrepancy (Gretton et al., JMLR
/// 2012) with a Gaussian (RBF) kernel, its bandwidth from the median heuristic, and a
/// permutation p-value.
///
/// The samples are made of **units** (patients), each holding one or more vectors (one: the
/// patient feature; several: slices of the patient). Units are what the permutations move,
/// so slices of one patient always stay together and the test stays valid although slices of
/// a patient are not independent.
///
/// 1. Every dimension is standardised over the pooled vectors (mean 0, sample SD 1; a
///    dimension with SD below 1e-12 is dropped). Pooling does not depend on which sample a
///    unit belongs to, so the permutation test stays exact.
/// 2. Bandwidth σ = the median of the pairwise Euclidean distances ‖x_i − x_j‖, i < j, over
///    the pooled vectors (NumPy's median of an even count averages the middle two);
///    k(x, y) = exp(−‖x − y‖² / (2σ²)).
/// 3. With n_X and n_Y vectors, the unbiased estimate
///
///        MMD²_u = Σ_{i≠j ∈ X} k / (n_X (n_X − 1)) + Σ_{i≠j ∈ Y} k / (n_Y (n_Y − 1)) − 2 Σ_{i∈X, j∈Y} k / (n_X n_Y).
///
/// 4. p = (1 + #{MMD²* ≥ MMD²}) / (1 + P) over P permutations of the units (Fisher–Yates with
///    the seeded xoshiro256**; the first |X| units of each permutation form X).
///
/// The kernel is summed once into unit blocks S_ab = Σ_{x∈a, y∈b} k(x, y), so a permutation
/// costs O(|X|²) additions, not a pass over all vector pairs.
public struct MaximumMeanDiscrepancy: Codable, Equatable, Sendable {
    public var statistic: Double
    public var p: Double
    public var bandwidth: Double
    public var permutations: Int
    public var referenceUnits: Int
    public var candidateUnits: Int
    public var referenceVectors: Int
    public var candidateVectors: Int
    public var dimensions: Int

    /// Above this many pooled vectors, the median heuristic uses a seeded sample of this many.
    public static let medianSample = 1000

    /// `reference` and `candidate`: units, each a list of vectors of equal length.
    public init(reference: [[[Float]]], candidate: [[[Float]]], permutations: Int = 1999, seed: UInt64 = 20200) {
        let units = reference + candidate
        let sizes = units.map(\.count)
        var vectors: [[Double]] = []
        for u in units { for v in u { vectors.append(v.map(Double.init)) } }
        precondition(!vectors.isEmpty, "MMD needs vectors")
        let d = vectors[0].count
        // 1. Pooled standardisation.
        let n = Double(vectors.count)
        var keep: [(Int, Double, Double)] = []
        for k in 0..<d {
            var mean = 0.0
            for v in vectors { mean += v[k] }
            mean /= n
            var ss = 0.0
            for v in vectors { ss += (v[k] - mean) * (v[k] - mean) }
            let sd = vectors.count > 1 ? (ss / (n - 1)).squareRoot() : 0
            if sd >= 1e-12 { keep.append((k, mean, sd)) }
        }
        let z = vectors.map { v in keep.map { (v[$0.0] - $0.1) / $0.2 } }
        dimensions = keep.count
        // 2. The median heuristic, over all pairs, or over the pairs of a seeded sample of
        //    `medianSample` vectors when there are more.
        let total = z.count
        func squaredDistance(_ i: Int, _ j: Int) -> Double {
            var s = 0.0
            let a = z[i], b = z[j]
            for k in a.indices { let t = a[k] - b[k]; s += t * t }
            return s
        }
        var sample = Array(0..<total)
        var rng = Xoshiro256StarStar(seed: seed)
        if total > Self.medianSample {
            DriftPermutation.shuffle(&sample, &rng)
            sample = Array(sample[0..<Self.medianSample])
        }
        var distances: [Double] = []
        distances.reserveCapacity(sample.count * (sample.count - 1) / 2)
        for i in sample.indices {
            for j in sample.indices where j > i { distances.append(squaredDistance(sample[i], sample[j]).squareRoot()) }
        }
        distances.sort()
        let median = distances.isEmpty ? 1 : Bootstrap.quantile(sorted: distances, 0.5)
        bandwidth = median > 0 ? median : 1
        let gamma = 1 / (2 * bandwidth * bandwidth)
        // 3. Unit block sums.
        var start = [Int](repeating: 0, count: units.count + 1)
        for (u, s) in sizes.enumerated() { start[u + 1] = start[u] + s }
        let nu = units.count
        var block = [Double](repeating: 0, count: nu * nu)
        for a in 0..<nu {
            for b in a..<nu {
                var s = 0.0
                for i in start[a]..<start[a + 1] {
                    for j in start[b]..<start[b + 1] { s += exp(-gamma * squaredDistance(i, j)) }
                }
                block[a * nu + b] = s
                block[b * nu + a] = s
            }
        }
        var rowSum = [Double](repeating: 0, count: nu)
        for a in 0..<nu { for b in 0..<nu { rowSum[a] += block[a * nu + b] } }
        let grand = rowSum.reduce(0, +)
        let nx = reference.count
        referenceUnits = nx
        candidateUnits = candidate.count
        referenceVectors = sizes[0..<nx].reduce(0, +)
        candidateVectors = sizes[nx...].reduce(0, +)
        // k(x, x) = 1, so the diagonal of a sample's within-sum is its vector count.
        func mmd(_ members: ArraySlice<Int>) -> Double {
            var within = 0.0, rows = 0.0, vx = 0
            for a in members {
                rows += rowSum[a]
                vx += sizes[a]
                for b in members { within += block[a * nu + b] }
            }
            let vy = total - vx
            let cross = rows - within
            let withinY = grand - within - 2 * cross
            let tx = Double(vx), ty = Double(vy)
            return (within - tx) / (tx * (tx - 1)) + (withinY - ty) / (ty * (ty - 1)) - 2 * cross / (tx * ty)
        }
        var order = Array(0..<nu)
        statistic = mmd(order[0..<nx])
        var exceed = 0
        for _ in 0..<permutations {
            DriftPermutation.shuffle(&order, &rng)
            if mmd(order[0..<nx]) >= statistic - 1e-12 * max(1, abs(statistic)) { exceed += 1 }
        }
        self.permutations = permutations
        p = Double(1 + exceed) / Double(1 + permutations)
    }

    enum CodingKeys: String, CodingKey {
        case statistic, p, bandwidth, permutations, dimensions
        case referenceUnits = "reference_units", candidateUnits = "candidate_units"
        case referenceVectors = "reference_vectors", candidateVectors = "candidate_vectors"
    }
}
