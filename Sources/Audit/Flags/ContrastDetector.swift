import Foundation

/// Contrast-enhanced scan: the blood pool above 150 HU. The descending aorta is looked for
/// as a disc of soft tissue just in front of the spine on the patient's left; the heart's
/// interior (3 px from its edge, away from pericardial fat) is the fallback, and the only
/// measure on a series whose field of view lies inside the body (`FlagConfig.FieldOfView`): there
/// the body's midline and the spine, which place the aorta, are not found reliably.
///
/// Measurements: `aorta_hu` (NaN when not found), `heart_hu`, `blood_pool_hu`.
public enum ContrastDetector {
    public static func evaluate(_ c: FlagCase, anatomy: [SliceAnatomy?], config cfg: FlagConfig.Contrast,
                                fieldOfView: FlagConfig.FieldOfView = .init()) -> FlagEvaluation {
        let rows = c.rows, cols = c.columns
        let aortaOK = fieldOfView.slicesInsideBody(c, anatomy: anatomy).isEmpty
        var aorta: [Float] = [], heart: [Float] = []
        let radius = max(1, Int(cfg.aortaRadiusMM / c.colMM))
        let left = c.patientLeftIsHighColumn ? 1 : -1
        let forward = c.posteriorIsHighRow ? -1 : 1
        for s in c.slices {
            guard s.index < anatomy.count, let a = anatomy[s.index], a.heartArea > 0, s.hu.count == rows * cols else { continue }
            // Heart interior.
            let inner = Int(3)
            for r in inner..<(rows - inner) { for col in inner..<(cols - inner) where a.heart[r * cols + col] {
                if a.heart[(r - inner) * cols + col] && a.heart[(r + inner) * cols + col] && a.heart[r * cols + col - inner] && a.heart[r * cols + col + inner] {
                    heart.append(s.hu[r * cols + col])
                }
            } }
            // Aorta: centre one radius in front of the spine's front edge, 1-2 radii to the left of the midline.
            guard aortaOK, let spine = a.spineFrontRow else { continue }
            let cr = spine + forward * (radius + 2)
            var best: (Float, Int)?
            for shift in stride(from: radius, through: 3 * radius, by: max(1, radius / 2)) {
                let cc = Int(a.midColumn.rounded()) + left * shift
                var v: [Float] = []
                for dr in -radius / 2...radius / 2 { for dc in -radius / 2...radius / 2 {
                    let r = cr + dr, col = cc + dc
                    guard r >= 0, r < rows, col >= 0, col < cols else { continue }
                    let h = s.hu[r * cols + col]
                    if h > 0 && h < 600 { v.append(h) }
                } }
                let full = (radius / 2 * 2 + 1) * (radius / 2 * 2 + 1)
                if v.count * 10 >= full * 9 {
                    let med = v.sorted()[v.count / 2]
                    if best == nil || med > best!.0 { best = (med, v.count) }
                }
            }
            if let b = best { aorta.append(b.0) }
        }
        func median(_ v: [Float]) -> Double { v.isEmpty ? .nan : Double(v.sorted()[v.count / 2]) }
        let aortaHU = median(aorta), heartHU = median(heart)
        let blood = aortaHU.isNaN ? heartHU : aortaHU
        let m = [FlagMeasurement("aorta_hu", aortaHU), FlagMeasurement("heart_hu", heartHU), FlagMeasurement("blood_pool_hu", blood)]
        var reasons: [String] = []
        if !blood.isNaN && blood > cfg.maxBloodHU {
            reasons.append("\(aortaHU.isNaN ? "heart" : "descending aorta") median \(flagNumber(blood)) HU > \(flagNumber(cfg.maxBloodHU))")
        }
        return .make(.contrastEnhanced, m, reasons: reasons)
    }
}
