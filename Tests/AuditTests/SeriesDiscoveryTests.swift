import Foundation
import XCTest
@testable import Audit

/// Series written with DCMTK through `DicomWriter`, then discovered, ordered, validated,
/// selected and read back.
final class SeriesDiscoveryTests: XCTestCase {
    let rows = 24, cols = 20

    /// A deterministic HU pattern for slice `k`.
    func slice(_ k: Int) -> [Float] {
        (0..<(rows * cols)).map { i in Float(((i * 7 + k * 131) % 3000) - 1024) }
    }

    func describe(study: String, series: String) -> CTSliceDescription {
        CTSliceDescription(studyInstanceUID: study, seriesInstanceUID: series)
    }

    /// Writes `count` slices with z = z0 + spacing * k under `dir`, in shuffled file names.
    @discardableResult
    func writeSeries(_ dir: String, _ d: CTSliceDescription, count: Int, z0: Double = -100, spacing: Double = 2.5,
                     syntaxes: [DicomSyntax] = [.explicitLittle], skip: Set<Int> = [], repeatAt: Int? = nil,
                     orientation: [Double] = [1, 0, 0, 0, 1, 0]) throws -> [Int: String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var rng = SystemRandomNumberGenerator()
        var paths: [Int: String] = [:]
        var ks = Array(0..<count).filter { !skip.contains($0) }
        if let r = repeatAt { ks.append(r) }
        for (n, k) in ks.enumerated() {
            var s = d
            s.instanceNumber = count - k   // deliberately not the spatial order
            s.orientation = orientation
            let normal = [orientation[1] * orientation[5] - orientation[2] * orientation[4],
                          orientation[2] * orientation[3] - orientation[0] * orientation[5],
                          orientation[0] * orientation[4] - orientation[1] * orientation[3]]
            let z = z0 + spacing * Double(k)
            s.position = [10 + z * normal[0], -20 + z * normal[1], z * normal[2]]
            let path = "\(dir)/IM\(UInt32.random(in: 0...UInt32.max, using: &rng))"
            try s.write(hu: slice(k), rows: rows, columns: cols, to: path, syntax: syntaxes[n % syntaxes.count])
            paths[k] = path
        }
        return paths
    }

    func testDiscoveryOrderingValidationSelectionAndReading() throws {
        let tmp = try TemporaryDirectory()
        let study = DicomFile.generateUID()
        let mainUID = DicomFile.generateUID(), softUID = DicomFile.generateUID(), badUID = DicomFile.generateUID()

        // Main series: thin, lung kernel, every syntax the writer has.
        var main = describe(study: study, series: mainUID)
        main.convolutionKernel = "B70f"
        main.sliceThickness = 1.25
        main.seriesNumber = 3
        try writeSeries(tmp.path("patient/main"), main, count: 12, spacing: 1.25, syntaxes: DicomSyntax.allCases)
        // A scout inside the main series, and an unreadable file beside its slices.
        var scout = main
        scout.imageType = "ORIGINAL\\PRIMARY\\LOCALIZER"
        try scout.write(hu: slice(0), rows: rows, columns: cols, to: tmp.path("patient/main/scout"))
        try Data("not dicom".utf8).write(to: URL(fileURLWithPath: tmp.path("patient/main/README.txt")))

        // A thicker soft-kernel series of the same study.
        var soft = describe(study: study, series: softUID)
        soft.convolutionKernel = "B30f"
        soft.sliceThickness = 5
        soft.seriesNumber = 2
        try writeSeries(tmp.path("patient/soft"), soft, count: 6, spacing: 5)

        // A series with a gap and a duplicate position.
        var bad = describe(study: study, series: badUID)
        bad.seriesNumber = 4
        try writeSeries(tmp.path("patient/bad"), bad, count: 10, skip: [4, 5], repeatAt: 7)

        // Other objects: MR image, dose report (no pixels), derived reformat, secondary capture.
        try FileManager.default.createDirectory(atPath: tmp.path("patient/other"), withIntermediateDirectories: true)
        var mr = describe(study: study, series: DicomFile.generateUID())
        mr.modality = "MR"
        mr.sopClassUID = "1.2.840.10008.5.1.4.1.1.4"
        try mr.write(hu: slice(1), rows: rows, columns: cols, to: tmp.path("patient/other/mr"))
        let sr = try DicomWriter()
        try sr.set(.sopClassUID, "1.2.840.10008.5.1.4.1.1.88.67")
        try sr.set(.sopInstanceUID, DicomFile.generateUID())
        try sr.set(.studyInstanceUID, study)
        try sr.set(.seriesInstanceUID, DicomFile.generateUID())
        try sr.set(.modality, "SR")
        try sr.save(to: tmp.path("patient/other/dose"))
        var derived = describe(study: study, series: DicomFile.generateUID())
        derived.imageType = "DERIVED\\SECONDARY\\REFORMATTED"
        try writeSeries(tmp.path("patient/derived"), derived, count: 5)
        var sc = describe(study: study, series: DicomFile.generateUID())
        sc.sopClassUID = "1.2.840.10008.5.1.4.1.1.7"
        try sc.write(hu: slice(2), rows: rows, columns: cols, to: tmp.path("patient/other/sc"))

        let found = try SeriesDiscovery.scan([tmp.path("patient")])
        XCTAssertEqual(found.series.map(\.seriesInstanceUID), [softUID, mainUID, badUID])  // by SeriesNumber
        XCTAssertEqual(found.unreadable.map(\.path), [tmp.path("patient/main/README.txt")])
        let reasons = found.skipped.map(\.reason)
        XCTAssertEqual(found.skipped.count, 4, "\(reasons)")
        XCTAssertTrue(reasons.contains { $0.hasPrefix("modality MR") }, "\(reasons)")
        XCTAssertTrue(reasons.contains { $0.hasPrefix("non-image object (X-Ray Radiation Dose SR") }, "\(reasons)")
        XCTAssertTrue(reasons.contains { $0.hasPrefix("derived or secondary image") }, "\(reasons)")
        XCTAssertTrue(reasons.contains { $0.hasPrefix("secondary capture") }, "\(reasons)")

        let m = try XCTUnwrap(found.series.first { $0.seriesInstanceUID == mainUID })
        XCTAssertTrue(m.isUsable, "\(m.problems)")
        XCTAssertEqual(m.slices.count, 12)
        let positions = m.slices.compactMap(\.position)
        XCTAssertEqual(positions, (0..<12).map { -100 + 1.25 * Double($0) })
        XCTAssertEqual(m.slices.map(\.instanceNumber), (0..<12).map { 12 - $0 })
        XCTAssertEqual(Set(m.problems.map(\.kind)), [.excludedObjects, .unreadableFiles])
        XCTAssertEqual(m.excluded.map(\.path), [tmp.path("patient/main/scout")])
        XCTAssertEqual(m.metadata.convolutionKernel, "B70f")
        XCTAssertEqual(m.metadata.sliceThickness, 1.25)
        XCTAssertEqual(m.metadata.kvp, 120)
        XCTAssertEqual(m.metadata.manufacturer, "SYNTHETIC")
        XCTAssertEqual(m.metadata.transferSyntaxes.count, DicomSyntax.allCases.count)
        XCTAssertEqual(m.geometry?.medianSpacing ?? 0, 1.25, accuracy: 1e-9)
        XCTAssertEqual(m.geometry?.rows, rows)

        let b = try XCTUnwrap(found.series.first { $0.seriesInstanceUID == badUID })
        XCTAssertFalse(b.isUsable)
        XCTAssertEqual(Set(b.problems.map(\.kind)), [.gaps, .duplicatePositions])

        // Selection: lung kernel and thin slices win; overrides work and are checked.
        XCTAssertEqual(try SeriesSelection.choose(from: found.series, context: "p").seriesInstanceUID, mainUID)
        XCTAssertEqual(try SeriesSelection.choose(from: found.series, override: softUID, context: "p").seriesInstanceUID, softUID)
        XCTAssertThrowsError(try SeriesSelection.choose(from: found.series, override: "1.2.3", context: "p"))
        XCTAssertThrowsError(try SeriesSelection.choose(from: found.series, override: badUID, context: "p")) { e in
            XCTAssertTrue("\(e)".contains("share a position"), "\(e)")
        }
        XCTAssertEqual(SeriesSelection.chosenPerStudy(found.series)[study], mainUID)

        // Reading: every syntax round-trips exactly, in spatial order.
        let volume = try SeriesReader.readVolume(m)
        XCTAssertEqual(volume.count, 12)
        XCTAssertTrue(volume.skipped.isEmpty)
        for k in 0..<12 {
            XCTAssertEqual(Array(volume.hu[(k * rows * cols)..<((k + 1) * rows * cols)]), slice(k), "slice \(k)")
        }
        XCTAssertThrowsError(try SeriesReader.readVolume(b))
    }

    func testGeometryProblems() throws {
        let tmp = try TemporaryDirectory()
        let study = DicomFile.generateUID()
        // Coronal: the normal is the patient's y axis.
        let coronal = DicomFile.generateUID()
        try writeSeries(tmp.path("coronal"), describe(study: study, series: coronal), count: 5, orientation: [1, 0, 0, 0, 0, -1])
        // Too few slices.
        let short = DicomFile.generateUID()
        try writeSeries(tmp.path("short"), describe(study: study, series: short), count: 3)
        // Mixed sizes and orientations.
        let mixed = DicomFile.generateUID()
        try writeSeries(tmp.path("mixed"), describe(study: study, series: mixed), count: 5)
        var odd = describe(study: study, series: mixed)
        odd.orientation = [0.9, 0.1, 0, 0, 1, 0]
        odd.position = [0, 0, 50]
        try odd.write(hu: [Float](repeating: 0, count: 16), rows: 4, columns: 4, to: tmp.path("mixed/odd"))

        let found = try SeriesDiscovery.scan([tmp.path("")])
        func kinds(_ uid: String) -> Set<SeriesProblem.Kind> {
            Set(found.series.first { $0.seriesInstanceUID == uid }?.problems.map(\.kind) ?? [])
        }
        XCTAssertEqual(kinds(coronal), [.nonAxial])
        XCTAssertEqual(kinds(short), [.tooFewSlices])
        XCTAssertTrue(kinds(mixed).isSuperset(of: [.mixedSizes, .mixedOrientations]), "\(kinds(mixed))")
        var options = DiscoveryOptions()
        options.minimumSlices = 2
        let relaxed = try SeriesDiscovery.scan([tmp.path("short")], options: options)
        XCTAssertTrue(relaxed.series[0].isUsable)
        XCTAssertThrowsError(try SeriesSelection.choose(from: found.series, context: "x")) { e in
            XCTAssertTrue("\(e)".contains("no usable CT series"), "\(e)")
        }
    }

    func testUnsupportedSyntaxIsASeriesProblem() throws {
        let found = try SeriesDiscovery.scan([DicomFixtures.path("ct_jpeg2000_lossy.dcm")], options: {
            var o = DiscoveryOptions(); o.minimumSlices = 1; o.allowDerived = true; return o
        }())
        let s = try XCTUnwrap(found.series.first)
        let p = try XCTUnwrap(s.problems.first { $0.kind == .unsupportedTransferSyntax })
        XCTAssertTrue(p.blocking)
        XCTAssertTrue(p.message.contains("1.2.840.10008.1.2.4.91"), p.message)
    }

    func testPaddingAndUnsignedStorageRoundTrip() throws {
        let tmp = try TemporaryDirectory()
        var d = describe(study: DicomFile.generateUID(), series: DicomFile.generateUID())
        d.signed = false
        d.bitsStored = 12
        d.rescaleIntercept = -1024
        d.paddingValue = 0
        var stored = d.storedValues(hu: slice(3))
        stored[0] = 0          // padding
        stored[1] = 4095       // top of 12 bits: 3071 HU
        for syntax in DicomSyntax.allCases {
            let path = tmp.path("pad-\(syntax.rawValue)")
            try d.write(stored: stored, rows: rows, columns: cols, to: path, syntax: syntax)
            let f = try DicomFile(path: path)
            XCTAssertEqual(f.transferSyntax.uid, syntax.uid)
            XCTAssertEqual(try f.storedValues(), stored, syntax.rawValue)
            let hu = try f.hu()
            XCTAssertEqual(hu[0], -1024)
            XCTAssertEqual(hu[1], 3071)
            XCTAssertEqual(Array(hu[2...]), stored[2...].map { Float($0) - 1024 }, syntax.rawValue)
        }
        XCTAssertThrowsError(try d.write(stored: [5000] + stored.dropFirst(), rows: rows, columns: cols, to: tmp.path("x")))
    }
}
