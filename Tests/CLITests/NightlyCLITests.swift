import Foundation
import XCTest
import Audit
import Model

/// `mlung-audit nightly` end to end: a stored baseline run, tonight's rerun, the gates and the verdict.
final class NightlyCLITests: XCTestCase {
    let tiny = CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors")

    func json(_ s: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any] ?? [:]
    }

    func testNightlyGatesVerdictAndExitCodes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try TestCohort.write(to: dir, patients: 8)
        let db = dir.appendingPathComponent("audit.sqlite").path
        XCTAssertEqual(try CLI.run(["run", "--model", tiny.path, "--db", db, "--cohort", manifest.path, "--label", "accepted"]).status, 0)

        // What production logged: the accepted run's probabilities.
        let export = json(try CLI.run(["export", "--run", "1", "--db", db]).stdout)
        var csv = "patient_id,label,p_healthy,p_covid19,p_h1n1,p_cap\n"
        for p in try XCTUnwrap(export["patients"] as? [[String: Any]]) {
            csv += "\(p["patientID"] as? String ?? ""),,\(try XCTUnwrap(p["probs"] as? [Double]).map { String($0) }.joined(separator: ","))\n"
        }
        try csv.write(to: dir.appendingPathComponent("deployed.csv"), atomically: true, encoding: .utf8)

        func config(model: String, gates: String) throws -> String {
            let yaml = """
            model: \(model)
            store: audit.sqlite
            cohorts:
              - name: phantoms
                manifest: manifest.csv
                baseline_run: latest
                deployment_log: deployed.csv
            statistics: {seed: 7, bootstrap: 200}
            verdict: verdict.json
            gates:
            \(gates)
            """
            let url = dir.appendingPathComponent("nightly.yaml")
            try yaml.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }

        // Tonight's rerun of the same model reproduces the deployment log: every gate passes.
        let pass = try CLI.run(["nightly", "--config", try config(model: tiny.path, gates: """
              - {max_probability_difference: 1.0e-4}
              - {metric: accuracy, min: 0.0}
              - {no_new_misses: covid19}
            """)])
        XCTAssertEqual(pass.status, 0, pass.stderr)
        let verdict = json(pass.stdout)
        XCTAssertEqual(verdict["status"] as? String, "pass")
        let cohort = try XCTUnwrap((verdict["cohorts"] as? [[String: Any]])?.first)
        XCTAssertEqual(cohort["baselineRun"] as? Int, 1)
        XCTAssertEqual(cohort["run"] as? Int, 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("verdict.json").path))

        // An impossible floor fails the gate: exit 3, and the verdict says which gate.
        let fail = try CLI.run(["nightly", "--config", try config(model: tiny.path, gates: "  - {metric: accuracy, min: 1.01}")])
        XCTAssertEqual(fail.status, 3, fail.stderr)
        let failed = json(try String(contentsOf: dir.appendingPathComponent("verdict.json"), encoding: .utf8))
        XCTAssertEqual(failed["status"] as? String, "fail")

        // A configuration that misses a key is one error line naming the file and the key.
        let bad = dir.appendingPathComponent("bad.yaml")
        try "store: audit.sqlite\ncohorts: []\ngates: []\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = try CLI.run(["nightly", "--config", bad.path])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("bad.yaml") && r.stderr.contains("model"), r.stderr)
    }

    /// Subgroups and slice figures in the verdict, and a gate on the slice lesion head.
    func testNightlyVerdictHasSubgroupsAndSlices() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try TestCohort.write(to: dir, patients: 8)
        var labels = "patient_id,slice_index,lesion\n"
        for p in 0..<8 { for i in 0..<6 { labels += String(format: "P%03d", p) + ",\(i),\(p % 4 != 0 && i >= 3 ? 1 : 0)\n" } }
        try labels.write(to: dir.appendingPathComponent("slices.csv"), atomically: true, encoding: .utf8)
        func config(_ gates: String, subgroups: String = "[site]") throws -> String {
            let yaml = """
            model: \(tiny.path)
            store: audit.sqlite
            cohorts:
              - name: phantoms
                manifest: manifest.csv
                slice_labels: slices.csv
            statistics: {seed: 7, bootstrap: 200, subgroups: \(subgroups)}
            verdict: verdict.json
            gates:
            \(gates)
            """
            let url = dir.appendingPathComponent("nightly.yaml")
            try yaml.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let r = try CLI.run(["nightly", "--config", try config("  - {metric: slice.lesion.auc, min: 0.0}")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let cohort = try XCTUnwrap((json(r.stdout)["cohorts"] as? [[String: Any]])?.first)
        XCTAssertNotNil(cohort["accuracy"], "the existing keys stay")
        let split = try XCTUnwrap((cohort["subgroups"] as? [[String: Any]])?.first)
        XCTAssertEqual(split["spec"] as? String, "site")
        let groups = try XCTUnwrap(split["groups"] as? [[String: Any]])
        XCTAssertEqual(groups.map { $0["value"] as? String }, ["site-0", "site-1"])
        XCTAssertEqual(groups.map { $0["patients"] as? Int }, [4, 4])
        XCTAssertEqual(groups.map { $0["too_small"] as? Bool }, [true, true], "4 patients: too small to judge")
        let accuracy = try XCTUnwrap((groups[0]["metrics"] as? [String: Any])?["accuracy"] as? [String: Any])
        XCTAssertEqual(accuracy["method"] as? String, "wilson")
        XCTAssertNotNil(accuracy["interval"] as? [String: Any])
        XCTAssertEqual((accuracy["bootstrap"] as? [String: Any])?["resamples"] as? Int, 200)
        XCTAssertFalse((groups[0]["warnings"] as? [String] ?? []).isEmpty)
        let slices = try XCTUnwrap(cohort["slices"] as? [String: Any])
        XCTAssertEqual(slices["labelled"] as? Int, 48)
        XCTAssertEqual(slices["lesion_slices"] as? Int, 18)
        let auc = try XCTUnwrap((slices["metrics"] as? [String: Any])?["slice.lesion.auc"] as? [String: Any])
        XCTAssertEqual(auc["method"] as? String, "delong")
        XCTAssertNotNil((cohort["metrics"] as? [String: Any])?["sensitivity.covid19"])

        // An impossible slice floor fails the gate (exit 3); an unknown subgroup column is a
        // configuration error found before any run (exit 65).
        let fail = try CLI.run(["nightly", "--config", try config("  - {metric: slice.lesion.sensitivity, min: 1.01}")])
        XCTAssertEqual(fail.status, 3, fail.stderr)
        let bad = try CLI.run(["nightly", "--config", try config("  - {metric: accuracy, min: 0}", subgroups: "[scanner]")])
        XCTAssertEqual(bad.status, 65, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("scanner"), bad.stderr)
        XCTAssertFalse(bad.stderr.contains("run "), "no run before the configuration is checked: \(bad.stderr)")
    }
}
