/// The seeded percentile bootstrap by patient.
///
/// Scheme: the n patients (labelled, in canonical order: patient id as UTF-8 bytes) are
/// resampled with replacement B times. Resample b = 0, 1, ..., B−1 draws n indices in turn
/// from one `Xoshiro256StarStar(seed:)` stream with `index(below: n)`; a resample is the
/// vector of how often each patient was drawn. A paired comparison uses the same vectors for
/// both prediction sets. Everything is single-threaded, so results are bit-identical for a
/// given seed on any machine and thread count.
public enum Bootstrap {
    /// Calls `body` with the multiplicity vector of each resample, in order.
    static func forEachResample(patients n: Int, resamples: Int, seed: UInt64,
                                _ body: (UnsafeBufferPointer<Int32>) -> Void) {
        guard n > 0 && resamples > 0 else { return }
        var rng = Xoshiro256StarStar(seed: seed)
        var counts = [Int32](repeating: 0, count: n)
        for _ in 0..<resamples {
            for i in 0..<n { counts[i] = 0 }
            for _ in 0..<n { counts[rng.index(below: n)] += 1 }
            counts.withUnsafeBufferPointer { body($0) }
        }
    }

    /// The cluster bootstrap: the `clusters` (patients) are resampled exactly as
    /// `forEachResample` resamples patients (the same stream, `clusterCount` draws per
    /// resample), and every unit (slice) gets its cluster's multiplicity. `cluster[u]` is
    /// the cluster of unit u, in [0, clusterCount). With one unit per cluster this is
    /// `forEachResample`.
    static func forEachClusteredResample(cluster: [Int], clusterCount: Int, resamples: Int, seed: UInt64,
                                         _ body: (UnsafeBufferPointer<Int32>) -> Void) {
        var units = [Int32](repeating: 0, count: cluster.count)
        forEachResample(patients: clusterCount, resamples: resamples, seed: seed) { w in
            for u in cluster.indices { units[u] = w[cluster[u]] }
            units.withUnsafeBufferPointer { body($0) }
        }
    }

    /// The bootstrap replicates of every `MetricID` (one array per metric, in `MetricID.all`
    /// order, one value per resample, NaN where undefined). With `clusters` (the cluster of
    /// each unit of `cohort`, and their count), whole clusters are resampled.
    static func replicates(_ cohort: ScoredCohort, resamples: Int, seed: UInt64,
                           clusters: (cluster: [Int], count: Int)? = nil) -> [[Double]] {
        var columns = [[Double]](repeating: [], count: MetricID.all.count)
        for m in columns.indices { columns[m].reserveCapacity(resamples) }
        let body: (UnsafeBufferPointer<Int32>) -> Void = { w in
            let v = cohort.values(weights: w)
            for m in v.indices { columns[m].append(v[m]) }
        }
        if let clusters {
            precondition(clusters.cluster.count == cohort.count)
            forEachClusteredResample(cluster: clusters.cluster, clusterCount: clusters.count, resamples: resamples, seed: seed, body)
        } else {
            forEachResample(patients: cohort.count, resamples: resamples, seed: seed, body)
        }
        return columns
    }

    /// The percentile interval of the defined (non-NaN) replicates: the (1 − level)/2 and
    /// 1 − (1 − level)/2 quantiles with linear interpolation between order statistics
    /// (NumPy's default `method="linear"`, Hyndman & Fan type 7). Nil when none is defined.
    public static func percentileInterval(_ replicates: [Double], level: Double) -> BootstrapInterval? {
        let defined = replicates.filter { !$0.isNaN }.sorted()
        guard !defined.isEmpty else { return nil }
        let alpha = (1 - level) / 2
        return BootstrapInterval(lower: quantile(sorted: defined, alpha), upper: quantile(sorted: defined, 1 - alpha),
                                 resamples: defined.count)
    }

    /// The q-quantile of sorted values, type 7: h = (m − 1) q, interpolated between the order
    /// statistics around h exactly as NumPy does (`a + (b − a) t`, or `b − (b − a)(1 − t)` when t ≥ ½).
    public static func quantile(sorted v: [Double], _ q: Double) -> Double {
        precondition(!v.isEmpty)
        let h = Double(v.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, v.count - 1)
        let t = h - Double(lo)
        let a = v[lo], b = v[hi], d = b - a
        return t >= 0.5 ? b - d * (1 - t) : a + d * t
    }

    /// Paired differences smaller than this in magnitude count as exactly 0.
    public static let zeroTolerance = 1e-12

    /// The two-sided bootstrap p-value of a paired difference being 0: with m defined
    /// replicates d*,
    ///
    ///     p = min(1, 2 · min((1 + #{d* ≤ 0}) / (m + 1), (1 + #{d* ≥ 0}) / (m + 1)))
    ///
    /// i.e. twice the smaller tail of the bootstrap distribution beyond 0 (the smallest α at
    /// which the percentile interval excludes 0), with the add-one correction so that p > 0.
    /// A replicate within `zeroTolerance` of 0 is rounding noise of an exact tie (two equal
    /// ECEs summed in a different order) and counts as 0, in both tails. Nil when no
    /// replicate is defined.
    public static func pairedPValue(_ differences: [Double]) -> Double? {
        let defined = differences.filter { !$0.isNaN }.map { abs($0) < zeroTolerance ? 0 : $0 }
        guard !defined.isEmpty else { return nil }
        let m = Double(defined.count)
        let atMost = Double(defined.filter { $0 <= 0 }.count)
        let atLeast = Double(defined.filter { $0 >= 0 }.count)
        return min(1, 2 * min((1 + atMost) / (m + 1), (1 + atLeast) / (m + 1)))
    }
}
