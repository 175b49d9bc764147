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

    /// The new scanner of these tests: 2.2x the noise and 30 HU offset.
    static func newScanner(_ base: DriftPhantomCohort.Acquisition) -> DriftPhantomCohort.Acquisition {
        var shifted = base
        shifted.noise = 2.2 * base.noise
        shifted.huOffset = 30
        return shifted
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
        let shifted = Self.newScanner(base)
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

    /// `drift --candidate-manifest M --model W`: runs the model on the new cohort into the
    /// store first, then compares; a rerun reuses the finished run.
    func testShortcutRunsTheCandidateThenReusesItsRun() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("audit.sqlite").path
        let base = DriftPhantomCohort.Acquisition()
        let shifted = Self.newScanner(base)
        try run(try DriftPhantomCohort.write(to: dir.appendingPathComponent("ref"), patients: 12, acquisition: base, seed: 1), db: db)
        let same = try DriftPhantomCohort.write(to: dir.appendingPathComponent("same"), patients: 12, acquisition: base, seed: 2)
        let new = try DriftPhantomCohort.write(to: dir.appendingPathComponent("new"), patients: 12, acquisition: shifted, seed: 3)
        func shortcut(_ manifest: URL, _ extra: [String] = []) throws -> (CLI.Result, [String: Any]) {
            let r = try CLI.run(["drift", "--reference", "1", "--candidate-manifest", manifest.path, "--model", model,
                                 "--db", db, "--json"] + extra)
            return (r, (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:])
        }
        func runCount() throws -> Int {
            let r = try CLI.run(["runs", "--db", db, "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
            return (obj as? [Any])?.count ?? ((obj as? [String: Any])?["runs"] as? [Any])?.count ?? -1
        }

        // Same protocol: the candidate is run (run 2), no drift.
        let (first, firstReport) = try shortcut(same)
        XCTAssertEqual(first.status, 0, "\(firstReport["top_factors"] ?? "") \(first.stderr)")
        XCTAssertEqual(firstReport["overall"] as? String, "no_drift")
        XCTAssertEqual((firstReport["candidate"] as? [String: Any])?["id"] as? Int, 2)
        XCTAssertEqual((firstReport["candidate"] as? [String: Any])?["patients"] as? Int, 12)
        XCTAssertTrue(first.stderr.contains("candidate: run 2: 12 ok"), first.stderr)
        XCTAssertEqual(try runCount(), 2)

        // Again: the finished run is reused, nothing is rerun, the report is the same.
        let (again, againReport) = try shortcut(same)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("reusing finished run 2"), again.stderr)
        XCTAssertEqual((againReport["candidate"] as? [String: Any])?["id"] as? Int, 2)
        XCTAssertEqual(try runCount(), 2)
        XCTAssertEqual(firstReport["factors"] as? NSArray, againReport["factors"] as? NSArray)
        // The same report as `drift --candidate 2`.
        let (plain, plainReport) = try drift(1, 2, db: db)
        XCTAssertEqual(plain.status, 0)
        XCTAssertEqual(plainReport["factors"] as? NSArray, firstReport["factors"] as? NSArray)

        // Another label: a new run (3) of the same cohort, reusing the stored slice outputs.
        let (labelled, labelledReport) = try shortcut(same, ["--label", "site-2"])
        XCTAssertEqual(labelled.status, 0, labelled.stderr)
        XCTAssertEqual((labelledReport["candidate"] as? [String: Any])?["id"] as? Int, 3)
        XCTAssertTrue(labelled.stderr.contains("12 reused slice outputs"), labelled.stderr)

        // A shifted cohort: run 4, drift detected and attributed, text report too.
        let (shift, report) = try shortcut(new)
        XCTAssertTrue([10, 11].contains(shift.status), "exit \(shift.status): \(shift.stderr)")
        XCTAssertEqual((report["candidate"] as? [String: Any])?["id"] as? Int, 4)
        XCTAssertEqual(verdicts(report)["image.noise_index"], "drift")
        let ids = report["top_factor_ids"] as? [String] ?? []
        XCTAssertEqual(ids.count, (report["top_factors"] as? [String])?.count)
        XCTAssertTrue(ids.contains("image.noise_index"), "\(ids)")
        XCTAssertTrue(["metadata", "image"].contains(ids.first?.split(separator: ".").first.map(String.init) ?? ""),
                      "input causes are named first: \(ids)")
        let text = try CLI.run(["drift", "--reference", "1", "--candidate-manifest", new.path, "--model", model, "--db", db])
        XCTAssertEqual(text.status, shift.status)
        XCTAssertTrue(text.stdout.contains("Verdict:"), text.stdout)
        XCTAssertTrue(text.stdout.contains("candidate run 4"), text.stdout)

        // Usage and input errors.
        XCTAssertEqual(try CLI.run(["drift", "--reference", "1", "--db", db]).status, 64)
        XCTAssertEqual(try CLI.run(["drift", "--reference", "1", "--candidate", "2", "--candidate-manifest", same.path,
                                    "--model", model, "--db", db]).status, 64)
        XCTAssertEqual(try CLI.run(["drift", "--reference", "1", "--candidate-manifest", same.path, "--db", db]).status, 64)
        XCTAssertEqual(try CLI.run(["drift", "--reference", "1", "--candidate", "2", "--model", model, "--db", db]).status, 64)
        XCTAssertEqual(try shortcut(dir.appendingPathComponent("missing.csv")).0.status, 65)
        XCTAssertEqual(try CLI.run(["drift", "--reference", "1", "--candidate-manifest", same.path, "--model",
                                    dir.appendingPathComponent("none.safetensors").path, "--db", db]).status, 65)
        XCTAssertEqual(try CLI.run(["drift", "--reference", "9", "--candidate-manifest", same.path, "--model", model, "--db", db]).status, 65)
        XCTAssertEqual(try runCount(), 4, "no run was started by the failing commands")
    }
}
