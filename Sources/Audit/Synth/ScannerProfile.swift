import Foundation

/// A CT scanner and protocol: what the images look like (noise, reconstruction kernel, HU
/// calibration, slice thickness, field of view) and what the DICOM header says.
public struct ScannerProfile: Sendable, Equatable, Codable {
    public var name: String
    public var manufacturer: String
    public var model: String
    public var kernel: String
    public var kvp: Double
    /// Exposure (mAs) and tube current (mA).
    public var exposure: Double
    public var tubeCurrent: Double
    public var rotationTime: Double
    /// Reconstruction field of view (mm) on a `matrix` x `matrix` image.
    public var fieldOfView: Double
    public var matrix: Int
    /// Slice thickness and spacing (mm): `thicknessFactor` rendered slices of
    /// `renderSpacing` mm are averaged per output slice, `spacingFactor` apart.
    public var renderSpacing: Double
    public var thicknessFactor: Int
    public var spacingFactor: Int
    /// Reconstruction kernel as an in-plane blur then an unsharp mask:
    /// `b = G(blur) * f`, `out = b + sharpen * (b - G(sharpenRadius) * b)` (sigmas in mm).
    public var blur: Double
    public var sharpen: Double
    public var sharpenRadius: Double
    /// Image noise: standard deviation (HU) of the noise in water for a 330 mm wide patient;
    /// grows 2x per 80 mm more width. `noiseGrain` is the correlation sigma (mm) of the
    /// noise texture (smaller for sharper kernels).
    public var noise: Double
    public var noiseGrain: Double
    /// HU calibration: out = gain * hu + offset.
    public var huGain: Double
    public var huOffset: Double
    /// Stored pixel encoding.
    public var bitsStored: Int
    public var signed: Bool
    public var rescaleIntercept: Double
    /// Outside the reconstruction circle, when set, pixels are this stored value
    /// (PixelPaddingValue).
    public var paddingValue: Int32?
    public var syntax: DicomSyntax

    public var sliceThickness: Double { renderSpacing * Double(thicknessFactor) }
    public var sliceSpacing: Double { renderSpacing * Double(spacingFactor) }
    public var pixelSpacing: Double { fieldOfView / Double(matrix) }

    /// The reference scanner: 5 mm slices, lung kernel, moderate dose.
    public static let scannerA = ScannerProfile(
        name: "scanner-a", manufacturer: "MLUNG SYNTHETIC", model: "Reference CT 64", kernel: "LUNG",
        kvp: 120, exposure: 110, tubeCurrent: 250, rotationTime: 0.5, fieldOfView: 380, matrix: 256,
        renderSpacing: 2.5, thicknessFactor: 2, spacingFactor: 2,
        blur: 0.7, sharpen: 0.35, sharpenRadius: 1.6, noise: 14, noiseGrain: 0.75,
        huGain: 1, huOffset: 0, bitsStored: 12, signed: false, rescaleIntercept: -1024, paddingValue: nil,
        syntax: .explicitLittle)

    /// The new scanner: lower dose (about 2.2x the noise), a sharper kernel, +22 HU offset with
    /// 2% gain, 7.5 mm slices, signed pixels with padding outside the reconstruction circle.
    public static let scannerB = ScannerProfile(
        name: "scanner-b", manufacturer: "NOVA IMAGING", model: "Nova CT 128", kernel: "SHARP",
        kvp: 100, exposure: 45, tubeCurrent: 130, rotationTime: 0.35, fieldOfView: 380, matrix: 256,
        renderSpacing: 2.5, thicknessFactor: 3, spacingFactor: 3,
        blur: 0.45, sharpen: 0.9, sharpenRadius: 1.3, noise: 31, noiseGrain: 0.6,
        huGain: 1.02, huOffset: 22, bitsStored: 16, signed: true, rescaleIntercept: 0, paddingValue: -2000,
        syntax: .explicitLittle)

    /// A third protocol for robustness checks: low dose, soft kernel, 5 mm.
    public static let scannerC = ScannerProfile(
        name: "scanner-c", manufacturer: "MLUNG SYNTHETIC", model: "Reference CT 64", kernel: "STANDARD",
        kvp: 120, exposure: 30, tubeCurrent: 80, rotationTime: 0.5, fieldOfView: 380, matrix: 256,
        renderSpacing: 2.5, thicknessFactor: 2, spacingFactor: 2,
        blur: 1.2, sharpen: 0, sharpenRadius: 1.6, noise: 22, noiseGrain: 1.1,
        huGain: 0.985, huOffset: -12, bitsStored: 12, signed: false, rescaleIntercept: -1024, paddingValue: nil,
        syntax: .explicitLittle)

    public static let all = [scannerA, scannerB, scannerC]

    /// Scanner-a with one known shift each, for the drift quality study (docs/drift.md,
    /// tools/drift_quality_study.sh). Everything else, tags included, stays scanner-a's.
    /// - `scanner-a-noise2`: twice the noise (tags unchanged: only the images show it);
    /// - `scanner-a-sharp`: scanner-b's sharp kernel (blur, unsharp mask, finer noise grain)
    ///   and its `SHARP` kernel tag;
    /// - `scanner-a-hu25`: HU offset +25;
    /// - `scanner-a-thick`: 7.5 mm slices every 7.5 mm (the tags say so).
    public static let shiftProfiles: [ScannerProfile] = [
        scannerA.overriding(name: "scanner-a-noise2") { $0.noise = 2 * scannerA.noise },
        scannerA.overriding(name: "scanner-a-sharp") {
            $0.kernel = "SHARP"; $0.blur = 0.45; $0.sharpen = 0.9; $0.sharpenRadius = 1.3; $0.noiseGrain = 0.6
        },
        scannerA.overriding(name: "scanner-a-hu25") { $0.huOffset = 25 },
        scannerA.overriding(name: "scanner-a-thick") { $0.thicknessFactor = 3; $0.spacingFactor = 3 },
    ]

    /// Every named profile (`--profile`).
    public static var known: [ScannerProfile] { all + shiftProfiles }

    public static func named(_ name: String) throws -> ScannerProfile {
        guard let p = known.first(where: { $0.name == name.lowercased() }) else {
            throw SynthError.invalidOption(name: "--profile", value: name,
                                           reason: "unknown profile (known: \(known.map(\.name).joined(separator: ", ")))")
        }
        return p
    }

    func overriding(name: String, _ change: (inout ScannerProfile) -> Void) -> ScannerProfile {
        var p = self
        change(&p)
        p.name = name
        return p
    }

    /// Keys of `overriding(_:)` (`--profile-override`).
    public static let overrideKeys = ["noise", "noise_grain", "blur", "sharpen", "sharpen_radius", "hu_gain", "hu_offset",
                                      "thickness", "spacing", "kernel", "manufacturer", "model", "kvp", "exposure", "tube_current"]

    /// The profile with some settings changed, from `key=value,...` (keys in `overrideKeys`;
    /// `thickness` and `spacing` in mm, multiples of `renderSpacing`; `spacing` follows
    /// `thickness` unless given). The name becomes `<name>+<text>` (it enters the UIDs and the
    /// manifest), e.g. `scanner-a+noise=28+hu_offset=25`, so an override never reuses the plain
    /// profile's UIDs. The header tags change
    /// only where a tag key (`kernel`, `manufacturer`, `model`, `kvp`, `exposure`,
    /// `tube_current`, `thickness`, `spacing`) is given.
    public func overriding(_ text: String) throws -> ScannerProfile {
        var p = self
        func fail(_ reason: String) -> SynthError { .invalidOption(name: "--profile-override", value: text, reason: reason) }
        func steps(_ mm: Double, _ key: String) throws -> Int {
            let k = mm / renderSpacing
            guard mm > 0, abs(k - k.rounded()) < 1e-9, k.rounded() >= 1, k.rounded() <= 20 else {
                throw fail("\(key) must be a multiple of \(renderSpacing) mm between \(renderSpacing) and \(20 * renderSpacing)")
            }
            return Int(k.rounded())
        }
        var spacingGiven = false
        let pairs = text.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) } }
        guard !pairs.isEmpty else { throw fail("expected key=value pairs") }
        for kv in pairs {
            guard kv.count == 2, !kv[1].isEmpty else { throw fail("expected key=value pairs (keys: \(Self.overrideKeys.joined(separator: ", ")))") }
            let key = kv[0].lowercased(), value = kv[1]
            if ["kernel", "manufacturer", "model"].contains(key) {
                guard value.count <= 64, value.allSatisfy({ $0.isASCII && $0 != "\\" && !$0.isNewline }) else {
                    throw fail("\(key) must be printable ASCII without backslashes, at most 64 characters")
                }
                switch key {
                case "kernel": p.kernel = value
                case "manufacturer": p.manufacturer = value
                default: p.model = value
                }
                continue
            }
            guard let v = Double(value), v.isFinite else { throw fail("\(key) must be a number") }
            func nonNegative() throws { if v < 0 { throw fail("\(key) must not be negative") } }
            func positive() throws { if v <= 0 { throw fail("\(key) must be positive") } }
            switch key {
            case "noise": try nonNegative(); p.noise = v
            case "noise_grain": try nonNegative(); p.noiseGrain = v
            case "blur": try nonNegative(); p.blur = v
            case "sharpen": try nonNegative(); p.sharpen = v
            case "sharpen_radius": try positive(); p.sharpenRadius = v
            case "hu_gain": try positive(); p.huGain = v
            case "hu_offset":
                guard abs(v) <= 500 else { throw fail("hu_offset must be within -500...500") }
                p.huOffset = v
            case "thickness":
                p.thicknessFactor = try steps(v, key)
                if !spacingGiven { p.spacingFactor = p.thicknessFactor }
            case "spacing": p.spacingFactor = try steps(v, key); spacingGiven = true
            case "kvp": try positive(); p.kvp = v
            case "exposure": try positive(); p.exposure = v
            case "tube_current": try positive(); p.tubeCurrent = v
            default: throw fail("unknown key '\(kv[0])' (keys: \(Self.overrideKeys.joined(separator: ", ")))")
            }
        }
        p.name = name + pairs.map { "+" + $0[0].lowercased() + "=" + $0[1] }.joined()
        return p
    }
}
