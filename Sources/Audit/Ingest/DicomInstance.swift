import Foundation

/// The header of one DICOM file as discovery sees it: identifiers, acquisition metadata and
/// geometry. Read with `DicomFile(path:headerOnly: true)`.
public struct DicomInstance: Sendable, Codable, Equatable {
    public var path: String
    public var sopClassUID: String?
    public var sopInstanceUID: String?
    public var modality: String?
    public var imageType: [String]
    public var patientID: String?
    public var patientName: String?
    public var studyInstanceUID: String?
    public var studyDate: String?
    public var studyDescription: String?
    public var seriesInstanceUID: String?
    public var seriesNumber: Int?
    public var seriesDescription: String?
    public var manufacturer: String?
    public var manufacturerModelName: String?
    public var convolutionKernel: String?
    public var sliceThickness: Double?
    /// PixelSpacing: row spacing, column spacing (mm).
    public var pixelSpacing: [Double]?
    public var kvp: Double?
    /// Exposure (mAs).
    public var exposure: Double?
    /// XRayTubeCurrent (mA).
    public var xRayTubeCurrent: Double?
    public var acquisitionDate: String?
    public var bodyPartExamined: String?
    public var imagePosition: [Double]?
    public var imageOrientation: [Double]?
    public var rows: Int?
    public var columns: Int?
    public var instanceNumber: Int?
    public var numberOfFrames: Int
    public var transferSyntaxUID: String
    public var transferSyntaxName: String
    /// DCMTK can decode this file's transfer syntax.
    public var decodable: Bool

    /// Reads the header fields from an opened file.
    public init(file: DicomFile) {
        path = file.path
        sopClassUID = file.nonEmptyString(.sopClassUID)
        sopInstanceUID = file.nonEmptyString(.sopInstanceUID)
        modality = file.nonEmptyString(.modality)
        imageType = file.strings(.imageType).map { $0.uppercased() }
        patientID = file.nonEmptyString(.patientID)
        patientName = file.nonEmptyString(.patientName)
        studyInstanceUID = file.nonEmptyString(.studyInstanceUID)
        studyDate = file.nonEmptyString(.studyDate)
        studyDescription = file.nonEmptyString(.studyDescription)
        seriesInstanceUID = file.nonEmptyString(.seriesInstanceUID)
        seriesNumber = file.int(.seriesNumber)
        seriesDescription = file.nonEmptyString(.seriesDescription)
        manufacturer = file.nonEmptyString(.manufacturer)
        manufacturerModelName = file.nonEmptyString(.manufacturerModelName)
        convolutionKernel = file.nonEmptyString(.convolutionKernel)
        sliceThickness = file.double(.sliceThickness)
        pixelSpacing = file.doubles(.pixelSpacing).flatMap { $0.count == 2 ? $0 : nil }
        kvp = file.double(.kvp)
        exposure = file.double(.exposure)
        xRayTubeCurrent = file.double(.xRayTubeCurrent)
        acquisitionDate = file.nonEmptyString(.acquisitionDate)
        bodyPartExamined = file.nonEmptyString(.bodyPartExamined)
        imagePosition = file.doubles(.imagePositionPatient).flatMap { $0.count == 3 ? $0 : nil }
        imageOrientation = file.doubles(.imageOrientationPatient).flatMap { $0.count == 6 ? $0 : nil }
        rows = file.int(.rows)
        columns = file.int(.columns)
        instanceNumber = file.int(.instanceNumber)
        numberOfFrames = max(file.int(.numberOfFrames) ?? 1, 1)
        let ts = file.transferSyntax
        transferSyntaxUID = ts.uid
        transferSyntaxName = ts.name
        decodable = (try? file.pixelInfo().decodable) ?? true
    }

    /// Opens `path` header-only and reads its instance header.
    public init(path: String) throws {
        self.init(file: try DicomFile(path: path, headerOnly: true))
    }
}
