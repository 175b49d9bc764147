import Foundation

/// Which series of a study (or of a patient's folder) is run when several qualify.
///
/// The rule, applied in this order (docs/ingestion.md):
/// 1. only usable series (no blocking problem: axial, consistent geometry, decodable, enough
///    slices) are candidates;
/// 2. a lung/sharp reconstruction kernel before an unknown one before a soft-tissue one;
/// 3. the thinnest SliceThickness (missing counts as thickest);
/// 4. the most slices;
/// 5. the fewest warnings;
/// 6. the lowest SeriesNumber, then the smallest SeriesInstanceUID (deterministic).
///
/// The user overrides it by naming a SeriesInstanceUID (manifest column `series_uid`, CLI
/// `--series-uid`).
public enum SeriesSelection {
    /// A reconstruction kernel's family, as far as its name tells.
    public enum KernelClass: Int, Sendable, Codable, Comparable {
        case lung = 0, unknown = 1, soft = 2
        public static func < (a: KernelClass, b: KernelClass) -> Bool { a.rawValue < b.rawValue }
    }

    /// Classifies a ConvolutionKernel value. Lung/sharp: names containing LUNG, SHARP, BONE,
    /// DETAIL, EDGE or HIGH; Siemens B/Br/Bl/Bv/Hr/I/Q kernels with strength >= 50 (B60f,
    /// Br64, I70f); Canon/Toshiba FC30 and above; Philips L, YA-YD, D, E.
    /// Soft: STANDARD, SOFT, SMOOTH, BODY, ABDOMEN, BRAIN, Siemens strength < 50 (B30f, Br40),
    /// Canon FC01-FC29, Philips A, B, C.
    public static func kernelClass(_ kernel: String?) -> KernelClass {
        guard let kernel, !kernel.isEmpty else { return .unknown }
        let k = kernel.uppercased()
        for word in ["LUNG", "SHARP", "BONE", "DETAIL", "EDGE", "HIGH"] where k.contains(word) { return .lung }
        for word in ["STANDARD", "STND", "SOFT", "SMOOTH", "BODY", "ABDOMEN", "BRAIN", "MEDIASTINUM"] where k.contains(word) { return .soft }
        // Vendor codes: first value only (some files hold "B70f\\...").
        let code = k.split(separator: "\\").first.map(String.init) ?? k
        let letters = code.prefix { $0.isLetter }
        let digits = code.dropFirst(letters.count).prefix { $0.isNumber }
        if let strength = Int(digits), !letters.isEmpty {
            switch letters {
            case "B", "BR", "BL", "BV", "BF", "HR", "I", "Q", "J":
                return strength >= 50 ? .lung : .soft
            case "FC":
                return strength >= 30 ? .lung : .soft
            default:
                break
            }
        }
        switch code {
        case "L", "YA", "YB", "YC", "YD", "D", "E": return .lung
        case "A", "B", "C": return .soft
        default: return .unknown
        }
    }

    /// The candidates in preference order (unusable series last, in the same order).
    public static func ranked(_ series: [DicomSeries]) -> [DicomSeries] {
        series.sorted { a, b in
            if a.isUsable != b.isUsable { return a.isUsable }
            let ka = kernelClass(a.metadata.convolutionKernel), kb = kernelClass(b.metadata.convolutionKernel)
            if ka != kb { return ka < kb }
            let ta = a.metadata.sliceThickness ?? .infinity, tb = b.metadata.sliceThickness ?? .infinity
            if abs(ta - tb) > 0.05 { return ta < tb }
            if a.slices.count != b.slices.count { return a.slices.count > b.slices.count }
            if a.problems.count != b.problems.count { return a.problems.count < b.problems.count }
            if a.metadata.seriesNumber != b.metadata.seriesNumber {
                return (a.metadata.seriesNumber ?? Int.max) < (b.metadata.seriesNumber ?? Int.max)
            }
            return a.seriesInstanceUID < b.seriesInstanceUID
        }
    }

    /// Chooses one series: the one named by `override` (which must exist and be usable), or
    /// the first by the rule. `context` names the folder or patient in errors.
    public static func choose(from series: [DicomSeries], override: String? = nil, context: String) throws -> DicomSeries {
        if let uid = override?.trimmingCharacters(in: .whitespaces), !uid.isEmpty {
            guard let s = series.first(where: { $0.seriesInstanceUID == uid }) else {
                let found = series.map(\.seriesInstanceUID).joined(separator: ", ")
                throw IngestError.series(path: context, reason: "SeriesInstanceUID \(uid) not found among the CT series (\(found.isEmpty ? "none" : found))")
            }
            guard s.isUsable else {
                throw IngestError.series(path: context, reason: "series \(uid) is not usable: \(s.blockingMessages.joined(separator: "; "))")
            }
            return s
        }
        guard let best = ranked(series).first, best.isUsable else {
            if series.isEmpty { throw IngestError.series(path: context, reason: "no CT image series found") }
            let why = series.map { "\($0.seriesInstanceUID): \($0.blockingMessages.joined(separator: "; "))" }
            throw IngestError.series(path: context, reason: "no usable CT series: \(why.joined(separator: " | "))")
        }
        return best
    }

    /// For each study, the series the rule picks (nil for a study with no usable series),
    /// keyed by StudyInstanceUID ("" when missing).
    public static func chosenPerStudy(_ series: [DicomSeries]) -> [String: String] {
        var out: [String: String] = [:]
        for (study, group) in Dictionary(grouping: series, by: { $0.metadata.studyInstanceUID ?? "" }) {
            if let best = ranked(group).first, best.isUsable { out[study] = best.seriesInstanceUID }
        }
        return out
    }
}
