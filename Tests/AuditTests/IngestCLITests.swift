import Foundation
import Model
import XCTest
@testable import Audit

/// Runs the built `mlung-audit` binary the way a user does.
final class IngestCLITests: XCTestCase {
    static func binary() throws -> URL {
        let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        for dir in candidates {
            let url = dir.appendingPathComponent("mlung-audit")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw XCTSkip("mlung-audit binary not built next to the tests")
    }

    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = try Self.binary()
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// A synthetic chest series: body ellipse, two lungs, 8 slices, shuffled file names.
    func writeChest(_ dir: String, series: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let rows = 96, cols = 96
        for k in 0..<8 {
            var hu = [Float](repeating: -1000, count: rows * cols)
            for r in 0..<rows {
                for c in 0..<cols {
                    let y = Double(r), x = Double(c)
                    func inside(_ cy: Double, _ cx: Double, _ ry: Double, _ rx: Double) -> Bool {
                        ((y - cy) / ry) * ((y - cy) / ry) + ((x - cx) / rx) * ((x - cx) / rx) <= 1
                    }
                    if inside(48, 48, 36, 42) { hu[r * cols + c] = 30 + Float((r * 13 + c * 7 + k) % 40) }
                    if inside(46, 30, 20 + Double(k % 3), 11) || inside(46, 66, 20, 11) { hu[r * cols + c] = -860 + Float((r + c + k) % 30) }
                }
            }
            var d = CTSliceDescription(studyInstanceUID: "1.2.3.4", seriesInstanceUID: series)
            d.position = [0, 0, Double(7 - k) * 2]
            d.instanceNumber = k + 1
            try d.write(hu: hu, rows: rows, columns: cols, to: "\(dir)/f\((k * 5) % 8)", syntax: k % 2 == 0 ? .jpegLSLossless : .rle)
        }
    }

    func testInspectListsSeriesAsJSONAndText() throws {
        let tmp = try TemporaryDirectory()
        try writeChest(tmp.path("p1"), series: "1.2.3.4.5")
        let (status, stdout, stderr) = try run(["inspect", tmp.path("p1"), "--json"])
        XCTAssertEqual(status, 0, stderr)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        XCTAssertEqual((obj["chosen"] as? [String: String])?["1.2.3.4"], "1.2.3.4.5")
        let discovery = try XCTUnwrap(obj["discovery"] as? [String: Any])
        let series = try XCTUnwrap((discovery["series"] as? [[String: Any]])?.first)
        XCTAssertEqual((series["slices"] as? [Any])?.count, 8)
        let text = try run(["inspect", tmp.path("p1")])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.stdout.contains("series 1.2.3.4.5  #1  \"Synthetic chest\"  [chosen]"), text.stdout)
        XCTAssertTrue(text.stdout.contains("8 slice(s) 96x96"), text.stdout)
    }

    func testPreprocessWritesTheSpecTensors() throws {
        let tmp = try TemporaryDirectory()
        try writeChest(tmp.path("p1"), series: "1.2.3.4.5")
        let weights = DicomFixtures.fixturesRoot.appendingPathComponent("model/tiny/weights.safetensors").path
        guard FileManager.default.fileExists(atPath: weights) else { throw XCTSkip("no tiny model fixture") }
        let out = tmp.path("out.safetensors")
        let r = try run(["preprocess", "--series", tmp.path("p1"), "--weights", weights, "--output", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let f = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: out))
        XCTAssertEqual(f.entries["hu"]?.shape, [8, 64, 64])
        XCTAssertEqual(f.entries["hu"]?.dtype, "F32")
        XCTAssertEqual(f.entries["crop_boxes"]?.shape, [8, 4])
        XCTAssertEqual(f.entries["crop_boxes"]?.dtype, "I32")
        XCTAssertEqual(f.entries["crop_failed"]?.dtype, "U8")
        // Same as the library in-process.
        let found = try SeriesDiscovery.scan([tmp.path("p1")])
        let model = try WeightFile(contentsOf: URL(fileURLWithPath: weights))
        let expected = try PreprocessedSeries(series: found.series[0], settings: PreprocessSettings(model.config))
        XCTAssertEqual(try f.floats("hu"), expected.hu)
        XCTAssertEqual(try XCTUnwrap(f.rawBytes("crop_failed")), Data(repeating: 0, count: 8))
        // Slices are in z order: the first file written (k = 0) is the last slice.
        XCTAssertEqual(expected.slices.map(\.instanceNumber), [8, 7, 6, 5, 4, 3, 2, 1])
    }

    func testErrorsAreOneLineWithTheFileAndExit65() throws {
        let tmp = try TemporaryDirectory()
        let missing = try run(["inspect", tmp.path("nope")])
        XCTAssertEqual(missing.status, 65)
        XCTAssertEqual(missing.stderr, "mlung-audit: error: \(tmp.path("nope")): no such file or directory\n")
        try FileManager.default.createDirectory(atPath: tmp.path("empty"), withIntermediateDirectories: true)
        let weights = DicomFixtures.fixturesRoot.appendingPathComponent("model/tiny/weights.safetensors").path
        let none = try run(["preprocess", "--series", tmp.path("empty"), "--weights", weights, "--output", tmp.path("o")])
        XCTAssertEqual(none.status, 65)
        XCTAssertEqual(none.stderr, "mlung-audit: error: \(tmp.path("empty")): no CT image series found\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.path("o")))
    }
}
