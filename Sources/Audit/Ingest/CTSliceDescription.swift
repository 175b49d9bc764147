import Foundation

/// Everything needed to write one CT Image Storage file: identifiers, acquisition metadata,
/// geometry and the pixel encoding. Used by tests and the synthetic cohort generator.
public struct CTSliceDescription: Sendable {
    public static let ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"

    public var patientID = "SYNTH-0001"
    public var patientName = "Synthetic^Patient"
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    /// Generated when nil.
    public var sopInstanceUID: String?
    public var sopClassUID = CTSliceDescription.ctImageStorage
    public var modality = "CT"
    public var imageType = "ORIGINAL\\PRIMARY\\AXIAL"
    public var seriesNumber = 1
    public var instanceNumber = 1
    public var seriesDescription = "Synthetic chest"
    public var studyDate = "20200101"
    public var acquisitionDate = "20200101"
    public var manufacturer = "SYNTHETIC"
    public var manufacturerModelName = "MLung Phantom"
    public var convolutionKernel = "LUNG"
    public var bodyPartExamined = "CHEST"
    public var kvp: Double = 120
    public var exposure: Double? = 100
    public var xRayTubeCurrent: Double? = 200
    /// ImagePositionPatient (x, y, z) in mm.
    public var position: [Double] = [0, 0, 0]
    /// ImageOrientationPatient (row cosines then column cosines).
    public var orientation: [Double] = [1, 0, 0, 0, 1, 0]
    /// PixelSpacing (row spacing, column spacing) in mm.
    public var pixelSpacing: [Double] = [0.7, 0.7]
    public var sliceThickness: Double = 1.0
    /// Stored-value encoding: stored = round((hu - intercept) / slope).
    public var bitsStored = 16
    public var signed = true
    public var rescaleSlope: Double = 1
    public var rescaleIntercept: Double = 0
    /// Written as PixelPaddingValue when set.
    public var paddingValue: Int32?
    /// Any further attributes, set last (they may override the ones above).
    public var extra: [(DicomTag, String)] = []

    public init(studyInstanceUID: String, seriesInstanceUID: String) {
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
    }

    /// Stored values for `hu` under this encoding, clipped to the representable range.
    public func storedValues(hu: [Float]) -> [Int32] {
        let lo: Double = signed ? -Double(1 << (bitsStored - 1)) : 0
        let hi: Double = signed ? Double(1 << (bitsStored - 1)) - 1 : Double(1 << bitsStored) - 1
        return hu.map { h in
            let v = ((Double(h) - rescaleIntercept) / rescaleSlope).rounded()
            return Int32(Swift.min(Swift.max(v, lo), hi))
        }
    }

    private static func ds(_ v: Double) -> String {
        // DS allows 16 characters; %.10g keeps test geometry exact enough.
        String(format: "%.10g", v)
    }

    /// Writes the slice with HU values `hu` (row-major rows x columns).
    public func write(hu: [Float], rows: Int, columns: Int, to path: String,
                      syntax: DicomSyntax = .explicitLittle) throws {
        try write(stored: storedValues(hu: hu), rows: rows, columns: columns, to: path, syntax: syntax)
    }

    /// Writes the slice from stored values (use this to place padding values).
    public func write(stored: [Int32], rows: Int, columns: Int, to path: String,
                      syntax: DicomSyntax = .explicitLittle) throws {
        guard position.count == 3, orientation.count == 6, pixelSpacing.count == 2 else {
            throw IngestError.invalidArgument(reason: "geometry needs 3 position, 6 orientation and 2 spacing values")
        }
        let w = try DicomWriter()
        try w.set(.sopClassUID, sopClassUID)
        try w.set(.sopInstanceUID, sopInstanceUID ?? DicomFile.generateUID())
        try w.set(.studyInstanceUID, studyInstanceUID)
        try w.set(.seriesInstanceUID, seriesInstanceUID)
        try w.set(.patientID, patientID)
        try w.set(.patientName, patientName)
        try w.set(.modality, modality)
        try w.set(.imageType, imageType)
        try w.set(.seriesNumber, String(seriesNumber))
        try w.set(.instanceNumber, String(instanceNumber))
        try w.set(.seriesDescription, seriesDescription)
        try w.set(.studyDate, studyDate)
        try w.set(.acquisitionDate, acquisitionDate)
        try w.set(.manufacturer, manufacturer)
        try w.set(.manufacturerModelName, manufacturerModelName)
        try w.set(.convolutionKernel, convolutionKernel)
        try w.set(.bodyPartExamined, bodyPartExamined)
        try w.set(.kvp, Self.ds(kvp))
        if let exposure { try w.set(.exposure, String(Int(exposure.rounded()))) }
        if let xRayTubeCurrent { try w.set(.xRayTubeCurrent, String(Int(xRayTubeCurrent.rounded()))) }
        try w.set(.imagePositionPatient, position.map(Self.ds).joined(separator: "\\"))
        try w.set(.imageOrientationPatient, orientation.map(Self.ds).joined(separator: "\\"))
        try w.set(.pixelSpacing, pixelSpacing.map(Self.ds).joined(separator: "\\"))
        try w.set(.sliceThickness, Self.ds(sliceThickness))
        try w.set(.rescaleSlope, Self.ds(rescaleSlope))
        try w.set(.rescaleIntercept, Self.ds(rescaleIntercept))
        try w.set(.rescaleType, "HU")
        try w.set(.frameOfReferenceUID, seriesInstanceUID)
        try w.setPixels(rows: rows, columns: columns, bitsStored: bitsStored, signed: signed, stored: stored)
        if let paddingValue { try w.set(.pixelPaddingValue, String(paddingValue)) }
        for (tag, value) in extra { try w.set(tag, value) }
        try w.save(to: path, syntax: syntax)
    }
}
