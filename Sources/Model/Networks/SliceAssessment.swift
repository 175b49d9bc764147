/// Per-slice four-class probabilities and the non-parametric patient assessment
/// (the paper's Appendix A; spec sections 2 and 4).
public enum SliceAssessment {
    /// `q0 = p[0]`, `qc = p[1] * r[c] / (r[1] + r[2] + r[3])` for c in 1...3, from the
    /// window-averaged lesion probabilities `p` and class probabilities `r`.
    public static func fourClass(lesion p: ArraySlice<Float>, classes r: ArraySlice<Float>) -> [Float] {
        let p0 = p[p.startIndex], p1 = p[p.startIndex + 1]
        let r1 = r[r.startIndex + 1], r2 = r[r.startIndex + 2], r3 = r[r.startIndex + 3]
        let sick = r1 + r2 + r3
        return [p0, p1 * r1 / sick, p1 * r2 / sick, p1 * r3 / sick]
    }

    /// Index of the largest value; ties go to the lowest index.
    public static func argmax<C: Collection>(_ v: C) -> Int where C.Element == Float {
        var best = 0, bestValue = -Float.infinity, i = 0
        for x in v {
            if i == 0 || x > bestValue { best = i; bestValue = x }
            i += 1
        }
        return best
    }

    /// The non-parametric scores `s0..s3` and prediction from the slices' `q` (`[N, 4]`).
    ///
    /// `H` is the fraction of slices predicted healthy; `m_c` the mean of `q_c` over the
    /// slices not predicted healthy (1/3 when there are none); `s0 = H`,
    /// `s_c = (1 - H) m_c / (m_1 + m_2 + m_3)`. Healthy if `H >= tau`, else argmax of `s_1..s_3`.
    public static func nonParametric(sliceProbs q: [Float], count n: Int, tau: Float) -> (scores: [Float], prediction: Int) {
        var healthy = 0
        var sums: [Float] = [0, 0, 0]
        var sick = 0
        for i in 0..<n {
            let row = q[(i * 4)..<(i * 4 + 4)]
            if argmax(row) == 0 {
                healthy += 1
            } else {
                sick += 1
                for c in 0..<3 { sums[c] += row[row.startIndex + c + 1] }
            }
        }
        let H = Float(healthy) / Float(n)
        let m: [Float] = sick == 0 ? [1 / 3, 1 / 3, 1 / 3] : sums.map { $0 / Float(sick) }
        let total = m[0] + m[1] + m[2]
        let scores = [H] + m.map { (1 - H) * $0 / total }
        let prediction = H >= tau ? 0 : 1 + argmax(scores[1...3])
        return (scores, prediction)
    }
}
