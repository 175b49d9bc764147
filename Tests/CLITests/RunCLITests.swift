import Foundation
import XCTest
import Audit
import Model

/// `mlung-audit run` end to end: real DICOM files, a real SQLite store, the built binary.
final class RunCLITests: XCTestCase {
    let model = CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors").path

    func runJSON(_ args: [String]) throws -> (CLI.Result, [String: Any]) {
        let r = try CLI.run(args + ["--json"])
        let obj = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        return (r, obj)
    }

    func testRunStoresEveryPatientAndRecordsFailures() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try TestCohort.write(to: dir, patients: 5, broken: [3])
        let db = dir.appendingPathComponent("audit.sqlite").path
        let (r, summary) = try runJSON(["run", "--cohort", manifest.path, "--model", model, "--db", db, "--batch", "4"])
        XCTAssertEqual(r.status, 66, "a failed patient gives exit 66; stderr: \(r.stderr)")
        XCTAssertEqual(summary["succeeded"] as? Int, 4)
        XCTAssertEqual(summary["failed"] as? Int, 1)
        let failures = summary["failures"] as? [String: String] ?? [:]
        XCTAssertTrue(failures["P003"]?.contains("slice") ?? false, "\(failures)")

        // The stored outputs equal the engine's outputs on the same preprocessed series.
        let rows = try TestCohort.results(db: db, run: 1)
        XCTAssertEqual(rows.count, 5)
        let engine = try MLungSys(contentsOf: URL(fileURLWithPath: model))
        let found = try SeriesDiscovery.scan([dir.appendingPathComponent("P000").path])
        let series = try SeriesSelection.choose(from: found.series, context: "P000")
        let pre = try PreprocessedSeries(series: series, settings: PreprocessSettings(engine.config))
        let slices = pre.hu.withUnsafeBufferPointer { engine.runSlices(hu: $0, count: pre.count) }
        let patient = engine.runPatient(slices)
        let row = try XCTUnwrap(rows.first { $0[0].string == "P000" })
        XCTAssertEqual(row[1].string, "ok")
        XCTAssertEqual(row[2].int, 6)
        for c in 0..<4 {
            XCTAssertEqual(Float(row[3 + c].double ?? -1), patient.probabilities[c], accuracy: 1e-6)
            XCTAssertEqual(Float(row[8 + c].double ?? -1), patient.nonParametricScores[c], accuracy: 1e-6)
        }
        XCTAssertEqual(row[7].int, patient.prediction)

        // Rerunning the same command does nothing new: the run is complete, a new one starts only with --new.
        let (again, s2) = try runJSON(["run", "--cohort", manifest.path, "--model", model, "--db", db])
        XCTAssertEqual(again.status, 66)
        XCTAssertEqual(s2["runID"] as? Int, 2, "a complete run is not reopened")
        XCTAssertEqual(s2["reused"] as? Int, 4, "the second run reuses every slice output")
        XCTAssertEqual(try TestCohort.results(db: db, run: 2).map { Array($0[0..<13]) }, rows.map { Array($0[0..<13]) })
    }

    /// A run killed with SIGKILL mid-way resumes to exactly the outputs of an uninterrupted run.
    func testKilledRunResumesWithoutDuplicates() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try TestCohort.write(to: dir, patients: 8, slices: 8)
        let reference = dir.appendingPathComponent("reference.sqlite").path
        // The same engine settings throughout, so that outputs are bit-identical.
        let settings = ["--threads", "1", "--batch", "1"]
        let (r0, _) = try runJSON(["run", "--cohort", manifest.path, "--model", model, "--db", reference] + settings)
        XCTAssertEqual(r0.status, 0, r0.stderr)

        let db = dir.appendingPathComponent("killed.sqlite").path
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["run", "--cohort", manifest.path, "--model", model, "--db", db] + settings
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Kill once at least one patient is committed (polling the store), before the end.
        let deadline = Date().addingTimeInterval(60)
        var committed = 0
        while Date() < deadline && p.isRunning {
            if let store = try? AuditStore(path: db),
               let n = try? store.db.scalar("SELECT COUNT(*) FROM patient_results")?.int {
                committed = n
                if n >= 1 { break }
            }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertGreaterThanOrEqual(committed, 1)

        let (r1, s1) = try runJSON(["run", "--cohort", manifest.path, "--model", model, "--db", db] + settings)
        XCTAssertEqual(r1.status, 0, r1.stderr)
        XCTAssertEqual(s1["runID"] as? Int, 1, "the same command resumes the interrupted run")
        XCTAssertEqual(s1["resumed"] as? Bool, true)
        let killedRows = try TestCohort.results(db: db, run: 1)
        let referenceRows = try TestCohort.results(db: reference, run: 1)
        XCTAssertEqual(killedRows.count, 8, "no duplicate and no missing patient")
        XCTAssertEqual(killedRows.map { Array($0[0..<13]) }, referenceRows.map { Array($0[0..<13]) })
        let store = try AuditStore(path: db)
        XCTAssertEqual(try store.db.scalar("SELECT COUNT(*) FROM slice_outputs")?.int, 8 * 8, "no duplicate slice rows")
        XCTAssertEqual(try store.run(id: 1)?.status, "complete")
    }

    func testBadManifestIsAOneLineError() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = dir.appendingPathComponent("m.csv")
        try "patient_id,path,label\nA,nowhere,flu\n".write(to: manifest, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", "--cohort", manifest.path, "--model", model, "--db", dir.appendingPathComponent("x.sqlite").path])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("m.csv"), r.stderr)
    }
}

/// Equal JSON values, numbers to 1e-9 relative.
func jsonClose(_ a: Any?, _ b: Any?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case let (x as [String: Any], y as [String: Any]):
        return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { jsonClose(x[$0], y[$0]) }
    case let (x as [Any], y as [Any]):
        return x.count == y.count && zip(x, y).allSatisfy { jsonClose($0, $1) }
    case let (x as String, y as String): return x == y
    case let (x as NSNumber, y as NSNumber):
        let u = x.doubleValue, v = y.doubleValue
        return abs(u - v) <= 1e-9 * max(1, abs(u), abs(v))
    case (is NSNull, is NSNull): return true
    default: return false
    }
}

/// Reuse, export and deployment logs.
final class RunReuseCLITests: XCTestCase {
    let tiny = CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors")

    /// A second version of the tiny model with only the patient network changed.
    func patientOnlyVariant(in dir: URL) throws -> URL {
        let file = try SafeTensorsFile(contentsOf: tiny)
        var w = SafeTensorsWriter()
        w.metadata = file.metadata
        w.metadata["model_version"] = "patient-retrained"
        for name in file.sortedNames {
            var values = try file.floats(name)
            if name.hasPrefix("patient.") { values = values.map { $0 * 1.25 } }
            w.add(name, shape: file.entries[name]!.shape, .f32(values))
        }
        let url = dir.appendingPathComponent("tiny-v2.safetensors")
        try w.write(to: url)
        return url
    }

    func json(_ r: CLI.Result) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
    }

    func testPatientOnlyModelReusesSliceOutputsAndMatchesAFullRerun() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try TestCohort.write(to: dir, patients: 4)
        let v2 = try patientOnlyVariant(in: dir)
        let a = try WeightFile(contentsOf: tiny), b = try WeightFile(contentsOf: v2)
        XCTAssertEqual(a.sliceNetworkDigest, b.sliceNetworkDigest)
        XCTAssertNotEqual(a.patientNetworkDigest, b.patientNetworkDigest)

        let shared = dir.appendingPathComponent("shared.sqlite").path
        let fresh = dir.appendingPathComponent("fresh.sqlite").path
        let common = ["--cohort", manifest.path, "--json"]
        XCTAssertEqual(try CLI.run(["run", "--model", tiny.path, "--db", shared] + common).status, 0)
        let reuse = try CLI.run(["run", "--model", v2.path, "--db", shared] + common)
        XCTAssertEqual(reuse.status, 0, reuse.stderr)
        XCTAssertEqual(json(reuse)["reused"] as? Int, 4, "only the patient network reran")
        let full = try CLI.run(["run", "--model", v2.path, "--db", fresh] + common)
        XCTAssertEqual(json(full)["reused"] as? Int, 0)
        let reused = try TestCohort.results(db: shared, run: 2).map { Array($0[0..<13]) }
        let recomputed = try TestCohort.results(db: fresh, run: 1).map { Array($0[0..<13]) }
        XCTAssertEqual(reused, recomputed, "reused slice outputs give exactly the full rerun's results")
        XCTAssertNotEqual(reused, try TestCohort.results(db: shared, run: 1).map { Array($0[0..<13]) })

        // The statistics of stored runs equal those of the same predictions given as CSV files.
        let fromStore = try CLI.run(["evaluate", "--run", "2", "--baseline", "1", "--db", shared, "--json", "--bootstrap", "200"])
        XCTAssertEqual(fromStore.status, 0, fromStore.stderr)
        var csvs: [String] = []
        for run in ["2", "1"] {
            let export = json(try CLI.run(["export", "--run", run, "--db", shared]))
            var csv = "patient_id,label,p_healthy,p_covid19,p_h1n1,p_cap,site\n"
            for p in try XCTUnwrap(export["patients"] as? [[String: Any]]) {
                let label = (p["label"] as? Int).map { ["healthy", "covid19", "h1n1", "cap"][$0] } ?? ""
                let probs = try XCTUnwrap(p["probs"] as? [Double]).map { String($0) }.joined(separator: ",")
                let site = (p["metadata"] as? [String: String])?["site"] ?? ""
                csv += "\(p["patientID"] as? String ?? ""),\(label),\(probs),\(site)\n"
            }
            let url = dir.appendingPathComponent("run\(run).csv")
            try csv.write(to: url, atomically: true, encoding: .utf8)
            csvs.append(url.path)
        }
        let fromCSV = try CLI.run(["evaluate", "--predictions", csvs[0], "--baseline-predictions", csvs[1], "--json", "--bootstrap", "200"])
        XCTAssertEqual(fromCSV.status, 0, fromCSV.stderr)
        let storeJSON = json(fromStore), csvJSON = json(fromCSV)
        for key in ["accuracy", "confusion", "fpe", "fne", "fdpe", "classes", "calibration"] {
            // Numbers pass through JSON text on the CSV path: equal to 1e-9 relative.
            XCTAssertTrue(jsonClose((storeJSON["evaluation"] as? [String: Any])?[key], (csvJSON["evaluation"] as? [String: Any])?[key]), key)
        }
        XCTAssertNotNil(storeJSON["comparison"] as? [String: Any])
    }

    func testExportAndImportedDeploymentLog() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try TestCohort.write(to: dir, patients: 3)
        let db = dir.appendingPathComponent("audit.sqlite").path
        XCTAssertEqual(try CLI.run(["run", "--model", tiny.path, "--db", db, "--cohort", manifest.path]).status, 0)
        let export = try CLI.run(["export", "--run", "1", "--db", db, "--slices"])
        XCTAssertEqual(export.status, 0, export.stderr)
        let obj = json(export)
        let patients = try XCTUnwrap(obj["patients"] as? [[String: Any]])
        XCTAssertEqual(patients.count, 3)
        XCTAssertEqual((patients[0]["slices"] as? [Any])?.count, 6)
        XCTAssertEqual((obj["model"] as? [String: Any])?["sha256"] as? String, try WeightFile(contentsOf: tiny).fileSHA256)

        // The deployment log: the run's own probabilities, as production would have logged them.
        var csv = "patient_id,p_healthy,p_covid19,p_h1n1,p_cap\n"
        for p in patients {
            let probs = try XCTUnwrap(p["probs"] as? [Double])
            csv += "\(p["patientID"] as? String ?? ""),\(probs.map { String($0) }.joined(separator: ","))\n"
        }
        let log = dir.appendingPathComponent("deployed.csv")
        try csv.write(to: log, atomically: true, encoding: .utf8)
        let imported = try CLI.run(["import-predictions", "--cohort", manifest.path, "--csv", log.path, "--label", "production", "--db", db])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let run2 = json(try CLI.run(["export", "--run", "2", "--db", db]))
        XCTAssertEqual((run2["run"] as? [String: Any])?["kind"] as? String, "imported")
        let importedPatients = try XCTUnwrap(run2["patients"] as? [[String: Any]])
        for (x, y) in zip(patients, importedPatients) {
            XCTAssertEqual(x["probs"] as? [Double], y["probs"] as? [Double])
            XCTAssertEqual(x["predicted"] as? Int, y["predicted"] as? Int)
        }

        // A malformed log is one error line naming the file, line and column.
        try "patient_id,p_healthy,p_covid19,p_h1n1,p_cap\nP000,0.5,0.5,x,0\n".write(to: log, atomically: true, encoding: .utf8)
        let bad = try CLI.run(["import-predictions", "--cohort", manifest.path, "--csv", log.path, "--label", "x", "--db", db])
        XCTAssertEqual(bad.status, 65)
        XCTAssertTrue(bad.stderr.contains("deployed.csv") && bad.stderr.contains("p_h1n1"), bad.stderr)
    }
}
