import Foundation
import XCTest
@testable import Audit

/// Properties of the bootstrap and the comparisons that need no reference numbers:
/// determinism, independence of row order, identical sets, coverage and speed.
final class StatisticsBootstrapTests: XCTestCase {
    /// A synthetic cohort from the audit's own generator: labels with the given class
    /// frequencies, probabilities a softmax of noise plus `signal` on the true class.
    static func synthetic(patients n: Int, seed: UInt64, signal: Double = 1.5) -> PredictionSet {
        var rng = Xoshiro256StarStar(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        func normal() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()) }
        let patients = (0..<n).map { i -> PatientPrediction in
            let label = Diagnosis(rawValue: rng.index(below: 4))!
            var z = (0..<4).map { _ in normal() }
            z[label.rawValue] += signal * (0.5 + uniform())
            let m = z.max()!, e = z.map { exp($0 - m) }, s = e.reduce(0, +)
            return PatientPrediction(patientID: String(format: "S%05d", i), label: label, probabilities: e.map { $0 / s },
                                     metadata: ["site": ["A", "B"][i % 2]])
        }
        return PredictionSet(source: "synthetic", metadataColumns: ["site"], patients: patients)
    }

    func testSameSeedSameResultsDifferentSeedDifferentIntervals() throws {
        let set = try StatsFixtures.set("random.csv")
        let options = StatisticsOptions(seed: 99, resamples: 300)
        let a = try Evaluator.evaluate(set, options: options), b = try Evaluator.evaluate(set, options: options)
        XCTAssertEqual(a, b)
        var other = options
        other.seed = 100
        let c = try Evaluator.evaluate(set, options: other)
        XCTAssertNotEqual(a.accuracy.bootstrap, c.accuracy.bootstrap)
        XCTAssertEqual(a.accuracy.wilson, c.accuracy.wilson)
        XCTAssertEqual(a.classes[1].auc.delong, c.classes[1].auc.delong)
    }

    func testRowOrderDoesNotMatter() throws {
        var set = try StatsFixtures.set("random.csv")
        let options = StatisticsOptions(resamples: 200)
        let a = try Evaluator.evaluate(set, options: options)
        var rng = Xoshiro256StarStar(seed: 3)
        set.patients.shuffle(using: &rng)
        XCTAssertEqual(try Evaluator.evaluate(set, options: options), a)
        let baseline = try StatsFixtures.set("random_baseline.csv")
        let r1 = try Comparator.compare(baseline: baseline, candidate: set, options: options)
        set.patients.shuffle(using: &rng)
        XCTAssertEqual(try Comparator.compare(baseline: baseline, candidate: set, options: options), r1)
    }

    func testBootstrapOffLeavesOnlyExactIntervals() throws {
        let e = try Evaluator.evaluate(try StatsFixtures.set("tiny.csv"), options: StatisticsOptions(resamples: 0))
        XCTAssertNil(e.accuracy.bootstrap)
        XCTAssertNil(e.classes[0].auc.bootstrap)
        XCTAssertNotNil(e.accuracy.wilson)
        XCTAssertTrue(e.notes.contains { $0.contains("bootstrap off") })
        XCTAssertThrowsError(try Evaluator.evaluate(try StatsFixtures.set("tiny.csv"), options: StatisticsOptions(resamples: -1)))
    }

    func testUnlabelledSetHasNoFiguresButANote() throws {
        let e = try Evaluator.evaluate(try StatsFixtures.set("tiny_baseline.csv"), options: StatisticsOptions(resamples: 100))
        XCTAssertEqual(e.labelled, 0)
        XCTAssertEqual(e.patients, 12)
        XCTAssertNil(e.accuracy.value)
        XCTAssertNil(e.accuracy.wilson)
        XCTAssertNil(e.accuracy.bootstrap)
        XCTAssertNil(e.calibration.brier.value)
        XCTAssertTrue(e.classes.allSatisfy { $0.auc.value == nil && $0.roc.isEmpty })
        XCTAssertTrue(e.notes.contains { $0.contains("12 of 12 patients have no label") }, "\(e.notes)")
        XCTAssertTrue(e.warnings.isEmpty)
        XCTAssertNoThrow(try EvaluationReport(evaluation: e).jsonData())
    }

    func testASetComparedWithItselfShowsNoDifference() throws {
        let set = try StatsFixtures.set("random.csv")
        let r = try Comparator.compare(baseline: set, candidate: set, options: StatisticsOptions(resamples: 200))
        for m in r.metrics {
            XCTAssertEqual(m.difference, 0, m.metric.name)
            XCTAssertEqual(m.p, 1, m.metric.name)
        }
        XCTAssertEqual(r.mcnemar?.p, 1)
        XCTAssertEqual(r.mcnemar?.discordant, 0)
        for t in r.delong { XCTAssertEqual(t.z, 0); XCTAssertEqual(t.p, 1) }
        XCTAssertTrue(r.flips.isEmpty)
        XCTAssertEqual(r.agreement.largestDifference?.absoluteDifference, 0)
        XCTAssertEqual(r.agreement.kappa, 1)
        XCTAssertTrue(r.agreement.disagreeing.isEmpty)
    }

    func testMismatchedCohortsAreRejected() throws {
        let set = try StatsFixtures.set("tiny.csv")
        var fewer = set
        fewer.patients.removeLast()
        XCTAssertThrowsError(try Comparator.compare(baseline: fewer, candidate: set)) { error in
            XCTAssertTrue("\(error)".contains("not in the baseline: '\(set.patients.last!.patientID)'"), "\(error)")
        }
        var relabelled = set
        relabelled.patients[0].label = relabelled.patients[0].label == .cap ? .healthy : .cap
        XCTAssertThrowsError(try Comparator.compare(baseline: relabelled, candidate: set)) { error in
            XCTAssertTrue("\(error)".contains("patient '\(set.patients[0].patientID)' is labelled"), "\(error)")
        }
    }

    /// The 95% bootstrap interval of accuracy covers the true accuracy about 95% of the time.
    /// The truth is the accuracy on a population of 200 000 patients; 200 cohorts of 150.
    func testAccuracyIntervalCoverage() throws {
        let population = Self.synthetic(patients: 200_000, seed: 11)
        let truth = Double(population.patients.filter { $0.isCorrect! }.count) / Double(population.patients.count)
        var covered = 0, wilsonCovered = 0
        let trials = 200
        for t in 0..<trials {
            let start = t * 150
            let cohort = PredictionSet(source: "c\(t)", patients: Array(population.patients[start..<start + 150]))
            let e = try Evaluator.evaluate(cohort, options: StatisticsOptions(seed: UInt64(t), resamples: 400))
            if let b = e.accuracy.bootstrap, b.lower <= truth && truth <= b.upper { covered += 1 }
            if let w = e.accuracy.wilson, w.contains(truth) { wilsonCovered += 1 }
        }
        // Binomial(200, 0.95) lies in [178, 200] with probability > 0.9999.
        XCTAssertGreaterThanOrEqual(covered, 178, "bootstrap coverage \(covered)/\(trials)")
        XCTAssertGreaterThanOrEqual(wilsonCovered, 178, "Wilson coverage \(wilsonCovered)/\(trials)")
        XCTAssertLessThan(covered, trials, "an interval that always covers is too wide")
    }

    /// 2000 resamples of 1000 patients: well under a second in release (the bound here allows
    /// for debug builds).
    func testBootstrapSpeed() throws {
        let set = Self.synthetic(patients: 1000, seed: 5)
        let start = DispatchTime.now().uptimeNanoseconds
        let e = try Evaluator.evaluate(set, options: StatisticsOptions(resamples: 2000))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("evaluate: 1000 patients, 2000 resamples: \(String(format: "%.3f", seconds)) s")
        XCTAssertEqual(e.accuracy.bootstrap?.resamples, 2000)
        #if DEBUG
        XCTAssertLessThan(seconds, 20)
        #else
        XCTAssertLessThan(seconds, 1)
        #endif
    }
}
