import Foundation

/// Heavy noise / low dose: the noise index (most common local standard deviation over
/// `blockSize`² blocks lying wholly in soft tissue outside the lungs, 1-HU histogram bins)
/// over twice the reference's median. The reference is `referenceHU`, else the median noise
/// index of a reference run's patients, else of this run's.
///
/// Measurements: `noise_index_hu`, `reference_hu`, `noise_ratio`.
public enum NoiseDetector {
    /// The patient's noise index (NaN when no block qualifies).
    public static func noiseIndex(_ c: FlagCase, anatomy: [SliceAnatomy?], config cfg: FlagConfig.Noise) -> Double {
        let rows = c.rows, cols = c.columns, b = max(3, cfg.blockSize)
        var histogram = [Int](repeating: 0, count: 400)
        for s in c.slices {
            guard s.index < anatomy.count, let a = anatomy[s.index], s.hu.count == rows * cols else { continue }
            var r = 0
            while r + b <= rows {
                var col = 0
                while col + b <= cols {
                    var sum = 0.0, sq = 0.0, ok = true
                    for dr in 0..<b where ok { for dc in 0..<b {
                        let i = (r + dr) * cols + col + dc
                        let h = Double(s.hu[i])
                        if a.outside[i] || a.lung[i] != 0 || a.envelope[i] != 0 || h < cfg.tissueMinHU || h > cfg.tissueMaxHU { ok = false; break }
                        sum += h; sq += h * h
                    } }
                    if ok {
                        let nn = Double(b * b)
                        let sd = ((sq - sum * sum / nn) / (nn - 1)).squareRoot()
                        histogram[min(histogram.count - 1, Int(sd))] += 1
                    }
                    col += b
                }
                r += b
            }
        }
        guard histogram.reduce(0, +) > 0 else { return .nan }
        // Mode of the histogram smoothed over 5 bins.
        var best = 0, bestValue = -1
        for k in 0..<histogram.count {
            let v = (max(0, k - 2)...min(histogram.count - 1, k + 2)).map { histogram[$0] }.reduce(0, +)
            if v > bestValue { bestValue = v; best = k }
        }
        return Double(best) + 0.5
    }

    public static func evaluate(noiseIndex: Double, reference: Double, config cfg: FlagConfig.Noise) -> FlagEvaluation {
        let ratio = reference > 0 ? noiseIndex / reference : .nan
        let m = [FlagMeasurement("noise_index_hu", noiseIndex), FlagMeasurement("reference_hu", reference), FlagMeasurement("noise_ratio", ratio)]
        var reasons: [String] = []
        if !ratio.isNaN && ratio > cfg.maxRatio {
            reasons.append("noise index \(flagNumber(noiseIndex)) HU is \(flagNumber(ratio))x the reference \(flagNumber(reference)) HU (> \(flagNumber(cfg.maxRatio))x)")
        }
        return .make(.heavyNoise, m, reasons: reasons)
    }
}
