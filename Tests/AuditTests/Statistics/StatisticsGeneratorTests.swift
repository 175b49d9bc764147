import XCTest
@testable import Audit
import Model

/// The bootstrap's generator and the normal quantile against the fixture generator, which
/// checks its own generator against the values published with the algorithms.
final class StatisticsGeneratorTests: XCTestCase {
    let g = StatsFixtures.expected["generator"]

    func testSplitMix64AndXoshiroMatchThePublishedOutputs() {
        var sm = SplitMix64(seed: 1234567)
        XCTAssertEqual((0..<5).map { _ in String(sm.next()) }, g["published"]["splitmix64_1234567"].array.map(\.string))
        var x = Xoshiro256StarStar(state: (1, 2, 3, 4))
        XCTAssertEqual((0..<10).map { _ in String(x.next()) },
                       g["published"]["xoshiro256starstar_state_1_2_3_4"].array.map(\.string))
    }

    func testSeededStreamAndIndicesMatchThePythonGenerator() {
        var x = Xoshiro256StarStar(seed: UInt64(g["seed"].int))
        XCTAssertEqual((0..<8).map { _ in String(x.next()) }, g["first_outputs"].array.map(\.string))
        var y = Xoshiro256StarStar(seed: UInt64(g["seed"].int))
        for draw in g["index_below"].array {
            let n = draw[0].int64
            XCTAssertEqual(Int64(y.index(below: Int(n))), draw[1].int64, "index below \(n)")
        }
    }

    func testIndicesAreUniform() {
        var x = Xoshiro256StarStar(seed: 1)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[x.index(below: 7)] += 1 }
        // Each count ~ Binomial(70000, 1/7): mean 10000, sd ~ 92.6; 6 sd is never reached by chance here.
        for c in counts { XCTAssertLessThan(abs(c - 10_000), 560, "\(counts)") }
    }

    func testNormalQuantileMatchesSciPy() {
        for pair in StatsFixtures.expected["normal_quantiles"].array {
            let p = pair[0].double
            assertClose(NormalDistribution.quantile(p), pair[1], rel: 1e-13, abs: 1e-15, "quantile(\(p))")
            XCTAssertEqual(NormalDistribution.cdf(NormalDistribution.quantile(p)), p, accuracy: p * 1e-12)
        }
    }
}
