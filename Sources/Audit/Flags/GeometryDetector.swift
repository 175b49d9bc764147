import Foundation

/// Bad geometry: missing slices (gaps over 1.5x the median spacing), duplicate positions,
/// non-axial orientation, mixed sizes; from the slice positions and the series' validation
/// problems (docs/ingestion.md).
///
/// Measurements: `max_gap_ratio`, `gaps`, `problems`.
public enum GeometryDetector {
    public static func evaluate(_ c: FlagCase, config cfg: FlagConfig.Geometry) -> FlagEvaluation {
        let positions = c.slices.map(\.position)
        let steps = zip(positions, positions.dropFirst()).map { abs($1 - $0) }
        let median = steps.isEmpty ? 0 : steps.sorted()[steps.count / 2]
        var gapSlices: [Int] = []
        var maxRatio = 0.0
        for (k, s) in steps.enumerated() where median > 0 {
            maxRatio = max(maxRatio, s / median)
            if s > cfg.maxGapRatio * median { gapSlices.append(k); gapSlices.append(k + 1) }
        }
        let kinds = Set(cfg.problemKinds)
        let problems = c.problems.filter { kinds.contains($0.kind.rawValue) }
        let m = [FlagMeasurement("max_gap_ratio", maxRatio), FlagMeasurement("gaps", Double(gapSlices.count / 2)),
                 FlagMeasurement("problems", Double(problems.count))]
        var reasons: [String] = []
        if !gapSlices.isEmpty {
            reasons.append("\(gapSlices.count / 2) gaps over \(flagNumber(cfg.maxGapRatio))x the median spacing (largest \(flagNumber(maxRatio))x)")
        }
        for p in problems where p.kind != .gaps || gapSlices.isEmpty { reasons.append("\(p.kind.rawValue): \(p.message)") }
        return .make(.badGeometry, m, reasons: reasons, slices: gapSlices)
    }
}
