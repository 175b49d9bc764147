import Foundation
import XCTest
import Audit

/// `mlung-audit flags` end to end: a real run of the tiny model on DICOM, then the flags.
final class FlagsCLITests: XCTestCase {
    let model = CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors").path

    /// A test cohort of `patients` (6 slices each) in `dir`, run once with the tiny model into
    /// `dir/audit.sqlite` (run 1).
    func runTinyModel(in dir: URL, patients: Int) throws -> (manifest: URL, db: String) {
        let manifest = try TestCohort.write(to: dir, patients: patients, slices: 6)
        let db = dir.appendingPathComponent("audit.sqlite").path
        let run = try CLI.run(["run", "--cohort", manifest.path, "--model", model, "--db", db])
        XCTAssertEqual(run.status, 0, run.stderr)
        return (manifest, db)
    }

    func testFlagsAfterARunAreComputedStoredAndListed() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (manifest, db) = try runTinyModel(in: dir, patients: 4)

        let first = try CLI.run(["flags", "--run", "1", "--db", db, "--json", "--all"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["reused"] as? Bool, false)
        let patients = try XCTUnwrap(obj["patients"] as? [[String: Any]])
        XCTAssertEqual(patients.count, 4)
        for p in patients {
            XCTAssertEqual(p["status"] as? String, "ok", "\(p)")
            let m = try XCTUnwrap(p["measurements"] as? [String: Any])
            for flag in ["pulsatile_artifact", "crop_failure", "truncated_coverage", "metal", "hu_miscalibration", "low_confidence"] {
                XCTAssertNotNil(m[flag], "\(flag) measured for \(p["patientID"] ?? "")")
            }
            // The test phantom's every slice holds lung: coverage is truncated at both ends.
            let findings = try XCTUnwrap(p["findings"] as? [[String: Any]])
            XCTAssertTrue(findings.contains { $0["flag"] as? String == "truncated_coverage" }, "\(findings)")
        }
        let metrics = try XCTUnwrap(obj["metrics"] as? [String: Any])
        XCTAssertEqual(metrics["patients"] as? Int, 4)
        XCTAssertNotNil(metrics["accuracy"])

        // Stored: the second call reuses them; the store has the migration.
        let second = try CLI.run(["flags", "--run", "1", "--db", db])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("stored"), second.stdout)
        XCTAssertTrue(second.stdout.contains("truncated_coverage"), second.stdout)
        XCTAssertTrue(second.stdout.contains("accuracy:"), second.stdout)
        // The commented template holds exactly the defaults: the stored flags are reused.
        let template = CLI.fixtures.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("templates/flags.yaml").path
        let templated = try CLI.run(["flags", "--run", "1", "--db", db, "--config", template, "--json"])
        XCTAssertEqual(templated.status, 0, templated.stderr)
        let templatedObj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(templated.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(templatedObj["reused"] as? Bool, true, "templates/flags.yaml differs from the defaults")
        let store = try AuditStore(path: db)
        XCTAssertTrue(try store.appliedMigrations.contains("0003_flags"))
        XCTAssertEqual(try store.loadFlags(run: 1).count, 4)

        // A configuration changes the thresholds (and recomputes); a bad key is bad input.
        let yaml = dir.appendingPathComponent("flags.yaml")
        try "coverage:\n  maxEndSliceShare: 2.0\nenabled: [truncated_coverage, metal]\n".write(to: yaml, atomically: true, encoding: .utf8)
        let relaxed = try CLI.run(["flags", "--run", "1", "--db", db, "--config", yaml.path])
        XCTAssertEqual(relaxed.status, 0, relaxed.stderr)
        XCTAssertTrue(relaxed.stdout.contains("0 of 4 patients flagged"), relaxed.stdout)
        try "coverage:\n  maxEndShare: 2.0\n".write(to: yaml, atomically: true, encoding: .utf8)
        let bad = try CLI.run(["flags", "--run", "1", "--db", db, "--config", yaml.path])
        XCTAssertEqual(bad.status, 65)
        XCTAssertTrue(bad.stderr.contains("coverage.maxEndShare"), bad.stderr)

        // A second run of the same model against the first: no version flips.
        let again = try CLI.run(["run", "--cohort", manifest.path, "--model", model, "--db", db, "--new"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let flips = try CLI.run(["flags", "--run", "2", "--db", db, "--baseline", "1", "--json", "--all"])
        XCTAssertEqual(flips.status, 0, flips.stderr)
        let flipObj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(flips.stdout.utf8)) as? [String: Any])
        for p in try XCTUnwrap(flipObj["patients"] as? [[String: Any]]) {
            let findings = p["findings"] as? [[String: Any]] ?? []
            XCTAssertFalse(findings.contains { $0["flag"] as? String == "version_flip" }, "\(findings)")
            XCTAssertNotNil((p["measurements"] as? [String: Any])?["version_flip"])
        }

        let missing = try CLI.run(["flags", "--run", "9", "--db", db])
        XCTAssertEqual(missing.status, 74)
    }

    /// The pulsatile flag's counterfactual reads the run's weight file again: measured while the
    /// file is there; a note (and no counterfactual, no crash) once it moved or was replaced.
    func testFlagsCounterfactualNeedsTheRunsWeightFile() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("weights.safetensors")
        try FileManager.default.copyItem(atPath: model, toPath: weights.path)
        let manifest = try TestCohort.write(to: dir, patients: 2, slices: 6)
        let db = dir.appendingPathComponent("audit.sqlite").path
        let run = try CLI.run(["run", "--cohort", manifest.path, "--model", weights.path, "--db", db])
        XCTAssertEqual(run.status, 0, run.stderr)

        let present = try CLI.run(["flags", "--run", "1", "--db", db, "--json", "--all"])
        XCTAssertEqual(present.status, 0, present.stderr)
        XCTAssertFalse(present.stderr.contains("no counterfactual"), present.stderr)
        XCTAssertTrue(present.stdout.contains("healthy_without_heart"), present.stdout)

        try FileManager.default.removeItem(at: weights)
        let gone = try CLI.run(["flags", "--run", "1", "--db", db, "--recompute"])
        XCTAssertEqual(gone.status, 0, gone.stderr)
        XCTAssertTrue(gone.stderr.contains("no counterfactual") && gone.stderr.contains("is not there any more"), gone.stderr)

        try FileManager.default.copyItem(atPath: CLI.fixtures.appendingPathComponent("model/wide/weights.safetensors").path,
                                         toPath: weights.path)
        let replaced = try CLI.run(["flags", "--run", "1", "--db", db, "--recompute"])
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertTrue(replaced.stderr.contains("are not the ones run 1 used"), replaced.stderr)
    }

    /// Issue 7 item 4: the run's JSON export carries each patient's stored flags once they
    /// are computed (and none before), with undefined measurements as null.
    func testExportIncludesStoredFlags() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, db) = try runTinyModel(in: dir, patients: 3)

        // Before `flags`: no flag keys at all.
        let before = try CLI.run(["export", "--run", "1", "--db", db])
        XCTAssertEqual(before.status, 0, before.stderr)
        let b = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [String: Any])
        XCTAssertNil(b["flagRun"])
        for p in try XCTUnwrap(b["patients"] as? [[String: Any]]) { XCTAssertNil(p["flags"]) }

        let flags = try CLI.run(["flags", "--run", "1", "--db", db])
        XCTAssertEqual(flags.status, 0, flags.stderr)
        let after = try CLI.run(["export", "--run", "1", "--db", db, "--slices"])
        XCTAssertEqual(after.status, 0, after.stderr)
        let a = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        let flagRun = try XCTUnwrap(a["flagRun"] as? [String: Any])
        XCTAssertEqual(flagRun["runID"] as? Int, 1)
        XCTAssertTrue((flagRun["configJSON"] as? String ?? "").contains("pulsatile"))
        let stored = try AuditStore(path: db).loadFlags(run: 1)
        let patients = try XCTUnwrap(a["patients"] as? [[String: Any]])
        XCTAssertEqual(patients.count, 3)
        for p in patients {
            let pid = try XCTUnwrap(p["patientID"] as? String)
            let s = try XCTUnwrap(stored.first { $0.patientID == pid })
            let f = try XCTUnwrap(p["flags"] as? [String: Any], "flags of \(pid)")
            XCTAssertEqual(f["status"] as? String, s.status)
            let fired = try XCTUnwrap(f["fired"] as? [[String: Any]])
            XCTAssertEqual(fired.compactMap { $0["flag"] as? String }.sorted(), s.findings.map(\.flag.rawValue).sorted())
            // The tiny phantom has lung on every slice: truncated coverage fires, with its measurements.
            let coverage = try XCTUnwrap(fired.first { $0["flag"] as? String == "truncated_coverage" })
            XCTAssertNotNil((coverage["measurements"] as? [String: Any])?["first_slice_share"])
            XCTAssertTrue((coverage["summary"] as? String ?? "").hasPrefix("truncated_coverage"))
            let m = try XCTUnwrap(f["measurements"] as? [String: Any])
            let pulsatile = try XCTUnwrap(m["pulsatile_artifact"] as? [String: Any])
            XCTAssertNotNil(pulsatile["f_band"])
            // Every stored measurement is there; NaN ones as null.
            for (flag, list) in s.measurements {
                let e = try XCTUnwrap(m[flag] as? [String: Any], flag)
                for x in list {
                    if x.value.isFinite {
                        XCTAssertEqual((e[x.name] as? NSNumber)?.doubleValue ?? .nan, x.value, accuracy: 1e-9 * max(1, abs(x.value)))
                    } else {
                        XCTAssertTrue(e[x.name] is NSNull, "\(flag).\(x.name)")
                    }
                }
            }
            XCTAssertNotNil(p["slices"])
        }
    }
}
