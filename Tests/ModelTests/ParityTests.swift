import Foundation
import XCTest
@testable import Model

/// The engine against the PyTorch reference (tools/mlung_ref.py) on random-weight models.
final class ParityTests: XCTestCase {
    /// Largest absolute difference allowed in any probability or lesion-map value.
    let probabilityTolerance: Float = 1e-4
    /// Largest difference in a slice feature, relative to the largest feature magnitude.
    let featureTolerance: Float = 1e-4

    func run(_ c: Fixtures.ModelCase, options: EngineOptions) throws -> (SliceResults, PatientResult) {
        let engine = try MLungSys(contentsOf: c.weights)
        let entry = try XCTUnwrap(c.input.entries["hu"])
        let hu = try c.input.floats("hu")
        try engine.validate(count: entry.shape[0], height: entry.shape[1], width: entry.shape[2], path: c.name)
        let slices = hu.withUnsafeBufferPointer { engine.runSlices(hu: $0, count: entry.shape[0], options: options) }
        return (slices, engine.runPatient(slices))
    }

    func check(_ name: String, options: EngineOptions, file: StaticString = #filePath, line: UInt = #line) throws {
        let c = try Fixtures.ModelCase(name)
        let (s, p) = try run(c, options: options)
        let label = "\(name) threads=\(options.threads) batch=\(options.batch)"
        let pairs: [(String, [Float])] = [
            ("lesion_probs", s.lesionProbs), ("class_probs", s.classProbs), ("slice_probs", s.sliceProbs),
            ("lesion_maps", s.lesionMaps), ("patient_probs", p.probabilities),
            ("patient_nonparam_probs", p.nonParametricScores),
        ]
        for (tensor, ours) in pairs {
            let d = maxAbsDiff(ours, try c.expect(tensor))
            XCTAssertLessThan(d, probabilityTolerance, "\(label): \(tensor) differs by \(d)", file: file, line: line)
        }
        let expectedFeatures = try c.expect("slice_features")
        let rel = maxAbsDiff(s.features, expectedFeatures) / max(maxAbs(expectedFeatures), 1e-12)
        XCTAssertLessThan(rel, featureTolerance, "\(label): slice_features differ by \(rel) relative", file: file, line: line)
        XCTAssertEqual(s.slicePredictions.map(Float.init), try c.expect("slice_pred"), "\(label): slice predictions", file: file, line: line)
        XCTAssertEqual(Float(p.prediction), try c.expect("patient_pred")[0], "\(label): patient prediction", file: file, line: line)
        XCTAssertEqual(Float(p.nonParametricPrediction), try c.expect("patient_nonparam_pred")[0],
                       "\(label): non-parametric prediction", file: file, line: line)
    }

    func testTinyMatchesReference() throws {
        try check("tiny", options: EngineOptions(threads: 1, batch: 4))
        try check("tiny", options: EngineOptions(threads: 2, batch: 9))
    }

    func testOddSizesAndHalfPrecisionWeightsMatchReference() throws {
        try check("odd", options: EngineOptions(threads: 2, batch: 2))
    }

    func testBFloat16WeightsMatchReference() throws {
        try check("bf16", options: EngineOptions(threads: 1, batch: 1))
    }

    func testWiderModelMatchesReference() throws {
        try check("wide", options: EngineOptions(threads: 2, batch: 5))
    }

    /// Batching and threading must not change results beyond float rounding.
    func testBatchAndThreadsDoNotChangeOutputs() throws {
        let c = try Fixtures.ModelCase("wide")
        let (a, pa) = try run(c, options: EngineOptions(threads: 1, batch: 1))
        let (b, pb) = try run(c, options: EngineOptions(threads: 2, batch: 12))
        XCTAssertLessThan(maxAbsDiff(a.sliceProbs, b.sliceProbs), 1e-5)
        XCTAssertLessThan(maxAbsDiff(a.lesionMaps, b.lesionMaps), 1e-5)
        XCTAssertLessThan(maxAbsDiff(pa.probabilities, pb.probabilities), 1e-5)
    }

    /// The model's identity: the file's SHA-256 and the two network digests agree with Python's.
    func testDigestsMatchReference() throws {
        for name in Fixtures.modelCases {
            let c = try Fixtures.ModelCase(name)
            let w = try WeightFile(contentsOf: c.weights)
            XCTAssertEqual(w.fileSHA256, c.meta["weights_sha256"] as? String, "\(name): file SHA-256")
            XCTAssertEqual(w.sliceNetworkDigest, c.meta["slice_network_digest"] as? String, "\(name): slice digest")
            XCTAssertEqual(w.patientNetworkDigest, c.meta["patient_network_digest"] as? String, "\(name): patient digest")
        }
    }
}
