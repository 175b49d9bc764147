import Foundation

/// DeLong's nonparametric variance of the AUC (DeLong, DeLong & Clarke-Pearson 1988) by the
/// fast midrank algorithm of Sun & Xu (2014).
///
/// For m positives X and n negatives Y, with T_Z the midranks of X ∪ Y, T_X those within X
/// and T_Y those within Y (ties share the mean of their ranks):
///
///     V10_i = (T_Z(X_i) − T_X(X_i)) / n          (the placement of positive i)
///     V01_j = 1 − (T_Z(Y_j) − T_Y(Y_j)) / m      (the placement of negative j)
///     AUC   = mean(V10) = mean(V01)
///     S10   = cov(V10), S01 = cov(V01)           (sample covariances, divisor m−1, n−1)
///     Var   = S10/m + S01/n
///
/// For several models on the same patients the covariances are matrices, and the variance of
/// the difference of two AUCs is `L S Lᵀ` with L = (1, −1).
public enum DeLong {
    /// The placements of one model's scores for one class (positives where `positive`).
    struct Placements {
        var auc: Double
        var v10: [Double]
        var v01: [Double]
    }

    /// 1-based midranks: tied values get the mean of the ranks they span.
    static func midranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var ranks = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let r = Double(i + j) / 2 + 1
            for t in i...j { ranks[order[t]] = r }
            i = j + 1
        }
        return ranks
    }

    /// Placements, or nil when there is no positive or no negative.
    static func placements(scores: [Double], positive: [Bool]) -> Placements? {
        let x = zip(scores, positive).filter { $0.1 }.map(\.0)
        let y = zip(scores, positive).filter { !$0.1 }.map(\.0)
        let m = x.count, n = y.count
        guard m > 0 && n > 0 else { return nil }
        let tx = midranks(x), ty = midranks(y), tz = midranks(x + y)
        let v10 = (0..<m).map { (tz[$0] - tx[$0]) / Double(n) }
        let v01 = (0..<n).map { 1 - (tz[m + $0] - ty[$0]) / Double(m) }
        let auc = (tz[0..<m].reduce(0, +) - Double(m) * Double(m + 1) / 2) / (Double(m) * Double(n))
        return Placements(auc: auc, v10: v10, v01: v01)
    }

    /// The sample covariance of two equally long vectors about the given means.
    static func covariance(_ a: [Double], _ ma: Double, _ b: [Double], _ mb: Double) -> Double {
        var s = 0.0
        for i in a.indices { s += (a[i] - ma) * (b[i] - mb) }
        return s / Double(a.count - 1)
    }

    /// The AUC with DeLong's standard error and interval AUC ± z·SE clipped to [0, 1], the
    /// same as pROC's `ci.auc(method = "delong")`. Nil without a positive or a negative; the
    /// standard error and interval are nil with fewer than 2 positives or 2 negatives.
    public static func estimate(scores: [Double], positive: [Bool], level: Double = 0.95)
        -> (auc: Double, standardError: Double?, interval: ConfidenceInterval?)? {
        guard let p = placements(scores: scores, positive: positive) else { return nil }
        let m = p.v10.count, n = p.v01.count
        guard m > 1 && n > 1 else { return (p.auc, nil, nil) }
        let variance = covariance(p.v10, p.auc, p.v10, p.auc) / Double(m) + covariance(p.v01, p.auc, p.v01, p.auc) / Double(n)
        let se = variance.squareRoot()
        let z = NormalDistribution.quantile(1 - (1 - level) / 2)
        return (p.auc, se, ConfidenceInterval(lower: max(0, p.auc - z * se), upper: min(1, p.auc + z * se)))
    }

    /// DeLong's test of two correlated AUCs (two models, same patients, same class).
    public struct PairedResult: Equatable, Sendable {
        /// AUC of `scoresA` minus AUC of `scoresB`.
        public var difference: Double
        public var aucA: Double
        public var aucB: Double
        /// √(L S Lᵀ); nil with fewer than 2 positives or negatives.
        public var standardError: Double?
        /// difference / standardError; 0 when both are 0 and ±∞ when only the error is 0 (as pROC).
        public var z: Double?
        /// 2 (1 − Φ(|z|)).
        public var p: Double?
        /// difference ± z_{level}·SE (not clipped).
        public var interval: ConfidenceInterval?
    }

    /// The paired test of AUC(scoresA) = AUC(scoresB), the same as pROC's
    /// `roc.test(rocA, rocB, method = "delong", paired = TRUE)`. Nil without a positive or negative.
    public static func pairedTest(scoresA: [Double], scoresB: [Double], positive: [Bool], level: Double = 0.95) -> PairedResult? {
        precondition(scoresA.count == scoresB.count && scoresA.count == positive.count)
        guard let a = placements(scores: scoresA, positive: positive),
              let b = placements(scores: scoresB, positive: positive) else { return nil }
        let difference = a.auc - b.auc
        var result = PairedResult(difference: difference, aucA: a.auc, aucB: b.auc)
        let m = a.v10.count, n = a.v01.count
        guard m > 1 && n > 1 else { return result }
        let s10 = [covariance(a.v10, a.auc, a.v10, a.auc), covariance(a.v10, a.auc, b.v10, b.auc),
                   covariance(b.v10, b.auc, b.v10, b.auc)]
        let s01 = [covariance(a.v01, a.auc, a.v01, a.auc), covariance(a.v01, a.auc, b.v01, b.auc),
                   covariance(b.v01, b.auc, b.v01, b.auc)]
        let s = (0..<3).map { s10[$0] / Double(m) + s01[$0] / Double(n) }
        let variance = max(0, s[0] + s[2] - 2 * s[1])
        let se = variance.squareRoot()
        let z: Double
        if se == 0 {
            z = difference == 0 ? 0 : (difference > 0 ? .infinity : -.infinity)
        } else {
            z = difference / se
        }
        let q = NormalDistribution.quantile(1 - (1 - level) / 2)
        result.standardError = se
        result.z = z
        result.p = NormalDistribution.twoSidedP(z)
        result.interval = ConfidenceInterval(lower: difference - q * se, upper: difference + q * se)
        return result
    }
}
