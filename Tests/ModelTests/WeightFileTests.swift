import Foundation
import XCTest
@testable import Model

/// Strict loading: every malformed weight file ends in a precise error, never a trap.
final class WeightFileTests: XCTestCase {
    func load(_ name: String) -> Error? {
        let url = Fixtures.model("bad").appendingPathComponent(name)
        do {
            _ = try WeightFile(contentsOf: url)
            return nil
        } catch {
            return error
        }
    }

    func testMalformedContainersAreRejected() {
        for name in ["bad_header_len", "bad_json", "bad_offsets", "truncated", "bad_dtype"] {
            let error = load("\(name).safetensors")
            guard case .malformedFile(let path, let reason)? = error as? ModelError else {
                XCTFail("\(name): expected malformedFile, got \(String(describing: error))")
                continue
            }
            XCTAssertTrue(path.hasSuffix("\(name).safetensors"), path)
            XCTAssertFalse(reason.isEmpty)
        }
        if case .malformedFile(_, let reason)? = load("bad_offsets.safetensors") as? ModelError {
            XCTAssertTrue(reason.contains("patient.refine.1.v.weight"), reason)
        }
        if case .malformedFile(_, let reason)? = load("bad_dtype.safetensors") as? ModelError {
            XCTAssertTrue(reason.contains("class_head.bias") && reason.contains("I32"), reason)
        }
    }

    func testWrongFormatIsRejected() {
        guard case .wrongFormat(_, let reason)? = load("wrong_format.safetensors") as? ModelError else {
            return XCTFail("expected wrongFormat")
        }
        XCTAssertTrue(reason.contains("something-else"), reason)
    }

    func testMissingExtraAndMisshapenTensorsAreNamed() {
        XCTAssertEqual(load("missing_tensor.safetensors") as? ModelError,
                       .missingTensor(path: Fixtures.model("bad").appendingPathComponent("missing_tensor.safetensors").path,
                                      name: "backbone.layer2.0.conv2.weight"))
        XCTAssertEqual(load("extra_tensor.safetensors") as? ModelError,
                       .unexpectedTensor(path: Fixtures.model("bad").appendingPathComponent("extra_tensor.safetensors").path,
                                         name: "backbone.fc.weight"))
        guard case .mismatchedShape(_, let name, let expected, let actual)? = load("wrong_shape.safetensors") as? ModelError else {
            return XCTFail("expected mismatchedShape")
        }
        XCTAssertEqual(name, "lesion_head.weight")
        XCTAssertEqual(expected, [2, 64])
        XCTAssertEqual(actual, [3, 64])
    }

    /// Every prefix of a valid file is rejected cleanly (no trap, no acceptance).
    func testEveryTruncationIsRejected() throws {
        let bytes = try Data(contentsOf: Fixtures.model("tiny").appendingPathComponent("weights.safetensors"))
        var cut = 0
        while cut < bytes.count {
            XCTAssertThrowsError(try WeightFile(bytes: bytes.prefix(cut), path: "cut-\(cut)"))
            cut += max(1, cut / 3)
        }
    }

    func testMissingFileIsUnreadable() {
        XCTAssertThrowsError(try WeightFile(contentsOf: URL(fileURLWithPath: "/nonexistent/w.safetensors"))) { error in
            guard case .unreadable(let path, _)? = error as? ModelError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/nonexistent/w.safetensors")
        }
    }

    func testConfigDefaultsAndValidation() throws {
        let c = try ModelConfig(json: "{}", path: "x")
        XCTAssertEqual(c, ModelConfig())
        XCTAssertEqual(c.c3, 1024)
        XCTAssertEqual(c.featureDim, 3072)
        XCTAssertEqual(c.layer3Size, 14)
        XCTAssertThrowsError(try ModelConfig(json: #"{"heads": 7}"#, path: "x"))
        XCTAssertThrowsError(try ModelConfig(json: #"{"scales": [1, true]}"#, path: "x"))
        XCTAssertThrowsError(try ModelConfig(json: #"{"colour": 1}"#, path: "x"))
        XCTAssertThrowsError(try ModelConfig(json: #"{"input_size": 16}"#, path: "x"))
    }

    /// The non-parametric assessment on hand-picked edge cases, against the Python reference.
    func testNonParametricCasesMatchReference() throws {
        let data = try Data(contentsOf: Fixtures.model("").appendingPathComponent("nonparam_cases.json"))
        let cases = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 3)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let q = try XCTUnwrap(c["q"] as? [[Double]]).flatMap { $0.map(Float.init) }
            let tau = Float(try XCTUnwrap(c["nonparam_tau"] as? Double))
            let expectedScores = try XCTUnwrap(c["scores"] as? [Double]).map(Float.init)
            let r = SliceAssessment.nonParametric(sliceProbs: q, count: q.count / 4, tau: tau)
            XCTAssertLessThan(maxAbsDiff(r.scores, expectedScores), 1e-6, name)
            XCTAssertEqual(r.prediction, c["pred"] as? Int, name)
            let slicePred = (0..<(q.count / 4)).map { SliceAssessment.argmax(q[($0 * 4)..<($0 * 4 + 4)]) }
            XCTAssertEqual(slicePred, c["slice_pred"] as? [Int], name)
        }
    }
}

/// Our SHA-256 against Python hashlib's digest recorded by the fixture generator.
final class SHA256Tests: XCTestCase {
    func testAgainstWeightFileDigestsAndBlockBoundaries() throws {
        // The fixture generator records Python's hashlib digest of each weight file.
        let c = try Fixtures.ModelCase("tiny")
        let bytes = try Data(contentsOf: c.weights)
        XCTAssertEqual(SHA256.hex(bytes), c.meta["weights_sha256"] as? String)
        // Incremental updates in odd pieces give the same digest.
        var h = SHA256()
        var i = 0, step = 1
        while i < bytes.count {
            h.update(bytes.subdata(in: i..<min(bytes.count, i + step)))
            i += step
            step = step % 97 + 13
        }
        XCTAssertEqual(h.finalizeHex(), SHA256.hex(bytes))
    }
}
