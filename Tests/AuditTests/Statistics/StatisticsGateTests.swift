import Foundation
import XCTest
@testable import Audit

/// The nightly gate's rules on real comparisons of the fixture prediction sets.
final class StatisticsGateTests: XCTestCase {
    let options = StatisticsOptions(resamples: 300)

    func inputs(candidate: String, baseline: String) throws -> (Evaluation, Comparison) {
        let c = try StatsFixtures.set(candidate), b = try StatsFixtures.set(baseline)
        return (try Evaluator.evaluate(c, options: options), try Comparator.compare(baseline: b, candidate: c, options: options))
    }

    func testNoRegression() throws {
        // random.csv is the better model: as candidate it passes, as baseline it makes the other fail.
        let (better, improvement) = try inputs(candidate: "random.csv", baseline: "random_baseline.csv")
        let (worse, regression) = try inputs(candidate: "random_baseline.csv", baseline: "random.csv")
        let rule = GateRule.noRegression(metric: .accuracy, maxDrop: 0.02, alpha: 0.05)
        XCTAssertEqual(RegressionGate.judge([rule], candidate: better, comparison: improvement, deployment: nil).status, .pass)
        let verdict = RegressionGate.judge([rule], candidate: worse, comparison: regression, deployment: nil)
        XCTAssertEqual(verdict.status, .fail)
        let drop = try XCTUnwrap(verdict.outcomes[0].measured)
        XCTAssertEqual(drop, -(regression.metric(.accuracy).difference!))
        XCTAssertLessThan(regression.metric(.accuracy).p!, 0.05)
        // A drop within the allowance, or a demand for more significance than there is, passes.
        XCTAssertEqual(RegressionGate.judge([.noRegression(metric: .accuracy, maxDrop: drop, alpha: 0.05)],
                                            candidate: worse, comparison: regression, deployment: nil).status, .pass)
        XCTAssertEqual(RegressionGate.judge([.noRegression(metric: .accuracy, maxDrop: 0, alpha: regression.metric(.accuracy).p!)],
                                            candidate: worse, comparison: regression, deployment: nil).status, .pass)
        // Lower is better for the error rates: a higher FPE is a drop.
        let fpe = RegressionGate.judge([.noRegression(metric: .fpe, maxDrop: 0, alpha: 1)], candidate: worse,
                                       comparison: regression, deployment: nil)
        XCTAssertEqual(fpe.outcomes[0].measured, regression.metric(.fpe).difference)
        XCTAssertEqual(fpe.status, regression.metric(.fpe).difference! > 0 ? .fail : .pass)
    }

    func testFloorsCeilingsAndMisses() throws {
        let (e, comparison) = try inputs(candidate: "random.csv", baseline: "random_baseline.csv")
        let sensitivity = try XCTUnwrap(e.value(.sensitivity(.covid19)))
        let fne = try XCTUnwrap(e.value(.fne))
        func status(_ rule: GateRule) -> GateOutcome.Status {
            RegressionGate.judge([rule], candidate: e, comparison: comparison, deployment: nil).status
        }
        XCTAssertEqual(status(.minimum(metric: .sensitivity(.covid19), value: sensitivity)), .pass)
        XCTAssertEqual(status(.minimum(metric: .sensitivity(.covid19), value: sensitivity.nextUp)), .fail)
        XCTAssertEqual(status(.maximum(metric: .fne, value: fne)), .pass)
        XCTAssertEqual(status(.maximum(metric: .fne, value: fne.nextDown)), .fail)
        let covidMisses = comparison.rightToWrong.filter { $0.label == .covid19 }
        XCTAssertFalse(covidMisses.isEmpty, "the fixture has new COVID-19 misses")
        let misses = RegressionGate.judge([.noNewMisses(.covid19)], candidate: e, comparison: comparison, deployment: nil)
        XCTAssertEqual(misses.status, .fail)
        XCTAssertEqual(misses.outcomes[0].measured, Double(covidMisses.count))
        for flip in covidMisses { XCTAssertTrue(misses.outcomes[0].detail.contains(flip.patientID)) }
        let same = try Comparator.compare(baseline: StatsFixtures.set("random.csv"), candidate: StatsFixtures.set("random.csv"), options: options)
        XCTAssertEqual(RegressionGate.judge([.noNewMisses(.covid19)], candidate: e, comparison: same, deployment: nil).status, .pass)
    }

    func testDeploymentAgreement() throws {
        let set = try StatsFixtures.set("tiny.csv")
        let same = try Comparator.compare(baseline: set, candidate: set, options: options).agreement
        let other = try Comparator.compare(baseline: StatsFixtures.set("tiny_baseline.csv"), candidate: set, options: options).agreement
        let e = try Evaluator.evaluate(set, options: options)
        let rule = GateRule.deploymentAgreement(tolerance: 1e-4)
        XCTAssertEqual(RegressionGate.judge([rule], candidate: e, comparison: nil, deployment: same).status, .pass)
        let verdict = RegressionGate.judge([rule], candidate: e, comparison: nil, deployment: other)
        XCTAssertEqual(verdict.status, .fail)
        XCTAssertEqual(verdict.outcomes[0].measured, other.largestDifference?.absoluteDifference)
    }

    func testMissingInputsAndUndefinedFiguresAreErrorsAndFailuresWin() throws {
        let rare = try Evaluator.evaluate(StatsFixtures.set("rare.csv"), options: options)
        let verdict = RegressionGate.judge([.minimum(metric: .sensitivity(.cap), value: 0.5),
                                            .noRegression(metric: .accuracy, maxDrop: 0, alpha: 0.05),
                                            .deploymentAgreement(tolerance: 0)],
                                           candidate: rare, comparison: nil, deployment: nil)
        XCTAssertEqual(verdict.outcomes.map(\.status), [.error, .error, .error])
        XCTAssertEqual(verdict.status, .error)
        let failing = RegressionGate.judge([.minimum(metric: .sensitivity(.cap), value: 0.5), .minimum(metric: .accuracy, value: 1.1)],
                                           candidate: rare, comparison: nil, deployment: nil)
        XCTAssertEqual(failing.status, .fail)
        XCTAssertEqual(RegressionGate.judge([], candidate: rare, comparison: nil, deployment: nil).status, .pass)
    }

    func testDecodingRulesAndTheTemplate() throws {
        let json = """
        {"gates": [{"metric": "accuracy", "max_drop": 0.02, "alpha": 0.01}, {"metric": "auc.cap", "max_drop": 0.03},
                   {"metric": "sensitivity.covid19", "min": 0.9}, {"metric": "fne", "max": 0.05},
                   {"no_new_misses": "covid19"}, {"max_probability_difference": 0.0001}]}
        """
        let config = try JSONDecoder().decode(GateConfig.self, from: Data(json.utf8))
        XCTAssertEqual(config.gates, [.noRegression(metric: .accuracy, maxDrop: 0.02, alpha: 0.01),
                                      .noRegression(metric: .auc(.cap), maxDrop: 0.03, alpha: 0.05),
                                      .minimum(metric: .sensitivity(.covid19), value: 0.9), .maximum(metric: .fne, value: 0.05),
                                      .noNewMisses(.covid19), .deploymentAgreement(tolerance: 0.0001)])
        for bad in [#"{"metric": "accuracy"}"#, #"{"metric": "accuracy", "min": 0.5, "max": 0.9}"#,
                    #"{"metric": "recall", "min": 0.5}"#, #"{"no_new_misses": "flu"}"#, #"{"metric": "fne", "max_drop": -1}"#] {
            XCTAssertThrowsError(try JSONDecoder().decode(GateRule.self, from: Data(bad.utf8)), bad)
        }
        // Every `- {...}` rule of templates/nightly.yaml decodes (its flow mappings read as JSON).
        let template = try String(contentsOf: StatsFixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("templates/nightly.yaml"), encoding: .utf8)
        let gatesSection = try XCTUnwrap(template.components(separatedBy: "\ngates:\n").last)
        var rules: [String] = []
        for line in gatesSection.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("- {"), let close = t.firstIndex(of: "}") else { continue }
            let body = t[t.index(t.startIndex, offsetBy: 3)..<close]
            let pairs = body.split(separator: ",").map { pair -> String in
                let kv = pair.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                let value = Double(kv[1]) != nil ? kv[1] : "\"\(kv[1])\""
                return "\"\(kv[0])\": \(value)"
            }
            rules.append("{" + pairs.joined(separator: ", ") + "}")
        }
        XCTAssertGreaterThanOrEqual(rules.count, 5)
        let decoded = try JSONDecoder().decode([GateRule].self, from: Data(("[" + rules.joined(separator: ",") + "]").utf8))
        XCTAssertTrue(decoded.contains(.noNewMisses(.covid19)))
        XCTAssertTrue(decoded.contains(.deploymentAgreement(tolerance: 1e-4)))
    }
}
