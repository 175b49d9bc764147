import Foundation

/// HU miscalibration: outside air not in -1010..-970 HU; fat median not in -130..-80 HU;
/// padding values (-1024 HU or below) inside the body.
///
/// Air: pixels outside the body whose 5x5 neighbourhood is all outside air and above the
/// -1024 floor (padding and clamped values are not air readings). Fat: body pixels outside the
/// lungs whose 5x5 neighbourhood is all in the fat range. Every second slice. Air is not read
/// on a series whose field of view lies inside the body on any slice (`FlagConfig.FieldOfView`):
/// there "outside air" is partly lung.
///
/// Measurements: `air_median_hu`, `fat_median_hu`, `padding_share_in_body`.
public enum HUCalibrationDetector {
    public static func evaluate(_ c: FlagCase, anatomy: [SliceAnatomy?], config cfg: FlagConfig.Calibration,
                                fieldOfView: FlagConfig.FieldOfView = .init()) -> FlagEvaluation {
        var air: [Float] = [], fat: [Float] = []
        var padding = 0, body = 0
        let rows = c.rows, cols = c.columns
        let h0 = min(2, max(0, cfg.paddingBlockPixels / 2))
        let airOK = fieldOfView.slicesInsideBody(c, anatomy: anatomy).isEmpty
        for s in c.slices where s.index % 2 == 0 {
            guard s.index < anatomy.count, let a = anatomy[s.index], s.hu.count == rows * cols else { continue }
            let hu = s.hu
            for r in 2..<max(2, rows - 2) { for col in 2..<max(2, cols - 2) {
                let i = r * cols + col
                if a.outside[i] {
                    guard airOK, hu[i] > -1023.5, (r + col) % 3 == 0 else { continue }
                    var ok = true
                    for dr in -2...2 where ok { for dc in -2...2 where !a.outside[i + dr * cols + dc] { ok = false; break } }
                    if ok { air.append(hu[i]) }
                    continue
                }
                guard a.lung[i] == 0, a.envelope[i] == 0 else { continue }
                body += 1
                if hu[i] <= -1023.5 {
                    // Padding fills regions; air clipped at the floor (noise in the trachea, a metal
                    // streak) leaves single pixels.
                    var block = true
                    for dr in -h0...h0 where block { for dc in -h0...h0 where hu[i + dr * cols + dc] > -1023.5 { block = false; break } }
                    if block { padding += 1 }
                }
                let h = Double(hu[i])
                guard h >= cfg.fatRangeMinHU, h <= cfg.fatRangeMaxHU else { continue }
                var ok = true
                for dr in -2...2 where ok { for dc in -2...2 {
                    let v = Double(hu[i + dr * cols + dc])
                    if v < cfg.fatRangeMinHU || v > cfg.fatRangeMaxHU { ok = false; break }
                } }
                if ok { fat.append(hu[i]) }
            } }
        }
        func median(_ v: [Float]) -> Double {
            guard !v.isEmpty else { return .nan }
            return Double(v.sorted()[v.count / 2])
        }
        let airMedian = median(air), fatMedian = median(fat)
        let paddingShare = body > 0 ? Double(padding) / Double(body) : 0
        let m = [FlagMeasurement("air_median_hu", airMedian), FlagMeasurement("fat_median_hu", fatMedian),
                 FlagMeasurement("padding_share_in_body", paddingShare)]
        var reasons: [String] = []
        if !airMedian.isNaN && (airMedian < cfg.airMinHU || airMedian > cfg.airMaxHU) {
            reasons.append("outside air median \(flagNumber(airMedian)) HU not in \(flagNumber(cfg.airMinHU))..\(flagNumber(cfg.airMaxHU))")
        }
        if !fatMedian.isNaN && (fatMedian < cfg.fatMinHU || fatMedian > cfg.fatMaxHU) {
            reasons.append("fat median \(flagNumber(fatMedian)) HU not in \(flagNumber(cfg.fatMinHU))..\(flagNumber(cfg.fatMaxHU))")
        }
        if paddingShare > cfg.maxPaddingShareInBody {
            reasons.append("padding values on \(String(format: "%.2f%%", 100 * paddingShare)) of body pixels")
        }
        return .make(.huMiscalibration, m, reasons: reasons)
    }
}
