import Foundation
import XCTest
@testable import Audit

/// The generator is a function of its options: same options, same patients, same pixels and
/// UIDs; another seed, other patients.
final class SynthDeterminismTests: XCTestCase {
    func testPlanFollowsMixAndArtifactRate() throws {
        var o = SynthTestSupport.options(patients: 20, seed: 11)
        o.mix = try SynthOptions.parseMix("healthy=0.5,covid19=0.2,h1n1=0.1,cap=0.2")
        o.artifactRate = 0.4
        let plan = try SyntheticCohort.plan(o)
        XCTAssertEqual(plan.map(\.id).first, "P0001")
        let counts = Diagnosis.allCases.map { d in plan.filter { $0.diagnosis == d }.count }
        XCTAssertEqual(counts, [10, 4, 2, 4])
        XCTAssertEqual(plan.filter { $0.diagnosis == .healthy && $0.motion != nil }.count, 4)
        XCTAssertEqual(plan.filter { $0.motion != nil }.count, 4 + 2 + 1 + 2)
        XCTAssertTrue(plan.filter { $0.diagnosis == .healthy }.allSatisfy { $0.severity == .none })
        XCTAssertTrue(plan.filter { $0.diagnosis != .healthy }.allSatisfy { $0.severity != .none })
        let again = try SyntheticCohort.plan(o)
        XCTAssertEqual(again.map(\.diagnosis), plan.map(\.diagnosis))
        XCTAssertEqual(again.map { $0.motion?.amplitude }, plan.map { $0.motion?.amplitude })
        o.seed = 12
        XCTAssertNotEqual(try SyntheticCohort.plan(o).map(\.diagnosis), plan.map(\.diagnosis))
    }

    func testMixParsingErrors() {
        XCTAssertThrowsError(try SynthOptions.parseMix("healthy=1,flu=2"))
        XCTAssertThrowsError(try SynthOptions.parseMix("healthy=-1"))
        XCTAssertThrowsError(try SynthOptions.parseMix("healthy=0"))
        XCTAssertEqual(try SynthOptions.parseMix("cap=3,healthy=1"), [0.25, 0, 0, 0.75])
        XCTAssertThrowsError(try ScannerProfile.named("scanner-z"))
    }

    func testSameSeedSamePixelsOtherSeedOtherPixels() throws {
        let o = SynthTestSupport.options(patients: 4, seed: 3)
        let plan = try SyntheticCohort.plan(o)
        let a = try SyntheticCohort.render(plan[1], options: o)
        let b = try SyntheticCohort.render(plan[1], options: o)
        XCTAssertEqual(a.volume.hu, b.volume.hu)
        XCTAssertEqual(a.truth, b.truth)
        XCTAssertEqual(a.record.seriesUID, b.record.seriesUID)
        var o2 = o
        o2.seed = 4
        let c = try SyntheticCohort.render(try SyntheticCohort.plan(o2)[1], options: o2)
        XCTAssertNotEqual(a.volume.hu.count == c.volume.hu.count ? a.volume.hu : [], c.volume.hu)
        XCTAssertNotEqual(a.record.seriesUID, c.record.seriesUID)
    }

    /// A cardiac-motion artifact is deterministic, and the same seed without it is the same
    /// patient: only some slices (those through the heart) differ.
    func testArtifactIsDeterministicAndOnlyAddsToTheSamePatient() throws {
        var o = SynthTestSupport.options(patients: 2, seed: 5)
        o.mix = [1, 0, 0, 0]
        o.artifactRate = 1
        let plan = try SyntheticCohort.plan(o)
        let motion = try XCTUnwrap(plan[0].motion)
        XCTAssertGreaterThan(motion.longitudinal, motion.amplitude, "through-plane motion drawn")
        let a = try SyntheticCohort.render(plan[0], options: o)
        let b = try SyntheticCohort.render(plan[0], options: o)
        XCTAssertEqual(a.volume.hu, b.volume.hu)
        XCTAssertEqual(a.truth, b.truth)
        var clean = o
        clean.artifactRate = 0
        let c = try SyntheticCohort.render(try SyntheticCohort.plan(clean)[0], options: clean)
        XCTAssertEqual(a.volume.hu.count, c.volume.hu.count)
        let processed = Set(try XCTUnwrap(a.record.artifact).slices)
        XCTAssertFalse(processed.isEmpty)
        let n2 = a.volume.rows * a.volume.columns
        var changed = 0
        for k in 0..<a.volume.slices {
            let same = a.volume.hu[(k * n2)..<((k + 1) * n2)] == c.volume.hu[(k * n2)..<((k + 1) * n2)]
            if !same { changed += 1 }
        }
        XCTAssertGreaterThan(changed, 0)
        XCTAssertLessThan(changed, a.volume.slices, "slices above and below the heart are untouched")
    }

    func testUIDsAreValidAndDistinct() {
        var seen = Set<String>()
        for i in 0..<500 {
            let uid = SyntheticUID.make([42, UInt64(i), 4])
            XCTAssertLessThanOrEqual(uid.count, 64, uid)
            XCTAssertTrue(uid.hasPrefix("2.25."), uid)
            let digits = uid.dropFirst(5)
            XCTAssertTrue(digits.allSatisfy(\.isNumber), uid)
            XCTAssertNotEqual(digits.first, "0", uid)
            seen.insert(uid)
        }
        XCTAssertEqual(seen.count, 500)
        XCTAssertEqual(SyntheticUID.make([1, 2]), SyntheticUID.make([1, 2]))
    }
}
