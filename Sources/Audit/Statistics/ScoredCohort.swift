/// The labelled patients of one prediction set laid out for fast, repeated evaluation: each
/// bootstrap resample is a vector of multiplicities (how often each patient was drawn), and
/// every `MetricID` is computed from it in O(n) — the per-class score orders and tie groups
/// are sorted once here, so a resample needs no sorting.
struct ScoredCohort {
    static let classes = Diagnosis.allCases.count

    let count: Int
    let labels: [Int]
    let predicted: [Int]
    /// Σ_k (p_k − y_k)² per patient.
    let brierTerms: [Double]
    /// Top-class probability per patient.
    let confidences: [Double]
    /// 1 when the prediction is right, else 0.
    let correct: [Double]
    /// The calibration bin of each patient's confidence.
    let bins: [Int]
    let binCount: Int
    /// Per class: patient indices by ascending probability of the class.
    let orders: [[Int]]
    /// Per class: `endsTie[c][j]` when position j of `orders[c]` ends a run of equal scores.
    let endsTie: [[Bool]]

    /// `patients` must all be labelled; their order is the order of resampling.
    init(_ patients: [PatientPrediction], binCount: Int) {
        precondition(binCount > 0)
        count = patients.count
        labels = patients.map { $0.label!.rawValue }
        predicted = patients.map { $0.predicted.rawValue }
        brierTerms = patients.map { p in
            var s = 0.0
            for k in 0..<Self.classes {
                let d = p.probabilities[k] - (p.label!.rawValue == k ? 1 : 0)
                s += d * d
            }
            return s
        }
        confidences = patients.map(\.confidence)
        correct = patients.map { $0.isCorrect! ? 1 : 0 }
        self.binCount = binCount
        bins = confidences.map { Calibration.bin(ofConfidence: $0, bins: binCount) }
        var orders: [[Int]] = [], endsTie: [[Bool]] = []
        for k in 0..<Self.classes {
            let scores = patients.map { $0.probabilities[k] }
            let order = scores.indices.sorted { scores[$0] < scores[$1] }
            orders.append(order)
            endsTie.append(order.indices.map { j in j + 1 == order.count || scores[order[j + 1]] != scores[order[j]] })
        }
        self.orders = orders
        self.endsTie = endsTie
    }

    /// Every metric in `MetricID.all` order for patient weights `w` (nil: each patient once);
    /// NaN where a figure is undefined (e.g. no patient of a class).
    func values(weights w: UnsafeBufferPointer<Int32>?) -> [Double] {
        let k = Self.classes
        var out = [Double](repeating: .nan, count: MetricID.all.count)
        @inline(__always) func weight(_ i: Int) -> Double { w.map { Double($0[i]) } ?? 1 }

        // Confusion matrix (truth rows, predicted columns), Brier and calibration sums.
        var cm = [Double](repeating: 0, count: k * k)
        var total = 0.0, brier = 0.0
        var binGap = [Double](repeating: 0, count: binCount)
        for i in 0..<count {
            let wi = weight(i)
            if wi == 0 { continue }
            cm[labels[i] * k + predicted[i]] += wi
            total += wi
            brier += wi * brierTerms[i]
            binGap[bins[i]] += wi * (correct[i] - confidences[i])
        }
        func ratio(_ a: Double, _ b: Double) -> Double { b > 0 ? a / b : .nan }
        var rows = [Double](repeating: 0, count: k), columns = [Double](repeating: 0, count: k)
        var diagonal = 0.0
        for t in 0..<k {
            for p in 0..<k {
                rows[t] += cm[t * k + p]
                columns[p] += cm[t * k + p]
            }
            diagonal += cm[t * k + t]
        }
        out[MetricID.accuracy.index] = ratio(diagonal, total)
        let healthy = Diagnosis.healthy.rawValue
        let sick = total - rows[healthy]
        out[MetricID.fpe.index] = ratio(rows[healthy] - cm[healthy * k + healthy], rows[healthy])
        var sickCalledHealthy = 0.0, sickRight = 0.0
        for t in 0..<k where t != healthy {
            sickCalledHealthy += cm[t * k + healthy]
            sickRight += cm[t * k + t]
        }
        out[MetricID.fne.index] = ratio(sickCalledHealthy, sick)
        out[MetricID.fdpe.index] = ratio(sick - sickCalledHealthy - sickRight, sick)
        for c in 0..<k {
            let d = Diagnosis(rawValue: c)!
            out[MetricID.sensitivity(d).index] = ratio(cm[c * k + c], rows[c])
            let others = total - rows[c]
            // Others not predicted as c: all others minus those predicted c.
            out[MetricID.specificity(d).index] = ratio(others - (columns[c] - cm[c * k + c]), others)
            out[MetricID.auc(d).index] = auc(class: c, weights: w)
        }
        out[MetricID.brier.index] = ratio(brier, total)
        if total > 0 {
            var gap = 0.0
            for b in 0..<binCount { gap += abs(binGap[b]) }
            out[MetricID.ece.index] = gap / total
        }
        return out
    }

    /// The weighted Mann-Whitney AUC of class `c` against the rest, ties counting one half:
    /// Σ over positive-negative pairs of [s⁺ > s⁻] + ½[s⁺ = s⁻], over (positives × negatives).
    func auc(class c: Int, weights w: UnsafeBufferPointer<Int32>?) -> Double {
        let order = orders[c], ends = endsTie[c]
        var negativesBelow = 0.0, pairs = 0.0, positives = 0.0
        var groupPositives = 0.0, groupNegatives = 0.0
        for j in 0..<order.count {
            let i = order[j]
            let wi = w.map { Double($0[i]) } ?? 1
            if labels[i] == c { groupPositives += wi } else { groupNegatives += wi }
            if ends[j] {
                pairs += groupPositives * (negativesBelow + 0.5 * groupNegatives)
                negativesBelow += groupNegatives
                positives += groupPositives
                groupPositives = 0
                groupNegatives = 0
            }
        }
        guard positives > 0 && negativesBelow > 0 else { return .nan }
        return pairs / (positives * negativesBelow)
    }
}
