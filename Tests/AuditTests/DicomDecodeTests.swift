import Foundation
import XCTest
@testable import Audit

/// HU decoding through DCMTK against pydicom's reading of the same real files.
final class DicomDecodeTests: XCTestCase {
    func testHUMatchesPydicomOnEveryDecodableFixture() throws {
        let expected = try DicomFixtures.expected()
        var checked = 0
        for entry in try DicomFixtures.entries() where entry.status == "ok" {
            let file = try DicomFile(path: DicomFixtures.path(entry.file))
            let info = try file.pixelInfo()
            let shape = try XCTUnwrap(entry.shape)
            XCTAssertEqual([info.frames, info.rows, info.columns], shape, entry.id)
            let want = try DicomFixtures.values(expected, try XCTUnwrap(entry.tensor))
            let frameSize = info.rows * info.columns
            let tolerance = Float(entry.tolerance ?? 0)
            for frame in 0..<info.frames {
                let got = try file.hu(frame: frame)
                var worst: Float = 0
                for i in 0..<frameSize { worst = max(worst, abs(got[i] - want[frame * frameSize + i])) }
                XCTAssertLessThanOrEqual(worst, tolerance, "\(entry.id) frame \(frame): max |diff| \(worst)")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 18)
    }

    func testTransferSyntaxIsReported() throws {
        for entry in try DicomFixtures.entries() {
            guard let ts = entry.transfer_syntax, entry.status == "ok" || entry.status == "unsupported_syntax" else { continue }
            let file = try DicomFile(path: DicomFixtures.path(entry.file), headerOnly: true)
            XCTAssertEqual(file.transferSyntax.uid, ts, entry.id)
        }
    }

    func testHeaderValuesMatchPydicom() throws {
        let tags: [String: DicomTag] = [
            "SOPClassUID": .sopClassUID, "SOPInstanceUID": .sopInstanceUID, "Modality": .modality,
            "PatientID": .patientID, "StudyInstanceUID": .studyInstanceUID, "SeriesInstanceUID": .seriesInstanceUID,
            "ImageType": .imageType, "Manufacturer": .manufacturer, "ManufacturerModelName": .manufacturerModelName,
            "ConvolutionKernel": .convolutionKernel, "BodyPartExamined": .bodyPartExamined,
            "AcquisitionDate": .acquisitionDate, "SliceThickness": .sliceThickness, "PixelSpacing": .pixelSpacing,
            "KVP": .kvp, "Exposure": .exposure, "XRayTubeCurrent": .xRayTubeCurrent,
            "ImagePositionPatient": .imagePositionPatient, "ImageOrientationPatient": .imageOrientationPatient,
            "Rows": .rows, "Columns": .columns, "InstanceNumber": .instanceNumber,
            "RescaleSlope": .rescaleSlope, "RescaleIntercept": .rescaleIntercept,
        ]
        var compared = 0
        for entry in try DicomFixtures.entries() where entry.status == "ok" || entry.status == "unsupported_syntax" {
            for headerOnly in [true, false] {
                let file = try DicomFile(path: DicomFixtures.path(entry.file), headerOnly: headerOnly)
                for (keyword, value) in entry.header ?? [:] {
                    let tag = try XCTUnwrap(tags[keyword], keyword)
                    switch value {
                    case .string(let s):
                        XCTAssertEqual(file.string(tag), s, "\(entry.id) \(keyword)")
                    case .numbers(let v):
                        XCTAssertEqual(file.doubles(tag), v, "\(entry.id) \(keyword)")
                    }
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 100)
    }

    func testSiemensHeaderForTheAudit() throws {
        let file = try DicomFile(path: DicomFixtures.path("ct_siemens_jpeg_lossless.dcm"), headerOnly: true)
        XCTAssertEqual(file.string(.manufacturer), "SIEMENS")
        XCTAssertEqual(file.string(.convolutionKernel), "B30s")
        XCTAssertEqual(file.double(.kvp), 120)
        XCTAssertEqual(file.strings(.imageType), ["ORIGINAL", "PRIMARY", "AXIAL", "CT_SOM5 SPI"])
        XCTAssertNil(file.string(DicomTag(0x0009, 0x0010)))
        XCTAssertThrowsError(try file.hu()) { error in
            guard case IngestError.invalidArgument(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("header-only"), reason)
        }
    }

    func testJPEG2000IsAClearUnsupportedSyntaxError() throws {
        for entry in try DicomFixtures.entries() where entry.status == "unsupported_syntax" {
            let path = DicomFixtures.path(entry.file)
            let file = try DicomFile(path: path)
            XCTAssertFalse(try file.pixelInfo().decodable)
            XCTAssertThrowsError(try file.hu(), entry.id) { error in
                guard case IngestError.unsupportedTransferSyntax(let p, let syntax, let reason) = error else {
                    return XCTFail("\(entry.id): \(error)")
                }
                XCTAssertEqual(p, path)
                XCTAssertEqual(syntax, entry.transfer_syntax)
                XCTAssertTrue(reason.contains("JPEG 2000"), reason)
                XCTAssertTrue(reason.contains(syntax), reason)
            }
        }
    }

    func testMalformedFilesThrowInsteadOfCrashing() throws {
        for entry in try DicomFixtures.entries() where entry.status == "unreadable" || entry.status == "no_pixels" {
            XCTAssertThrowsError(try DicomFile(path: DicomFixtures.path(entry.file)).hu(), entry.id) { error in
                XCTAssertTrue(error is IngestError, "\(entry.id): \(error)")
                XCTAssertTrue("\(error)".contains(entry.file), "\(entry.id): \(error)")
            }
        }
        XCTAssertThrowsError(try DicomFile(path: "/nonexistent/x.dcm")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/x.dcm: cannot read"), "\(error)")
        }
    }

    func testStoredValuesApplyMaskingAndSignExtension() throws {
        // Written by pydicom with garbage in bits 12-15; stored values must come from bits 0-11.
        let file = try DicomFile(path: DicomFixtures.path("synthetic_s12_highbits_fractional.dcm"))
        let stored = try file.storedValues()
        XCTAssertEqual(stored.min(), -2048)
        XCTAssertEqual(stored.max(), 2047)
        XCTAssertEqual(try file.pixelInfo().paddingValue, -2000)
        let hu = try file.hu()
        XCTAssertEqual(Array(hu[0..<5]), [Float](repeating: -1024, count: 5))
    }
}
