import Foundation

/// The two-sample Kolmogorov–Smirnov test (two-sided).
///
/// D = sup_x |F_ref(x) − F_cand(x)|, evaluated at every distinct value of the pooled sample
/// (ties advance both empirical CDFs together), as SciPy's `ks_2samp`.
///
/// p-value:
/// - **exact** when n·m ≤ `exactLimit`: with D = h / (n·m) (h an integer),
///   p = P[D ≥ d] = 1 − P[every lattice point (i, j) on the path from (0, 0) to (n, m) has
///   |i·m − j·n| < h], the probability over the C(n + m, n) equally likely paths, computed by
///   a dynamic programme over f(i, j) = paths(i, j) / C(i + j, i), which obeys
///   f(i, j) = f(i − 1, j)·i/(i + j) + f(i, j − 1)·j/(i + j) and never overflows. This is SciPy's
///   `ks_2samp(method="exact")` (its `_compute_outer_prob_inside_method`);
/// - **asymptotic** otherwise: p = Q_KS(√(nm/(n+m)) · D) with Kolmogorov's limiting
///   distribution Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} (SciPy's `special.kolmogorov`).
public struct KolmogorovSmirnov: Codable, Equatable, Sendable {
    public enum Method: String, Codable, Sendable { case exact, asymptotic }

    /// Above this many lattice cells (n·m) the asymptotic distribution is used.
    public static let exactLimit = 4_000_000

    public var statistic: Double
    public var p: Double
    public var method: Method
    public var n: Int
    public var m: Int

    /// The test of `a` (n values) against `b` (m values); both non-empty, finite values.
    public init(_ a: [Double], _ b: [Double]) {
        precondition(!a.isEmpty && !b.isEmpty, "KS needs two non-empty samples")
        let x = a.sorted(), y = b.sorted()
        let n = x.count, m = y.count
        var i = 0, j = 0, h = 0
        while i < n || j < m {
            let v = min(i < n ? x[i] : .infinity, j < m ? y[j] : .infinity)
            while i < n && x[i] == v { i += 1 }
            while j < m && y[j] == v { j += 1 }
            h = max(h, abs(i * m - j * n))
        }
        self.n = n
        self.m = m
        statistic = Double(h) / (Double(n) * Double(m))
        if h == 0 {
            p = 1
            method = .exact
        } else if n * m <= Self.exactLimit {
            p = Self.exactP(n: n, m: m, h: h)
            method = .exact
        } else {
            let en = Double(n) * Double(m) / Double(n + m)
            p = Self.kolmogorovSurvival(en.squareRoot() * statistic)
            method = .asymptotic
        }
    }

    /// P[D ≥ h / (n·m)] under the null, exact (see the type's comment).
    static func exactP(n: Int, m: Int, h: Int) -> Double {
        // Row i of f over j = 0...m, updated in place.
        var f = [Double](repeating: 0, count: m + 1)
        for i in 0...n {
            for j in 0...m {
                let inside = abs(i * m - j * n) < h
                if !inside { f[j] = 0; continue }
                if i == 0 && j == 0 { f[j] = 1; continue }
                let up = i > 0 ? f[j] * Double(i) / Double(i + j) : 0
                let left = j > 0 ? f[j - 1] * Double(j) / Double(i + j) : 0
                f[j] = up + left
            }
        }
        return min(1, max(0, 1 - f[m]))
    }

    /// Kolmogorov's limiting survival function Q_KS(λ) = P[√n D_n > λ] as n → ∞.
    public static func kolmogorovSurvival(_ lambda: Double) -> Double {
        if lambda <= 0 { return 1 }
        if lambda < 0.2 { return 1 }
        if lambda < 1 {
            // The theta-function form converges fast for small λ:
            // 1 − Q = √(2π)/λ Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)}.
            var s = 0.0
            for k in 1...20 {
                let t = Double(2 * k - 1)
                s += exp(-t * t * Double.pi * Double.pi / (8 * lambda * lambda))
            }
            return min(1, max(0, 1 - (2 * Double.pi).squareRoot() / lambda * s))
        }
        var s = 0.0
        for k in 1...100 {
            let kd = Double(k)
            let term = exp(-2 * kd * kd * lambda * lambda)
            s += (k % 2 == 1 ? term : -term)
            if term < 1e-300 { break }
        }
        return min(1, max(0, 2 * s))
    }
}
