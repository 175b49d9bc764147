import Foundation

/// Crop failure (failure-modes.md table): slices marked `crop_failed` between the first and
/// last slice with lung (a scan's end slices beyond the lungs have nothing to crop); lung volume outside
/// 2.5-9 L; left/right lung ratio outside 0.6-1.6 (the two lungs, sided by the DICOM orientation); more
/// than 20% of the lesion-map activation outside the lung (not judged when the map's cells are
/// coarser than `coarseMapCellMM`).
///
/// Slices whose field of view lies inside the body (`FlagConfig.FieldOfView`: under half the
/// image's anterior border row is outside air) are counted (`fov_inside_body_slices`) and named as the cause.
///
/// Levels: `failed` when preprocessing itself failed to crop lung slices, or the field of view
/// lies inside the body (direct evidence);
/// `suspected` when only the indirect criteria hold (lung volume, side ratio, activation), which
/// small lungs and lobar consolidation (excluded by the -320 HU lung threshold) also meet.
///
/// Measurements: `failed_slices`, `fov_inside_body_slices`, `lung_litres`, `left_right_ratio`,
/// `activation_outside_lung`, `map_cell_mm`.
public enum CropFailureDetector {
    public static func evaluate(_ c: FlagCase, anatomy: [SliceAnatomy?], lesionLevel: Double,
                                config cfg: FlagConfig.CropFailure, fieldOfView: FlagConfig.FieldOfView = .init()) -> FlagEvaluation {
        let withLung = c.slices.filter { $0.lungArea > 0 }.map(\.index)
        let failed: [Int]
        if let lo = withLung.first, let hi = withLung.last {
            failed = c.slices.filter { $0.cropFailed && $0.index >= lo && $0.index <= hi }.map(\.index)
        } else {
            failed = c.slices.map(\.index)
        }
        let voxelML = c.pixelMM2 * c.sliceSpacing / 1000
        let litres = Double(c.slices.map(\.lungArea).reduce(0, +)) * voxelML / 1000
        // Sides: the two lungs as found in the re-read pixels (SliceAnatomy, sided by the DICOM
        // orientation); without pixels, the stored image halves (wrong when the patient lies off-centre).
        var left = 0.0, right = 0.0
        if anatomy.contains(where: { $0 != nil }) {
            for case let a? in anatomy { for v in a.lung where v != 0 { if v == SliceAnatomy.leftLung { left += 1 } else { right += 1 } } }
        } else {
            let low = Double(c.slices.map(\.lowColumnArea).reduce(0, +)), high = Double(c.slices.map(\.highColumnArea).reduce(0, +))
            (left, right) = c.patientLeftIsHighColumn ? (high, low) : (low, high)
        }
        let ratio = right > 0 ? left / right : .infinity
        // Activation outside the lung on the slices the model called abnormal.
        var outside = 0.0, total = 0.0
        var cellSizes: [Double] = []
        for s in c.slices where s.predicted != 0 {
            guard s.index < anatomy.count, let a = anatomy[s.index] else { continue }
            cellSizes.append(max(Double(s.cropBox.height) * c.rowMM, Double(s.cropBox.width) * c.colMM) / Double(c.mapSize))
            let lo = s.lesionMap.min() ?? 0, hi = s.lesionMap.max() ?? 0
            guard hi > lo else { continue }
            let cut = lo + Float(lesionLevel) * (hi - lo)
            let p = LesionMapProjection.project(s.lesionMap, size: c.mapSize, box: s.cropBox, rows: c.rows, cols: c.columns)
            for i in 0..<p.count where p[i] >= cut && (s.cropBox.contains(i, cols: c.columns)) {
                let w = Double(p[i] - lo)
                total += w
                if a.lung[i] == 0 && a.envelope[i] == 0 { outside += w }
            }
        }
        let outsideShare = total > 0 ? outside / total : 0
        cellSizes.sort()
        let cell = cellSizes.isEmpty ? Double.nan : cellSizes[cellSizes.count / 2]
        let coarse = !cell.isNaN && cell > cfg.coarseMapCellMM
        let inside = fieldOfView.slicesInsideBody(c, anatomy: anatomy)
        let m = [FlagMeasurement("failed_slices", Double(failed.count)), FlagMeasurement("fov_inside_body_slices", Double(inside.count)),
                 FlagMeasurement("lung_litres", litres),
                 FlagMeasurement("left_right_ratio", ratio), FlagMeasurement("activation_outside_lung", outsideShare),
                 FlagMeasurement("map_cell_mm", cell)]
        var reasons: [String] = []
        if !inside.isEmpty {
            reasons.append("field of view inside the body on \(inside.count) slice(s) (under \(flagNumber(fieldOfView.minAnteriorAirShare)) of the image's front edge is outside air): lungs at the image's sides are removed as outside air")
        }
        if failed.count > cfg.maxFailedSlices { reasons.append("\(failed.count) slices with crop_failed") }
        if litres < cfg.minLungLitres || litres > cfg.maxLungLitres {
            reasons.append("lung volume \(flagNumber(litres)) L outside \(flagNumber(cfg.minLungLitres))-\(flagNumber(cfg.maxLungLitres)) L")
        }
        if ratio < cfg.minLeftRightRatio || ratio > cfg.maxLeftRightRatio {
            reasons.append("left/right lung ratio \(flagNumber(ratio)) outside \(flagNumber(cfg.minLeftRightRatio))-\(flagNumber(cfg.maxLeftRightRatio))")
        }
        if !coarse && outsideShare > cfg.maxActivationOutsideLung {
            reasons.append("\(flagNumber(outsideShare)) of lesion-map activation outside the lung (> \(flagNumber(cfg.maxActivationOutsideLung)))")
        }
        let direct = failed.count > cfg.maxFailedSlices || !inside.isEmpty
        return .make(.cropFailure, m, reasons: reasons, level: direct ? "failed" : "suspected", slices: failed.isEmpty ? inside : failed)
    }
}

extension CropBox {
    /// Whether flat pixel index `i` of an image `cols` wide lies in the box.
    func contains(_ i: Int, cols: Int) -> Bool {
        let r = i / cols, c = i % cols
        return r >= row0 && r <= row1 && c >= col0 && c <= col1
    }
}
