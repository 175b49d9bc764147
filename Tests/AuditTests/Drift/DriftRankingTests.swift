import Foundation
import XCTest
@testable import Audit

/// The order of the top factors: input causes first, then outputs, then features; by effect /
/// minimum, ties by the standardised median shift.
final class DriftRankingTests: XCTestCase {
    func factor(_ id: String, _ group: DriftFactor.Group, effect: Double, minimum: Double, shift: Double? = nil,
                spread: Double = 1, p: Double = 1e-6) -> DriftFactor {
        var f = DriftFactor(id: id, group: group, name: id, unit: "", test: "ks_exact", effectName: "ks_d", effect: effect,
                            minimumEffect: minimum, verdict: .drift, description: id)
        f.pAdjusted = p
        if let shift {
            f.shift = shift
            f.reference = .init(n: 12, median: 0, q1: -spread / 2, q3: spread / 2, mean: 0)
            f.candidate = .init(n: 12, median: shift, q1: shift - spread / 2, q3: shift + spread / 2, mean: shift)
        }
        return f
    }

    func testCausesComeBeforeOutputsAndFeatures() {
        let ranked = DriftAnalyzer.rankContributors([
            factor("features.patient", .features, effect: 0.9, minimum: 0.01),        // severity 90
            factor("outputs.score_healthy", .outputs, effect: 1, minimum: 0.2),       // 5
            factor("image.edge_width", .image, effect: 0.6, minimum: 0.2, shift: 0.1),  // 3
            factor("metadata.kernel", .metadata, effect: 1, minimum: 0.1),            // 10
            factor("performance.accuracy", .performance, effect: 0.3, minimum: 0.05), // 6
        ]).map(\.id)
        XCTAssertEqual(ranked, ["metadata.kernel", "image.edge_width", "performance.accuracy", "outputs.score_healthy", "features.patient"])
    }

    func testTiesGoToTheLargerStandardisedShiftThenP() {
        let ranked = DriftAnalyzer.rankContributors([
            factor("image.hu_lung", .image, effect: 1, minimum: 0.2, shift: -20, spread: 30),   // 0.67 IQR
            factor("image.noise_index", .image, effect: 1, minimum: 0.2, shift: 9, spread: 2),   // 4.5 IQR
            factor("image.edge_width", .image, effect: 1, minimum: 0.2, shift: 0.4, spread: 0.2), // 2 IQR
            factor("image.hu_fat", .image, effect: 1, minimum: 0.2, shift: 0, spread: 0, p: 1e-3),
            factor("image.hu_air", .image, effect: 1, minimum: 0.2, shift: 0, spread: 0, p: 1e-5),
        ]).map(\.id)
        XCTAssertEqual(ranked, ["image.noise_index", "image.edge_width", "image.hu_lung", "image.hu_air", "image.hu_fat"])
    }
}
