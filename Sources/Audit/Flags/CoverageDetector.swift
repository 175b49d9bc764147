import Foundation

/// Truncated coverage: lung area on the first or last slice above 5% of the largest slice's
/// (the scan starts or stops inside the lungs). Not judged (NaN) on a series whose field of view
/// lies inside the body on any slice (`FlagConfig.FieldOfView`): its stored lung areas are what
/// the failed crop left, not the lungs (`crop_failure` says so).
///
/// Measurements: `first_slice_share`, `last_slice_share`.
public enum CoverageDetector {
    public static func evaluate(_ c: FlagCase, anatomy: [SliceAnatomy?] = [], config cfg: FlagConfig.Coverage,
                                fieldOfView: FlagConfig.FieldOfView = .init()) -> FlagEvaluation {
        if !fieldOfView.slicesInsideBody(c, anatomy: anatomy).isEmpty {
            return FlagEvaluation(flag: .truncatedCoverage,
                                  measurements: [FlagMeasurement("first_slice_share", .nan), FlagMeasurement("last_slice_share", .nan)])
        }
        let largest = Double(c.slices.map(\.lungArea).max() ?? 0)
        guard largest > 0, let first = c.slices.first, let last = c.slices.last else {
            return FlagEvaluation(flag: .truncatedCoverage, measurements: [])
        }
        let f = Double(first.lungArea) / largest, l = Double(last.lungArea) / largest
        let m = [FlagMeasurement("first_slice_share", f), FlagMeasurement("last_slice_share", l)]
        var reasons: [String] = [], slices: [Int] = []
        if f > cfg.maxEndSliceShare { reasons.append("first slice holds \(flagNumber(f)) of the largest lung area (> \(flagNumber(cfg.maxEndSliceShare)))"); slices.append(first.index) }
        if l > cfg.maxEndSliceShare { reasons.append("last slice holds \(flagNumber(l)) of the largest lung area (> \(flagNumber(cfg.maxEndSliceShare)))"); slices.append(last.index) }
        return .make(.truncatedCoverage, m, reasons: reasons, slices: slices)
    }
}
