import Foundation
import Model
import XCTest
@testable import Audit

/// A generated cohort read back through the ingestion code: manifest, discovery, tags,
/// geometry, UIDs and pixels.
final class SynthDicomTests: XCTestCase {
    func testCohortReadsBackThroughIngestion() throws {
        let dir = try SynthTestSupport.temporaryDirectory("dicom")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = SynthTestSupport.options(patients: 2, seed: 21, profile: SynthTestSupport.quickProfile(.scannerB, matrix: 128))
        o.mix = try SynthOptions.parseMix("healthy=1,covid19=1")
        o.truthMasks = true
        let records = try SyntheticCohort.write(o, to: dir)
        XCTAssertEqual(records.count, 2)

        let manifest = try CohortManifest(contentsOf: dir + "/manifest.csv")
        XCTAssertEqual(manifest.entries.map(\.patientID), ["P0001", "P0002"])
        XCTAssertEqual(Set(manifest.entries.compactMap(\.labelName)), ["healthy", "covid19"])
        for column in ["profile", "artifact", "artifact_strength", "lesion_volume_ml", "lesion_slices", "severity"] {
            XCTAssertTrue(manifest.metadataColumns.contains(column), column)
        }
        let p = o.profile
        for (entry, record) in zip(manifest.entries, records) {
            XCTAssertEqual(entry.metadata["profile"], "scanner-b")
            XCTAssertEqual(entry.seriesUID, record.seriesUID)
            let found = try SeriesDiscovery.scan(entry.paths)
            XCTAssertEqual(found.series.count, 1)
            let s = try XCTUnwrap(found.series.first)
            XCTAssertTrue(s.isUsable, "\(s.problems)")
            XCTAssertEqual(s.seriesInstanceUID, record.seriesUID)
            XCTAssertEqual(s.slices.count, record.slices.count)
            let m = s.metadata
            XCTAssertEqual(m.patientID, entry.patientID)
            XCTAssertEqual(m.studyInstanceUID, record.studyUID)
            XCTAssertEqual(m.modality, "CT")
            XCTAssertEqual(m.manufacturer, p.manufacturer)
            XCTAssertEqual(m.manufacturerModelName, p.model)
            XCTAssertEqual(m.convolutionKernel, p.kernel)
            XCTAssertEqual(m.kvp, p.kvp)
            XCTAssertEqual(m.exposure, p.exposure)
            XCTAssertEqual(m.sliceThickness, p.sliceThickness)
            XCTAssertEqual(m.pixelSpacing, [p.pixelSpacing, p.pixelSpacing])
            let g = try XCTUnwrap(s.geometry)
            XCTAssertEqual(g.rows, 128)
            XCTAssertEqual(g.orientation, [1, 0, 0, 0, 1, 0])
            XCTAssertEqual(try XCTUnwrap(g.medianSpacing), p.sliceSpacing, accuracy: 1e-6)
            // Spec order (ascending z) against the truth table; instance 1 is the top slice.
            for (slice, truth) in zip(s.slices, record.slices) {
                XCTAssertEqual(try XCTUnwrap(slice.position), truth.z, accuracy: 1e-4)
                XCTAssertEqual(slice.instanceNumber, truth.instanceNumber)
                XCTAssertTrue(slice.path.hasSuffix(truth.file), slice.path)
            }
            // Pixels: stored HU rounds to the rendered HU; padding outside the circle.
            let rendered = try SyntheticCohort.render(record.plan, options: o).volume
            let k = s.slices.count / 2
            let hu = try DicomFile(path: s.slices[k].path).hu()
            let want = rendered.slice(k)
            var worst: Float = 0
            for i in 0..<hu.count {
                let x = rendered.x(i % 128), y = rendered.y(i / 128)
                if x * x + y * y > 190 * 190 { XCTAssertEqual(hu[i], -1024); continue }
                worst = max(worst, abs(hu[i] - min(max(want[i].rounded(), -1024), 3071)))
            }
            XCTAssertEqual(worst, 0)
            let labels = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: dir + "/truth/\(entry.patientID).safetensors"))
            XCTAssertEqual(labels.entries["labels"]?.shape, [record.slices.count, 128, 128])
        }
        let slicesCSV = try String(contentsOfFile: dir + "/slices.csv", encoding: .utf8)
        XCTAssertEqual(slicesCSV.split(separator: "\n").count, 1 + records.reduce(0) { $0 + $1.slices.count })
    }
}
