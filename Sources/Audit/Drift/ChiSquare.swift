import Foundation

/// The chi-square distribution and the chi-square test of homogeneity of two samples over
/// categories.
public enum ChiSquare {
    /// P[χ²_df ≥ x] = Q(df/2, x/2), the regularised upper incomplete gamma function
    /// (a series for x < a + 1, Lentz's continued fraction otherwise; Numerical Recipes §6.2).
    public static func survival(_ x: Double, df: Double) -> Double {
        precondition(df > 0, "chi-square needs df > 0")
        if x <= 0 { return 1 }
        let a = df / 2, z = x / 2
        let logPrefix = -z + a * log(z) - lgamma(a)
        if z < a + 1 {
            var sum = 1 / a, term = 1 / a, ap = a
            for _ in 0..<10_000 {
                ap += 1
                term *= z / ap
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return min(1, max(0, 1 - sum * exp(logPrefix)))
        }
        let tiny = 1e-300
        var b = z + 1 - a, c = 1 / tiny, d = 1 / b, hh = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            hh *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return min(1, max(0, exp(logPrefix) * hh))
    }
}

/// Homogeneity of two samples over K categories: the 2 × K table of counts.
///
/// Statistic X² = Σ (O − E)² / E with E = row total × column total / N, over the categories
/// seen in either sample; df = K − 1 (no continuity correction, SciPy's
/// `chi2_contingency(table, correction=False)`). When any expected count is below
/// `minimumExpected` (Cochran's rule), the p-value is a permutation p-value instead:
/// the pooled observations are shuffled `permutations` times (Fisher–Yates with the seeded
/// xoshiro256** generator) and p = (1 + #{X²* ≥ X²}) / (1 + permutations).
/// Effect sizes: total variation distance ½ Σ |p_k − q_k| and Cramér's V = √(X² / N).
public struct CategoricalTest: Codable, Equatable, Sendable {
    public enum Method: String, Codable, Sendable { case chiSquare = "chi_square", permutation, none }

    public static let minimumExpected = 5.0

    public var categories: [String]
    public var reference: [Int]
    public var candidate: [Int]
    public var statistic: Double
    public var df: Int
    public var p: Double
    public var method: Method
    public var totalVariation: Double
    public var cramersV: Double

    public init(reference: [String: Int], candidate: [String: Int], permutations: Int = 1999, seed: UInt64 = 20200) {
        let cats = Set(reference.keys).union(candidate.keys).filter { (reference[$0] ?? 0) + (candidate[$0] ?? 0) > 0 }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        categories = cats
        self.reference = cats.map { reference[$0] ?? 0 }
        self.candidate = cats.map { candidate[$0] ?? 0 }
        let r = self.reference, c = self.candidate
        let nr = r.reduce(0, +), nc = c.reduce(0, +)
        df = max(cats.count - 1, 0)
        totalVariation = (nr > 0 && nc > 0)
            ? 0.5 * zip(r, c).reduce(0) { $0 + abs(Double($1.0) / Double(nr) - Double($1.1) / Double(nc)) } : 0
        guard cats.count > 1, nr > 0, nc > 0 else {
            statistic = 0; p = 1; method = .none; cramersV = 0
            return
        }
        statistic = Self.statistic(r, c)
        cramersV = (statistic / Double(nr + nc)).squareRoot()
        let total = Double(nr + nc)
        let smallest = zip(r, c).map { Double($0.0 + $0.1) }.min()! * Double(min(nr, nc)) / total
        if smallest >= Self.minimumExpected || permutations == 0 {
            method = .chiSquare
            p = ChiSquare.survival(statistic, df: Double(df))
        } else {
            method = .permutation
            var pooled: [Int] = []
            for k in cats.indices { pooled += Array(repeating: k, count: r[k] + c[k]) }
            var rng = Xoshiro256StarStar(seed: seed)
            var exceed = 0
            var rr = [Int](repeating: 0, count: cats.count), cc = rr
            for _ in 0..<permutations {
                DriftPermutation.shuffle(&pooled, &rng)
                for k in rr.indices { rr[k] = 0; cc[k] = 0 }
                for (i, k) in pooled.enumerated() { if i < nr { rr[k] += 1 } else { cc[k] += 1 } }
                if Self.statistic(rr, cc) >= statistic * (1 - 1e-12) { exceed += 1 }
            }
            p = Double(1 + exceed) / Double(1 + permutations)
        }
    }

    static func statistic(_ r: [Int], _ c: [Int]) -> Double {
        let nr = Double(r.reduce(0, +)), nc = Double(c.reduce(0, +)), n = nr + nc
        var x = 0.0
        for k in r.indices {
            let col = Double(r[k] + c[k])
            guard col > 0 else { continue }
            let er = nr * col / n, ec = nc * col / n
            x += (Double(r[k]) - er) * (Double(r[k]) - er) / er + (Double(c[k]) - ec) * (Double(c[k]) - ec) / ec
        }
        return x
    }

    enum CodingKeys: String, CodingKey {
        case categories, reference, candidate, statistic, df, p, method
        case totalVariation = "total_variation", cramersV = "cramers_v"
    }
}

/// Seeded permutations shared by the permutation tests.
enum DriftPermutation {
    /// Fisher–Yates from the end: for i = n−1 down to 1, swap a[i] with a[j], j = index(below: i + 1).
    static func shuffle<T>(_ a: inout [T], _ rng: inout Xoshiro256StarStar) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, rng.index(below: i + 1))
        }
    }
}
