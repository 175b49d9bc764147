import Foundation
import XCTest
import Model

/// `mlung-audit model-run` end to end through the built binary.
final class ModelRunCLITests: XCTestCase {
    let tiny = CLI.fixtures.appendingPathComponent("model/tiny")

    func testModelRunWritesExactlyTheContractTensors() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.safetensors")
        let r = try CLI.run(["model-run", "--weights", tiny.appendingPathComponent("weights.safetensors").path,
                             "--input", tiny.appendingPathComponent("input.safetensors").path,
                             "--output", out.path, "--threads", "2", "--batch", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let file = try SafeTensorsFile(contentsOf: out)
        let expected = try SafeTensorsFile(contentsOf: tiny.appendingPathComponent("expected.safetensors"))
        let names = ["lesion_probs", "class_probs", "slice_probs", "slice_features", "lesion_maps",
                     "patient_probs", "patient_nonparam_probs"]
        XCTAssertEqual(Set(file.entries.keys), Set(names))
        for name in names {
            XCTAssertEqual(file.entries[name]?.dtype, "F32", name)
            XCTAssertEqual(file.entries[name]?.shape, expected.entries[name]?.shape, name)
            let a = try file.floats(name), b = try expected.floats(name)
            let scale = max(1, b.reduce(0) { max($0, abs($1)) })
            let d = zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            XCTAssertLessThan(d / scale, 1e-4, name)
        }
    }

    func expectBadInput(_ args: [String], mentioning needle: String, output: URL,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.run(args)
        XCTAssertEqual(r.status, 65, "exit status; stderr: \(r.stderr)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one-line error, got: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(needle), "\(r.stderr) should mention \(needle)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "no partial output", file: file, line: line)
    }

    func testBadInputsGiveOneLineErrorsAndNoOutput() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.safetensors")
        let weights = tiny.appendingPathComponent("weights.safetensors").path
        let input = tiny.appendingPathComponent("input.safetensors").path
        let bad = CLI.fixtures.appendingPathComponent("model/bad")

        try expectBadInput(["model-run", "--weights", "/nonexistent.safetensors", "--input", input, "--output", out.path],
                           mentioning: "/nonexistent.safetensors", output: out)
        for name in ["truncated", "wrong_format", "missing_tensor", "wrong_shape"] {
            let path = bad.appendingPathComponent("\(name).safetensors").path
            try expectBadInput(["model-run", "--weights", path, "--input", input, "--output", out.path],
                               mentioning: path, output: out)
        }

        // A series shorter than max(scales) (the tiny model has scales up to 4).
        var w = SafeTensorsWriter()
        w.add("hu", shape: [3, 64, 64], .f32([Float](repeating: -800, count: 3 * 64 * 64)))
        let short = dir.appendingPathComponent("short.safetensors")
        try w.write(to: short)
        try expectBadInput(["model-run", "--weights", weights, "--input", short.path, "--output", out.path],
                           mentioning: "at least 4", output: out)

        // The wrong rank.
        var r2 = SafeTensorsWriter()
        r2.add("hu", shape: [64, 64], .f32([Float](repeating: -800, count: 64 * 64)))
        let flat = dir.appendingPathComponent("flat.safetensors")
        try r2.write(to: flat)
        try expectBadInput(["model-run", "--weights", weights, "--input", flat.path, "--output", out.path],
                           mentioning: "rank 2", output: out)

        // The wrong slice size.
        var r3 = SafeTensorsWriter()
        r3.add("hu", shape: [5, 32, 32], .f32([Float](repeating: -800, count: 5 * 32 * 32)))
        let small = dir.appendingPathComponent("small.safetensors")
        try r3.write(to: small)
        try expectBadInput(["model-run", "--weights", weights, "--input", small.path, "--output", out.path],
                           mentioning: "64x64", output: out)
    }
}
