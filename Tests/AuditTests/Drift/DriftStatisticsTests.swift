import Foundation
import XCTest
@testable import Audit

/// The drift statistics against SciPy, statsmodels and NumPy references written by
/// tools/drift_make_fixtures.py (Tests/Fixtures/drift/expected.json).
final class DriftStatisticsTests: XCTestCase {
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/drift/expected.json")
        let data = (try? Data(contentsOf: url)) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }()

    func cases(_ key: String) throws -> [[String: Any]] {
        try XCTUnwrap(Self.fixture[key] as? [[String: Any]], "fixture \(key) missing: run tools/drift_make_fixtures.py")
    }

    func close(_ a: Double, _ b: Double, rel: Double = 1e-9, abs tolerance: Double = 1e-12, _ what: String) {
        XCTAssertLessThanOrEqual(Swift.abs(a - b), Swift.max(tolerance, rel * Swift.abs(b)), "\(what): \(a) vs \(b)")
    }

    func testKolmogorovSmirnovMatchesSciPy() throws {
        for c in try cases("ks") {
            let name = c["name"] as! String
            let ks = KolmogorovSmirnov(c["a"] as! [Double], c["b"] as! [Double])
            close(ks.statistic, c["statistic"] as! Double, "\(name) D")
            close(ks.p, c["p"] as! Double, rel: 1e-7, abs: 1e-12, "\(name) p")
            XCTAssertEqual(ks.method.rawValue, c["method"] as? String, name)
        }
    }

    func testChiSquareMatchesSciPy() throws {
        for c in try cases("chi_square") {
            let name = c["name"] as! String
            let t = CategoricalTest(reference: c["reference"] as! [String: Int], candidate: c["candidate"] as! [String: Int])
            XCTAssertEqual(t.method, .chiSquare, name)
            close(t.statistic, c["statistic"] as! Double, "\(name) X²")
            close(t.p, c["p"] as! Double, rel: 1e-9, abs: 1e-15, "\(name) p")
            XCTAssertEqual(t.df, c["df"] as? Int, name)
        }
        for c in try cases("chi_square_sf") {
            let x = c["x"] as! Double, df = c["df"] as! Double
            close(ChiSquare.survival(x, df: df), c["p"] as! Double, rel: 1e-10, abs: 1e-300, "chi2.sf(\(x), \(df))")
        }
    }

    func testSmallExpectedCountsUsePermutations() {
        let t = CategoricalTest(reference: ["a": 9, "b": 1], candidate: ["a": 2, "b": 8], permutations: 999, seed: 3)
        XCTAssertEqual(t.method, .permutation)
        XCTAssertLessThan(t.p, 0.01)
        let same = CategoricalTest(reference: ["LUNG": 30], candidate: ["LUNG": 12])
        XCTAssertEqual(same.method, .none)
        XCTAssertEqual(same.p, 1)
        XCTAssertEqual(same.totalVariation, 0)
    }

    func testPopulationStabilityMatchesNumPy() throws {
        for c in try cases("psi") {
            let name = c["name"] as! String
            let e = c["expected"] as! [String: Any]
            let psi = PopulationStability(reference: c["reference"] as! [Double], candidate: c["candidate"] as! [Double],
                                          minimumPerBin: c["min_per_bin"] as! Int, maximumBins: c["max_bins"] as! Int)
            XCTAssertEqual(psi.bins, e["bins"] as? Int, name)
            let edges = e["edges"] as! [Double]
            XCTAssertEqual(psi.edges.count, edges.count, name)
            for (a, b) in zip(psi.edges, edges) { close(a, b, rel: 1e-14, abs: 1e-15, "\(name) edge") }
            XCTAssertEqual(psi.referenceCounts, e["reference_counts"] as! [Int], name)
            XCTAssertEqual(psi.candidateCounts, e["candidate_counts"] as! [Int], name)
            close(psi.value, e["value"] as! Double, "\(name) PSI")
            close(psi.nullExpectation, e["null_expectation"] as! Double, "\(name) null expectation")
        }
    }

    func testMaximumMeanDiscrepancyMatchesReference() throws {
        for c in try cases("mmd") {
            let name = c["name"] as! String
            let e = c["expected"] as! [String: Any]
            let units = { (k: String) in (c[k] as! [[[Double]]]).map { $0.map { $0.map(Float.init) } } }
            let m = MaximumMeanDiscrepancy(reference: units("reference"), candidate: units("candidate"),
                                           permutations: c["permutations"] as! Int, seed: UInt64(c["seed"] as! Int))
            close(m.bandwidth, e["bandwidth"] as! Double, "\(name) bandwidth")
            close(m.statistic, e["statistic"] as! Double, rel: 1e-9, abs: 1e-12, "\(name) MMD²")
            XCTAssertEqual(m.p, e["p"] as! Double, "\(name) permutation p")
            XCTAssertEqual(m.dimensions, e["dimensions"] as? Int, name)
        }
    }

    func testHolmMatchesStatsmodels() throws {
        for c in try cases("holm") {
            let adjusted = HolmCorrection.adjust(c["p"] as! [Double])
            for (a, b) in zip(adjusted, c["adjusted"] as! [Double]) { close(a, b, "Holm") }
        }
    }
}
