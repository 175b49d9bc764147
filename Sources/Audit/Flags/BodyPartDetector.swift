import Foundation

/// Wrong body part / not a chest CT: Modality not CT, BodyPartExamined not chest-like, or
/// under 30% of slices containing lung. The share is not judged (NaN) on a series whose field of
/// view lies inside the body on any slice (`FlagConfig.FieldOfView`): the spec's mask loses lungs
/// that reach the image's sides (`crop_failure` says so).
///
/// Measurements: `lung_slice_share`, `modality_ok`, `body_part_ok` (1 yes, 0 no).
public enum BodyPartDetector {
    public static func evaluate(_ c: FlagCase, anatomy: [SliceAnatomy?] = [], config cfg: FlagConfig.BodyPart,
                                fieldOfView: FlagConfig.FieldOfView = .init()) -> FlagEvaluation {
        let minPixels = cfg.minLungAreaCM2 * 100 / c.pixelMM2
        let share = c.slices.isEmpty ? 0 : !fieldOfView.slicesInsideBody(c, anatomy: anatomy).isEmpty ? .nan
            : Double(c.slices.filter { Double($0.lungArea) >= minPixels }.count) / Double(c.slices.count)
        let modality = (c.modality ?? "").uppercased()
        let modalityOK = cfg.modalities.map { $0.uppercased() }.contains(modality)
        let part = (c.bodyPartExamined ?? "").uppercased().trimmingCharacters(in: .whitespaces)
        let partOK = part.isEmpty || cfg.chestBodyParts.contains { part.contains($0.uppercased()) }
        let m = [FlagMeasurement("lung_slice_share", share), FlagMeasurement("modality_ok", modalityOK ? 1 : 0),
                 FlagMeasurement("body_part_ok", partOK ? 1 : 0)]
        var reasons: [String] = []
        if !modalityOK { reasons.append("Modality '\(c.modality ?? "")' is not \(cfg.modalities.joined(separator: "/"))") }
        if !partOK { reasons.append("BodyPartExamined '\(c.bodyPartExamined ?? "")' is not chest-like") }
        if share < cfg.minLungSliceShare { reasons.append("only \(flagNumber(share)) of slices contain lung (< \(flagNumber(cfg.minLungSliceShare)))") }
        return .make(.wrongBodyPart, m, reasons: reasons)
    }
}
