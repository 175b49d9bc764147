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

    public static func named(_ name: String) throws -> ScannerProfile {
        guard let p = all.first(where: { $0.name == name.lowercased() }) else {
            throw SynthError.invalidOption(name: "--profile", value: name,
                                           reason: "unknown profile (known: \(all.map(\.name).joined(separator: ", ")))")
        }
        return p
    }
}
