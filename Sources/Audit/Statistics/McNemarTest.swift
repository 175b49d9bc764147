import Foundation

/// McNemar's test of equal accuracy of two prediction sets on the same labelled patients.
///
/// With b = patients only the baseline gets right and c = patients only the candidate gets
/// right (the discordant pairs, n = b + c):
/// - n < 25: the exact binomial test, p = min(1, 2 · P[X ≤ min(b, c)]) with X ~ Bin(n, ½),
///   statistic min(b, c) (statsmodels `mcnemar(exact=True)`; equal to SciPy's
///   `binomtest(min(b, c), n, 0.5)` because Bin(n, ½) is symmetric);
/// - n ≥ 25: the chi-square statistic with continuity correction (|b − c| − 1)² / (b + c) on one
///   degree of freedom, p = P[χ²₁ ≥ statistic] (statsmodels `mcnemar(exact=False,
///   correction=True)` and R's `mcnemar.test`; note that, as there, b = c gives 1/n, not 0).
/// With no discordant pair, p = 1.
public struct McNemarTest: Encodable, Equatable, Sendable {
    public enum Method: String, Encodable, Sendable {
        case exactBinomial = "exact_binomial"
        case chiSquareCorrected = "chi_square_continuity_corrected"
    }

    /// The number of discordant pairs from which the chi-square approximation is used.
    public static let chiSquareFrom = 25

    public var bothCorrect: Int
    /// b: right in the baseline, wrong in the candidate.
    public var baselineOnlyCorrect: Int
    /// c: wrong in the baseline, right in the candidate.
    public var candidateOnlyCorrect: Int
    public var bothWrong: Int
    public var method: Method
    public var statistic: Double
    public var p: Double

    public var discordant: Int { baselineOnlyCorrect + candidateOnlyCorrect }

    public init(bothCorrect: Int, baselineOnlyCorrect b: Int, candidateOnlyCorrect c: Int, bothWrong: Int) {
        self.bothCorrect = bothCorrect
        baselineOnlyCorrect = b
        candidateOnlyCorrect = c
        self.bothWrong = bothWrong
        let n = b + c
        if n < Self.chiSquareFrom {
            method = .exactBinomial
            let k = min(b, c)
            statistic = Double(k)
            // Exact for n < 25: binomial coefficients and 2^n are integers below 2^53.
            var tail = 0.0, coefficient = 1.0
            for i in 0...k {
                if i > 0 { coefficient = coefficient * Double(n - i + 1) / Double(i) }
                tail += coefficient
            }
            p = n == 0 ? 1 : min(1, 2 * tail / pow(2, Double(n)))
        } else {
            method = .chiSquareCorrected
            let d = Double(abs(b - c)) - 1
            statistic = d * d / Double(n)
            p = erfc((statistic / 2).squareRoot())
        }
    }

    enum CodingKeys: String, CodingKey {
        case bothCorrect = "both_correct", baselineOnlyCorrect = "baseline_only_correct"
        case candidateOnlyCorrect = "candidate_only_correct", bothWrong = "both_wrong"
        case discordant, method, statistic, p
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bothCorrect, forKey: .bothCorrect)
        try c.encode(baselineOnlyCorrect, forKey: .baselineOnlyCorrect)
        try c.encode(candidateOnlyCorrect, forKey: .candidateOnlyCorrect)
        try c.encode(bothWrong, forKey: .bothWrong)
        try c.encode(discordant, forKey: .discordant)
        try c.encode(method, forKey: .method)
        try c.encode(statistic, forKey: .statistic)
        try c.encode(p, forKey: .p)
    }
}
