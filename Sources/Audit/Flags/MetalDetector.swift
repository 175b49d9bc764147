import Foundation

/// Metal: at least 20 voxels above 2500 HU.
///
/// Measurements: `metal_voxels`, `max_hu`.
public enum MetalDetector {
    public static func evaluate(_ c: FlagCase, config cfg: FlagConfig.Metal) -> FlagEvaluation {
        var count = 0, maxHU: Float = -.infinity
        var slices: [Int] = []
        for s in c.slices {
            var k = 0
            for h in s.hu {
                if h > maxHU { maxHU = h }
                if Double(h) > cfg.minHU { k += 1 }
            }
            if k > 0 { slices.append(s.index) }
            count += k
        }
        let m = [FlagMeasurement("metal_voxels", Double(count)), FlagMeasurement("max_hu", maxHU.isFinite ? Double(maxHU) : .nan)]
        let reasons = count >= cfg.minVoxels ? ["\(count) voxels above \(flagNumber(cfg.minHU)) HU (>= \(cfg.minVoxels))"] : []
        return .make(.metal, m, reasons: reasons, slices: slices)
    }
}
