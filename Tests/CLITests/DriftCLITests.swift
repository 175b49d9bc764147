import Foundation
import XCTest
import Audit

/// `mlung-audit drift` end to end: phantom cohorts written as DICOM, run with the tiny model
/// through the built binary, then compared.
final class DriftCLITests: XCTestCase {
    let model = CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors").path

    func run(_ manifest: URL, db: String) throws {
        let r = try CLI.run(["run", "--cohort", manifest.path, "--model", model, "--db", db, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func drift(_ reference: Int, _ candidate: Int, db: String, extra: [String] = []) throws -> (CLI.Result, [String: Any]) {
        let r = try CLI.run(["drift", "--reference", "\(reference)", "--candidate", "\(candidate)", "--db", db, "--json"] + extra)
        let obj = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        return (r, obj)
    }

    func verdicts(_ report: [String: Any]) -> [String: String] {
        var v: [String: String] = [:]
        for f in report["factors"] as? [[String: Any]] ?? [] { v[f["id"] as! String] = f["verdict"] as? String }
        return v
    }

    func testDriftDetectsNoiseAndOffsetAndStaysQuietOnTheSameProtocol() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("audit.sqlite").path
        let base = DriftPhantomCohort.Acquisition()
        var shifted = base
        shifted.noise = 2.2 * base.noise
        shifted.huOffset = 30
        try run(try DriftPhantomCohort.write(to: dir.appendingPathComponent("ref"), patients: 12, acquisition: base, seed: 1), db: db)
        try run(try DriftPhantomCohort.write(to: dir.appendingPathComponent("same"), patients: 12, acquisition: base, seed: 2), db: db)
        try run(try DriftPhantomCohort.write(to: dir.appendingPathComponent("new"), patients: 12, acquisition: shifted, seed: 3), db: db)

        // Same protocol, other patients: no alarm.
        let (same, sameReport) = try drift(1, 2, db: db)
        XCTAssertEqual(same.status, 0, "same-protocol pair alarmed: \(sameReport["top_factors"] ?? "") \(same.stderr)")
        XCTAssertEqual(sameReport["overall"] as? String, "no_drift")
        XCTAssertEqual(sameReport["schema"] as? String, "mlung-audit/drift/1")

        // Noise x2.2 and +30 HU: detected and attributed.
        let (shift, report) = try drift(1, 3, db: db)
        XCTAssertTrue([10, 11].contains(shift.status), "exit \(shift.status): \(shift.stderr)")
        let v = verdicts(report)
        XCTAssertEqual(v["image.noise_index"], "drift", "\(report["top_factors"] ?? "")")
        XCTAssertEqual(v["image.hu_air"], "drift")
        XCTAssertEqual(v["image.hu_fat"], "drift")
        XCTAssertEqual(v["metadata.kernel"], "stable", "the kernel tag did not change")
        XCTAssertEqual(v["metadata.slice_thickness"], "stable")
        let top = (report["top_factors"] as? [String] ?? []).joined(separator: "; ")
        XCTAssertTrue(top.contains("noise index"), top)
        XCTAssertTrue(top.contains("outside air"), top)
        XCTAssertEqual(report["overall"] as? String, shift.status == 10 ? "input_drift" : "output_drift")

        // Text output, and a config override that silences the image factors.
        let text = try CLI.run(["drift", "--reference", "1", "--candidate", "3", "--db", db])
        XCTAssertTrue(text.stdout.contains("Verdict:"), text.stdout)
        XCTAssertTrue(text.stdout.contains("noise index"), text.stdout)
        let config = dir.appendingPathComponent("drift.yaml")
        try "alpha: 0.01\nfactors:\n  image.noise_index: {enabled: false}\n".write(to: config, atomically: true, encoding: .utf8)
        let (_, quiet) = try drift(1, 3, db: db, extra: ["--config", config.path])
        XCTAssertNil(verdicts(quiet)["image.noise_index"])
        XCTAssertEqual((quiet["config"] as? [String: Any])?["alpha"] as? Double, 0.01)

        // Bad input: an unknown run and a malformed config are exit 65.
        XCTAssertEqual(try drift(1, 99, db: db).0.status, 65)
        try "alpha: [".write(to: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try drift(1, 3, db: db, extra: ["--config", config.path]).0.status, 65)
    }
}
