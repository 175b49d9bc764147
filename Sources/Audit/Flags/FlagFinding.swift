import Foundation

/// The failure modes the audit flags (docs/flags.md; ../shared/spec/failure-modes.md).
public enum FlagKind: String, Sendable, Codable, CaseIterable {
    case pulsatileArtifact = "pulsatile_artifact"
    case cropFailure = "crop_failure"
    case truncatedCoverage = "truncated_coverage"
    case wrongBodyPart = "wrong_body_part"
    case badGeometry = "bad_geometry"
    case huMiscalibration = "hu_miscalibration"
    case contrastEnhanced = "contrast_enhanced"
    case heavyNoise = "heavy_noise"
    case metal = "metal"
    case lowConfidence = "low_confidence"
    case versionFlip = "version_flip"
}

/// One number a detector measured, with its name as docs/flags.md spells it.
public struct FlagMeasurement: Sendable, Codable, Equatable {
    public var name: String
    public var value: Double

    public init(_ name: String, _ value: Double) {
        self.name = name
        self.value = value
    }
}

/// A flag that fired on one patient: its level, the reasons (each a measurement against its
/// threshold), every measurement of the detector, and the slices it concerns (0-based, in
/// the run's slice order).
public struct FlagFinding: Sendable, Codable, Equatable {
    public var flag: FlagKind
    /// `flag` for most detectors; `suspected` or `probable` for the pulsatile artifact.
    public var level: String
    public var reasons: [String]
    public var measurements: [FlagMeasurement]
    public var slices: [Int]

    public init(flag: FlagKind, level: String = "flag", reasons: [String], measurements: [FlagMeasurement], slices: [Int] = []) {
        self.flag = flag
        self.level = level
        self.reasons = reasons
        self.measurements = measurements
        self.slices = slices
    }

    public func value(_ name: String) -> Double? { measurements.first { $0.name == name }?.value }

    /// One line: `pulsatile_artifact (probable): f_band 0.71 >= 0.60; ... [slices 31-38]`.
    public var summary: String {
        let head = level == "flag" ? flag.rawValue : "\(flag.rawValue) (\(level))"
        let s = slices.isEmpty ? "" : " [slices \(Self.ranges(slices))]"
        return "\(head): \(reasons.joined(separator: "; "))\(s)"
    }

    /// `[3, 4, 5, 9]` as `4-6, 10` (1-based, as a reader counts slices).
    public static func ranges(_ indices: [Int]) -> String {
        let s = Array(Set(indices)).sorted()
        var parts: [String] = []
        var i = 0
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i] + 1)" : "\(s[i] + 1)-\(s[j] + 1)")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }
}

/// What one detector found on one patient: its measurements (always) and the finding when
/// the rule fires.
public struct FlagEvaluation: Sendable, Equatable {
    public var flag: FlagKind
    public var measurements: [FlagMeasurement]
    public var finding: FlagFinding?

    public init(flag: FlagKind, measurements: [FlagMeasurement], finding: FlagFinding? = nil) {
        self.flag = flag
        self.measurements = measurements
        self.finding = finding
    }

    /// Fires with `reasons` when any is given, else stays quiet.
    static func make(_ flag: FlagKind, _ measurements: [FlagMeasurement], reasons: [String], level: String = "flag",
                     slices: [Int] = []) -> FlagEvaluation {
        FlagEvaluation(flag: flag, measurements: measurements,
                       finding: reasons.isEmpty ? nil : FlagFinding(flag: flag, level: level, reasons: reasons,
                                                                     measurements: measurements, slices: slices))
    }
}

/// Formats a number for a reason text: 2 decimals below 10, else 1 (or none above 1000).
func flagNumber(_ x: Double) -> String {
    if x.isNaN { return "n/a" }
    let a = abs(x)
    return String(format: a >= 1000 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", x)
}
