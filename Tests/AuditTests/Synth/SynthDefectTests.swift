import Foundation
import Model
import XCTest
@testable import Audit

/// Acquisition defects (`synth --defects`): who gets them, that they leave every other draw
/// alone, and that each one, written to DICOM and read back through DCMTK and preprocessing,
/// fires its flag and no other defect's.
final class SynthDefectTests: XCTestCase {
    func testDefectPlanCountsAreExactDisjointAndLeaveThePlanAlone() throws {
        var o = SynthOptions(patients: 40, seed: 5)
        o.artifactRate = 0.3
        let plain = try SyntheticCohort.plan(o)
        o.defects = try AcquisitionDefect.parseRates("metal=0.1,contrast=0.1,truncated=0.1,gap=0.05")
        let planned = try SyntheticCohort.plan(o)
        let counts = Dictionary(grouping: planned.compactMap(\.defect), by: { $0 }).mapValues(\.count)
        XCTAssertEqual(counts, [.metal: 4, .contrast: 4, .truncated: 4, .gap: 2])
        XCTAssertEqual(planned.filter { $0.defect == nil }.count, 26)
        XCTAssertTrue(plain.allSatisfy { $0.defect == nil })
        for (a, b) in zip(plain, planned) {
            XCTAssertEqual(a.id, b.id)
            XCTAssertEqual(a.diagnosis, b.diagnosis)
            XCTAssertEqual(a.severity, b.severity)
            XCTAssertEqual(a.motion?.amplitude, b.motion?.amplitude)
        }
        for bad in ["metal=0.6,gap=0.6", "rust=0.1", "metal=x", "metal=-0.1"] {
            XCTAssertThrowsError(try AcquisitionDefect.parseRates(bad), bad)
        }
    }

    func testDefectsFireTheirFlagsThroughDICOM() throws {
        let dir = try SynthTestSupport.temporaryDirectory("defects")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var o = SynthTestSupport.options(patients: 6, seed: 13, profile: SynthTestSupport.quickProfile(matrix: 128))
        o.defects = Dictionary(uniqueKeysWithValues: AcquisitionDefect.allCases.map { ($0, 1.0 / 6) })
        o.truthMasks = true
        let records = try SyntheticCohort.write(o, to: dir)
        XCTAssertEqual(Set(records.compactMap(\.plan.defect)), Set(AcquisitionDefect.allCases))
        let manifest = try CohortManifest(contentsOf: dir + "/manifest.csv")
        let config = FlagConfig()
        let watched: [AcquisitionDefect: FlagKind] = [.metal: .metal, .contrast: .contrastEnhanced,
                                                      .truncated: .truncatedCoverage, .gap: .badGeometry, .smallFOV: .cropFailure]
        for (entry, record) in zip(manifest.entries, records) {
            XCTAssertEqual(entry.metadata["defect"], record.plan.defect?.name ?? "none")
            let series = try XCTUnwrap(try SeriesDiscovery.scan(entry.paths).series.first)
            XCTAssertTrue(series.isUsable, "\(series.problems)")
            XCTAssertEqual(series.slices.count, record.slices.count)
            XCTAssertEqual(series.problems.contains { $0.kind == .gaps }, record.plan.defect == .gap, "\(series.problems)")

            // The same patient without the defect: every slice the defect did not touch is
            // unchanged, pixel for pixel.
            var clean = record.plan
            clean.defect = nil
            let without = try SyntheticCohort.render(clean, options: o).volume
            let c = try flagCase(series)
            var unchanged = 0
            for s in c.slices {
                guard let k = (0..<without.slices).first(where: { abs(without.z($0) - s.position) < 1e-3 }) else {
                    return XCTFail("\(entry.patientID): slice at z \(s.position) is not in the defect-free render")
                }
                let want = without.slice(k)
                // Stored values round and saturate at scanner-a's 12-bit range.
                if zip(s.hu, want).allSatisfy({ Double($0) == min(max((Double($1) + 1024).rounded(), 0), 4095) - 1024 }) { unchanged += 1 }
            }
            switch record.plan.defect {
            case .metal?, .contrast?, .smallFOV?:
                XCTAssertLessThan(unchanged, c.slices.count, "\(entry.patientID): the defect changed nothing")
            default:
                XCTAssertEqual(unchanged, c.slices.count, "\(entry.patientID): \(record.defectDetail)")
            }

            let anatomy = FlagEngine.analyse(c, config: config)
            let fired: [FlagKind: Bool] = [
                .metal: MetalDetector.evaluate(c, config: config.metal).finding != nil,
                .contrastEnhanced: ContrastDetector.evaluate(c, anatomy: anatomy, config: config.contrast, fieldOfView: config.fieldOfView).finding != nil,
                .truncatedCoverage: CoverageDetector.evaluate(c, anatomy: anatomy, config: config.coverage, fieldOfView: config.fieldOfView).finding != nil,
                .badGeometry: GeometryDetector.evaluate(c, config: config.geometry).finding != nil,
                .cropFailure: CropFailureDetector.evaluate(c, anatomy: anatomy, lesionLevel: 0.5, config: config.cropFailure).finding != nil,
            ]
            for (defect, flag) in watched {
                XCTAssertEqual(fired[flag], record.plan.defect == defect,
                               "\(entry.patientID) (\(record.plan.defect?.name ?? "none"): \(record.defectDetail)): \(flag.rawValue)")
            }
            // No defect here is an HU problem or another body part: a field of view inside the body
            // must not read lung as outside air, nor its lost lungs as a missing chest.
            let hu = HUCalibrationDetector.evaluate(c, anatomy: anatomy, config: config.calibration, fieldOfView: config.fieldOfView)
            XCTAssertNil(hu.finding, "\(entry.patientID) (\(record.plan.defect?.name ?? "none")): \(hu.measurements)")
            let part = BodyPartDetector.evaluate(c, anatomy: anatomy, config: config.bodyPart, fieldOfView: config.fieldOfView)
            XCTAssertNil(part.finding, "\(entry.patientID) (\(record.plan.defect?.name ?? "none")): \(part.measurements) "
                         + "\(anatomy.map { $0.map { String(format: "%.2f", $0.anteriorAirShare) } ?? "-" })")
            if record.plan.defect == .smallFOV {
                let crop = try XCTUnwrap(CropFailureDetector.evaluate(c, anatomy: anatomy, lesionLevel: 0.5, config: config.cropFailure,
                                                                      fieldOfView: config.fieldOfView).finding)
                XCTAssertEqual(crop.level, "failed")
                XCTAssertTrue(crop.reasons.first?.hasPrefix("field of view inside the body") ?? false, "\(crop.reasons)")
                // Without the field-of-view analysis (no pixels), the lung share does read as a missing chest.
                XCTAssertNotNil(BodyPartDetector.evaluate(c, config: config.bodyPart).finding)
            }
        }
    }

    /// The detectors' view of a series read back from DICOM, with a healthy call on every slice.
    func flagCase(_ series: DicomSeries) throws -> FlagCase {
        let g = try XCTUnwrap(series.geometry)
        let pre = try SlicePreprocessor(settings: PreprocessSettings(), rows: g.rows, columns: g.columns)
        var slices: [FlagSlice] = []
        for (i, s) in series.slices.enumerated() {
            let hu = try DicomFile(path: s.path).hu()
            let st = hu.withUnsafeBufferPointer { pre.lungStatistics($0) }
            slices.append(FlagSlice(index: i, position: try XCTUnwrap(s.position), hu: hu, cropBox: st.cropBox, cropFailed: st.cropFailed,
                                    lungArea: st.lungArea, lowColumnArea: st.leftHalfArea, highColumnArea: st.rightHalfArea,
                                    q: [0.9, 0.05, 0.03, 0.02], predicted: 0, lesionMap: [Float](repeating: 0.1, count: 4)))
        }
        let m = series.metadata
        return FlagCase(patientID: m.patientID ?? "?", label: .healthy, modality: m.modality, bodyPartExamined: m.bodyPartExamined,
                        rows: g.rows, columns: g.columns, pixelSpacing: m.pixelSpacing ?? [1, 1], orientation: g.orientation,
                        sliceSpacing: g.medianSpacing ?? 10, problems: series.problems, mapSize: 2, slices: slices,
                        probabilities: [0.9, 0.05, 0.03, 0.02], predicted: 0, nonParametric: [0.9, 0.05, 0.03, 0.02],
                        nonParametricPredicted: 0, preprocess: PreprocessSettings())
    }
}
