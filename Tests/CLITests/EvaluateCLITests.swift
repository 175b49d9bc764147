import Foundation
import XCTest

/// `mlung-audit evaluate` end to end through the built binary, against the references in
/// Tests/Fixtures/stats/expected.json (tools/stats_make_fixtures.py).
final class EvaluateCLITests: XCTestCase {
    let stats = CLI.fixtures.appendingPathComponent("stats")

    func path(_ name: String) -> String { stats.appendingPathComponent(name).path }

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Relative 1e-9 (JSONSerialization may round the last bit of a number on Linux).
    func assertClose(_ a: Any?, _ b: Any?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        if a is NSNull || a == nil || b is NSNull || b == nil {
            XCTAssertTrue((a is NSNull || a == nil) && (b is NSNull || b == nil), "\(what): \(String(describing: a)) vs \(String(describing: b))", file: file, line: line)
            return
        }
        let x = (a as! NSNumber).doubleValue, y = (b as! NSNumber).doubleValue
        XCTAssertLessThanOrEqual(abs(x - y), 1e-9 * abs(y) + 1e-12, "\(what): \(x) vs \(y)", file: file, line: line)
    }

    func testJSONReportMatchesTheReferences() throws {
        let expected = try json(String(contentsOf: stats.appendingPathComponent("expected.json"), encoding: .utf8))
        let seed = "\(expected["seed"]!)", resamples = "\(expected["resamples"]!)"
        let r = try CLI.run(["evaluate", "--predictions", path("random.csv"), "--baseline-predictions", path("random_baseline.csv"),
                             "--json", "--seed", seed, "--bootstrap", resamples, "--subgroup", "site", "age:40,65"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        let report = try json(r.stdout)
        XCTAssertEqual(report["schema"] as? String, "mlung-audit/evaluation/1")
        let x = ((expected["cases"] as! [String: Any])["random"] as! [String: Any])
        let xe = x["evaluation"] as! [String: Any]
        let e = report["evaluation"] as! [String: Any]
        XCTAssertEqual(e["labelled"] as? Int, xe["labelled"] as? Int)
        XCTAssertEqual((e["settings"] as! [String: Any])["seed"] as? Int, expected["seed"] as? Int)
        for key in ["accuracy", "fpe", "fne", "fdpe"] {
            let a = e[key] as! [String: Any], b = xe[key] as! [String: Any]
            XCTAssertEqual(a["count"] as? Int, b["count"] as? Int, key)
            XCTAssertEqual(a["total"] as? Int, b["total"] as? Int, key)
            assertClose(a["value"], b["value"], key)
            let wa = a["wilson"] as! [String: Any], wb = b["wilson"] as! [Any]
            assertClose(wa["lower"], wb[0], key + " Wilson")
            assertClose(wa["upper"], wb[1], key + " Wilson")
            let ba = a["bootstrap"] as! [String: Any], bb = b["bootstrap"] as! [Any]
            assertClose(ba["lower"], bb[0], key + " bootstrap")
            assertClose(ba["upper"], bb[1], key + " bootstrap")
            XCTAssertEqual(ba["resamples"] as? Int, bb[2] as? Int, key)
        }
        let classes = e["classes"] as! [[String: Any]], xclasses = xe["classes"] as! [[String: Any]]
        XCTAssertEqual(classes.map { $0["class"] as? String }, ["healthy", "covid19", "h1n1", "cap"])
        for (c, xc) in zip(classes, xclasses) {
            let auc = c["auc"] as! [String: Any], xauc = xc["auc"] as! [String: Any]
            assertClose(auc["value"], xauc["value"], "AUC")
            let d = auc["delong"] as! [String: Any], xd = xauc["delong"] as! [Any]
            assertClose(d["lower"], xd[0], "DeLong")
            assertClose(d["upper"], xd[1], "DeLong")
            let roc = c["roc"] as! [[String: Any]]
            XCTAssertTrue(roc.first?["threshold"] is NSNull, "the (0, 0) point has threshold null (+inf)")
            XCTAssertEqual(roc.count, ((xc["roc"] as! [String: Any])["fpr"] as! [Any]).count)
        }
        assertClose((e["calibration"] as! [String: Any]).value("brier", "value"), (xe["brier"] as! [String: Any])["value"], "Brier")
        assertClose((e["calibration"] as! [String: Any]).value("ece", "value"), (xe["ece"] as! [String: Any])["value"], "ECE")

        let cmp = report["comparison"] as! [String: Any], xc = x["comparison"] as! [String: Any]
        let mc = cmp["mcnemar"] as! [String: Any], xmc = xc["mcnemar"] as! [String: Any]
        XCTAssertEqual(mc["method"] as? String, xmc["method"] as? String)
        assertClose(mc["p"], xmc["p"], "McNemar p")
        for m in cmp["metrics"] as! [[String: Any]] {
            let name = m["metric"] as! String
            let xm = (xc["metrics"] as! [String: Any])[name] as! [String: Any]
            assertClose(m["difference"], xm["difference"], name + " difference")
            assertClose(m["p"], xm["p"], name + " p")
        }
        for (t, xt) in zip(cmp["delong"] as! [[String: Any]], xc["delong"] as! [[String: Any]]) {
            assertClose(t["z"], xt["z"], "DeLong z")
            assertClose(t["p"], xt["p"], "DeLong p")
        }
        XCTAssertEqual((cmp["flips"] as! [[String: Any]]).map { $0["patient_id"] as! String },
                       (xc["flips"] as! [[String: Any]]).map { $0["patient_id"] as! String })
        XCTAssertEqual((cmp["agreement"] as! [String: Any]).value("largest_difference", "patient_id") as? String,
                       (xc["agreement"] as! [String: Any]).value("largest", "patient_id") as? String)

        let subgroups = report["subgroups"] as! [[String: Any]]
        XCTAssertEqual(subgroups.map { $0["spec"] as? String }, ["site", "age:40,65"])
        let xs = (x["subgroups"] as! [[String: Any]])[0]["groups"] as! [[String: Any]]
        let groups = subgroups[0]["groups"] as! [[String: Any]]
        XCTAssertEqual(Set(groups.map { $0["value"] as! String }), Set(xs.map { $0["value"] as! String }))
        for g in groups {
            let xg = xs.first { $0["value"] as? String == g["value"] as? String }!
            XCTAssertEqual(g["patients"] as? Int, xg["patients"] as? Int)
            XCTAssertEqual(g["too_small"] as? Bool, !(xg["warning_classes"] as! [Any]).isEmpty)
        }
        XCTAssertNotNil(report["baseline"] as? [String: Any])
    }

    func testUndefinedFiguresAreNullNotMissing() throws {
        let r = try CLI.run(["evaluate", "--predictions", path("rare.csv"), "--json", "--bootstrap", "50"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try json(r.stdout)["evaluation"] as! [String: Any]
        let cap = (e["classes"] as! [[String: Any]])[3]
        let auc = cap["auc"] as! [String: Any]
        XCTAssertTrue(auc["value"] is NSNull, "cap is absent: AUC null")
        XCTAssertTrue(auc["delong"] is NSNull)
        XCTAssertTrue((cap["sensitivity"] as! [String: Any])["wilson"] is NSNull)
        XCTAssertTrue((cap["roc"] as! [Any]).isEmpty)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertTrue(json["comparison"] is NSNull)
        XCTAssertFalse((e["notes"] as! [String]).isEmpty)
    }

    func testTextReportAndDeterminism() throws {
        let args = ["evaluate", "--predictions", path("tiny.csv"), "--baseline-predictions", path("tiny_baseline.csv"), "--bootstrap", "300"]
        let r = try CLI.run(args)
        XCTAssertEqual(r.status, 0, r.stderr)
        for needle in ["accuracy", "AUC covid19", "confusion matrix", "reliability", "McNemar (accuracy)", "exact binomial",
                       "DeLong AUC", "flips:", "agreement:"] {
            XCTAssertTrue(r.stdout.contains(needle), "text output should contain \(needle):\n\(r.stdout)")
        }
        XCTAssertEqual(try CLI.run(args).stdout, r.stdout, "same seed, same output")
        let other = try CLI.run(args + ["--seed", "1"])
        XCTAssertNotEqual(other.stdout, r.stdout, "another seed changes the bootstrap intervals")
    }

    func expectBadInput(_ args: [String], status: Int32 = 65, mentioning needles: [String],
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.run(args)
        XCTAssertEqual(r.status, status, "exit status; stderr: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stdout, "", "no report", file: file, line: line)
        if status == 65 {
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one-line error, got: \(r.stderr)", file: file, line: line)
        }
        for needle in needles {
            XCTAssertTrue(r.stderr.contains(needle), "\(r.stderr) should mention \(needle)", file: file, line: line)
        }
    }

    func testBadInputsGiveOneLineErrors() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.csv")
        try "patient_id,label,p_healthy,p_covid19,p_h1n1,p_cap\na,healthy,0.7,0.1,0.1,0.1\nb,covid19,0.7,zero,0.1,0.1\n"
            .write(to: bad, atomically: true, encoding: .utf8)
        try expectBadInput(["evaluate", "--predictions", bad.path], mentioning: [bad.path + ":3:", "p_covid19", "'zero'"])
        let sum = dir.appendingPathComponent("sum.csv")
        try "patient_id,label,p_healthy,p_covid19,p_h1n1,p_cap\na,healthy,0.7,0.1,0.1,0.2\n".write(to: sum, atomically: true, encoding: .utf8)
        try expectBadInput(["evaluate", "--predictions", sum.path, "--json"], mentioning: [sum.path + ":2:", "sum to"])
        try expectBadInput(["evaluate", "--predictions", "/nonexistent/p.csv"], mentioning: ["/nonexistent/p.csv"])
        try expectBadInput(["evaluate", "--predictions", path("tiny.csv"), "--baseline-predictions", path("ties.csv")],
                           mentioning: ["not in the baseline"])
        try expectBadInput(["evaluate", "--predictions", path("tiny.csv"), "--subgroup", "site"], mentioning: ["no column 'site'"])
        try expectBadInput(["evaluate", "--predictions", path("random.csv"), "--subgroup", "sex:1,2"], mentioning: ["not a number"])
        try expectBadInput(["evaluate", "--predictions", path("tiny.csv"), "--bootstrap", "-1"], status: 64, mentioning: ["--bootstrap"])
    }
}

extension EvaluateCLITests {
    /// `evaluate --run R --slice-labels FILE`: the slice lesion head against labels joined by
    /// slice_index (with z_mm checked) and by instance_number (read back from the DICOM), the
    /// AUC recomputed here from `export --slices`, and the bad-input paths.
    func testSliceLabelsOfAStoredRun() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try TestCohort.write(to: dir, patients: 8)
        let db = dir.appendingPathComponent("audit.sqlite").path
        let tiny = CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors")
        XCTAssertEqual(try CLI.run(["run", "--model", tiny.path, "--db", db, "--cohort", manifest.path]).status, 0)
        let export = try json(try CLI.run(["export", "--run", "1", "--db", db, "--slices"]).stdout)
        var byIndex = "patient_id,slice_index,lesion,class,z_mm\n", byInstance = "patient_id,instance_number,lesion\n"
        var scores: [(Double, Bool)] = [], lesionCalls = 0, positives = 0
        let labels = ["healthy", "covid19", "h1n1", "cap"]
        for (p, patient) in try XCTUnwrap(export["patients"] as? [[String: Any]]).enumerated() {
            let id = try XCTUnwrap(patient["patientID"] as? String)
            for slice in try XCTUnwrap(patient["slices"] as? [[String: Any]]) {
                let i = try XCTUnwrap(slice["index"] as? Int), z = try XCTUnwrap(slice["position"] as? Double)
                let probs = try XCTUnwrap(slice["lesionProbs"] as? [Double])
                let lesion = p % 4 != 0 && i >= 3
                byIndex += "\(id),\(i),\(lesion ? 1 : 0),\(lesion ? labels[p % 4] : "healthy"),\(z)\n"
                byInstance += "\(id),\(i + 1),\(lesion ? "yes" : "no")\n"   // instance 1 is the lowest slice here
                scores.append((probs[1], lesion))
                if lesion { positives += 1; if probs[1] > probs[0] { lesionCalls += 1 } }
            }
        }
        var pairs = 0.0, wins = 0.0
        for (s, l) in scores where l { for (t, m) in scores where !m { pairs += 1; wins += s > t ? 1 : s == t ? 0.5 : 0 } }
        let indexFile = dir.appendingPathComponent("slices.csv"), instanceFile = dir.appendingPathComponent("instances.csv")
        try byIndex.write(to: indexFile, atomically: true, encoding: .utf8)
        try byInstance.write(to: instanceFile, atomically: true, encoding: .utf8)

        let base = ["evaluate", "--run", "1", "--db", db, "--bootstrap", "200", "--seed", "3"]
        let r = try CLI.run(base + ["--slice-labels", indexFile.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let slices = try XCTUnwrap(try json(r.stdout)["slices"] as? [String: Any])
        XCTAssertEqual(slices["labelled"] as? Int, 48)
        XCTAssertEqual(slices["patients"] as? Int, 8)
        XCTAssertEqual(slices["join"] as? String, "slice_index")
        let lesion = try XCTUnwrap(slices["lesion"] as? [String: Any])
        XCTAssertEqual(lesion["positives"] as? Int, positives)
        XCTAssertEqual((lesion["sensitivity"] as? [String: Any])?["count"] as? Int, lesionCalls)
        let auc = try XCTUnwrap(lesion["auc"] as? [String: Any])
        assertClose(auc["value"], wins / pairs, "slice lesion AUC (Mann-Whitney over the exported probabilities)")
        XCTAssertEqual((auc["bootstrap"] as? [String: Any])?["resamples"] as? Int, 200)
        XCTAssertNotNil(slices["classes"] as? [String: Any], "the labels carry a class")

        // Joined by instance number through the DICOM headers: the same slices, the same figures.
        let byNumber = try CLI.run(base + ["--slice-labels", instanceFile.path, "--json"])
        XCTAssertEqual(byNumber.status, 0, byNumber.stderr)
        let other = try XCTUnwrap(try json(byNumber.stdout)["slices"] as? [String: Any])
        XCTAssertEqual(other["join"] as? String, "instance_number")
        XCTAssertEqual((other["lesion"] as? NSDictionary)?["auc"] as? NSDictionary, lesion["auc"] as? NSDictionary)
        XCTAssertTrue(other["classes"] is NSNull)
        // Without slice labels the key is null; the text report has a slice table.
        XCTAssertTrue(try json(try CLI.run(base + ["--json"]).stdout)["slices"] is NSNull)
        let text = try CLI.run(base + ["--slice-labels", indexFile.path])
        XCTAssertTrue(text.stdout.contains("lesion head") && text.stdout.contains("bootstrap by patient"), text.stdout)

        // A slice the run does not have; slices numbered from the top (z_mm disagrees); usage.
        let bad = dir.appendingPathComponent("bad.csv")
        try "patient_id,slice_index,lesion\nP001,6,1\n".write(to: bad, atomically: true, encoding: .utf8)
        try expectBadInput(base + ["--slice-labels", bad.path], mentioning: [bad.path + ":2:", "no slice_index 6"])
        let top = dir.appendingPathComponent("top.csv")
        try "patient_id,slice_index,lesion,z_mm\nP001,0,1,12.5\n".write(to: top, atomically: true, encoding: .utf8)
        try expectBadInput(base + ["--slice-labels", top.path], mentioning: ["z_mm", "numbered from the top"])
        try expectBadInput(["evaluate", "--predictions", path("tiny.csv"), "--slice-labels", bad.path], status: 64,
                           mentioning: ["--slice-labels"])
    }
}

private extension Dictionary where Key == String, Value == Any {
    func value(_ a: String, _ b: String) -> Any? { (self[a] as? [String: Any])?[b] }
}
