import Foundation

/// Everything that decides a synthetic cohort. Two runs with equal options write identical
/// files.
public struct SynthOptions: Sendable {
    public var patients: Int
    public var seed: UInt64
    public var profile: ScannerProfile = .scannerA
    /// Class shares in the model's order (healthy, covid19, h1n1, cap); normalised.
    public var mix: [Double] = [0.4, 0.2, 0.2, 0.2]
    /// Share of each class's patients with a pulsatile cardiac-motion artifact.
    public var artifactRate: Double = 0
    /// Peak heart-border displacement range for artifacts (mm).
    public var artifactAmplitude: ClosedRange<Double> = 3...9
    /// Patient ids are the prefix and a 4-digit number.
    public var idPrefix = "P"
    /// Worker threads (patients are generated in parallel).
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Also write per-voxel truth labels (`truth/<id>.safetensors`).
    public var truthMasks = false
    /// Share of the patients with each acquisition defect (one defect per patient at most).
    public var defects: [AcquisitionDefect: Double] = [:]

    public init(patients: Int, seed: UInt64) {
        self.patients = patients
        self.seed = seed
    }

    /// Parses `healthy=0.4,covid19=0.2,h1n1=0.2,cap=0.2` (any subset, any order; missing
    /// classes get 0; shares are normalised).
    public static func parseMix(_ text: String) throws -> [Double] {
        var mix = [Double](repeating: 0, count: 4)
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let d = Diagnosis(name: kv[0]) else {
                throw SynthError.invalidOption(name: "--mix", value: text, reason: "expected class=share pairs with classes healthy, covid19, h1n1, cap")
            }
            guard let v = Double(kv[1]), v >= 0, v.isFinite else {
                throw SynthError.invalidOption(name: "--mix", value: text, reason: "share of \(kv[0]) must be a non-negative number")
            }
            mix[d.rawValue] = v
        }
        let total = mix.reduce(0, +)
        guard total > 0 else { throw SynthError.invalidOption(name: "--mix", value: text, reason: "all shares are 0") }
        return mix.map { $0 / total }
    }

    public func validate() throws {
        guard patients >= 1 && patients <= 9999 else {
            throw SynthError.invalidOption(name: "--patients", value: String(patients), reason: "must be 1...9999")
        }
        guard artifactRate >= 0 && artifactRate <= 1 else {
            throw SynthError.invalidOption(name: "--artifact-rate", value: String(artifactRate), reason: "must be within 0...1")
        }
        guard mix.count == 4, mix.allSatisfy({ $0 >= 0 }), mix.reduce(0, +) > 0 else {
            throw SynthError.invalidOption(name: "--mix", value: "\(mix)", reason: "need four non-negative shares")
        }
        guard defects.values.allSatisfy({ $0 >= 0 && $0 <= 1 }), defects.values.reduce(0, +) <= 1 + 1e-9 else {
            throw SynthError.invalidOption(name: "--defects", value: "\(defects)", reason: "shares within 0...1 adding up to at most 1")
        }
        guard !idPrefix.isEmpty, idPrefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw SynthError.invalidOption(name: "--id-prefix", value: idPrefix, reason: "letters, digits, - and _ only")
        }
    }

    /// A key for UIDs: every option that changes the files.
    var uidKey: UInt64 {
        let p = profile
        var text = "\(patients)|\(seed)|\(p.name)|\(mix)|\(artifactRate)|\(artifactAmplitude)|\(idPrefix)"
        // Only cohorts with defects get a new key (the UIDs of all others are unchanged).
        if !defects.isEmpty { text += "|" + AcquisitionDefect.allCases.map { "\($0.name)=\(defects[$0] ?? 0)" }.joined(separator: ",") }
        return SyntheticUID.key(text)
    }
}
