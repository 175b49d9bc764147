import Foundation
import XCTest
import Audit
import Model

/// A stored audit for the report and gallery tests, made once per test process: a phantom
/// cohort in real DICOM (8 patients, one with a broken series), run with the tiny model as the
/// baseline (run 1) and with a version whose patient network is scaled as the candidate (run 2).
enum ReportCLIFixture {
    struct Audit {
        var dir: URL
        var db: String
        var manifest: URL
    }

    static let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("templates").path

    nonisolated(unsafe) private static var made: Result<Audit, Error>?
    private static let lock = NSLock()

    static func audit() throws -> Audit {
        lock.lock()
        defer { lock.unlock() }
        if made == nil { made = Result { try make() } }
        return try made!.get()
    }

    private static func make() throws -> Audit {
        let dir = try CLI.temporaryDirectory()
        let manifest = try TestCohort.write(to: dir, patients: 8, slices: 6, broken: [7])
        let tiny = CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors")
        let file = try SafeTensorsFile(contentsOf: tiny)
        var w = SafeTensorsWriter()
        w.metadata = file.metadata
        w.metadata["model_version"] = "patient-retrained"
        for name in file.sortedNames {
            var values = try file.floats(name)
            if name.hasPrefix("patient.") { values = values.map { -$0 } }
            w.add(name, shape: file.entries[name]!.shape, .f32(values))
        }
        let v2 = dir.appendingPathComponent("tiny-v2.safetensors")
        try w.write(to: v2)
        let db = dir.appendingPathComponent("audit.sqlite").path
        for model in [tiny.path, v2.path] {
            let r = try CLI.run(["run", "--cohort", manifest.path, "--model", model, "--db", db])
            guard r.status == 66 else { throw ReportCLIFailure("run exited \(r.status): \(r.stderr)") }
        }
        return Audit(dir: dir, db: db, manifest: manifest)
    }

    /// Where to keep PDFs and pages: `$MLUNG_REPORT_ARTIFACTS/<name>` or a fresh temporary folder.
    static func artifacts(_ name: String) throws -> URL {
        let base = ProcessInfo.processInfo.environment["MLUNG_REPORT_ARTIFACTS"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("mlung-report-cli-\(ProcessInfo.processInfo.processIdentifier)")
        let dir = base.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs a poppler tool; throws with its output when it fails.
    @discardableResult
    static func poppler(_ tool: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/\(tool)")
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ReportCLIFailure("\(tool) \(arguments.joined(separator: " ")): \(String(decoding: e, as: UTF8.self))")
        }
        return String(decoding: o, as: UTF8.self)
    }

    static func info(_ pdf: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for line in try poppler("pdfinfo", [pdf]).split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            result[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    /// Grey levels of one page (`pdftoppm -gray`, PGM P5).
    static func grey(_ pdf: String, page: Int, prefix: String) throws -> [UInt8] {
        try poppler("pdftoppm", ["-gray", "-r", "30", "-f", String(page), "-l", String(page), "-singlefile", pdf, prefix])
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: prefix + ".pgm")))
        var fields = 0, i = 0, inField = false
        while fields < 4 && i < data.count {
            let space = data[i] == 0x20 || data[i] == 0x0A || data[i] == 0x0D || data[i] == 0x09
            if space && inField { fields += 1 }
            inField = !space
            i += 1
        }
        return Array(data[i...])
    }

    /// Checks what every PDF of these commands must satisfy: A4 pages, only embedded DejaVu
    /// fonts, no blank page (rendered with `pdftoppm -png -r 60`, 497 x 702), and no patient
    /// id of the cohort in the text or metadata unless `identifiers`.
    static func checkPDF(_ pdf: String, pages expected: Int?, identifiers: Bool, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let info = try info(pdf)
        if let expected { XCTAssertEqual(info["Pages"], String(expected), file: file, line: line) }
        XCTAssertTrue(info["Page size"]?.hasPrefix("595.276 x 841.89") ?? false, "\(info)", file: file, line: line)
        let fonts = try poppler("pdffonts", [pdf]).split(separator: "\n").dropFirst(2)
        XCTAssertFalse(fonts.isEmpty, file: file, line: line)
        for f in fonts {
            XCTAssertTrue(f.contains("DejaVu"), "font \(f)", file: file, line: line)
            let cols = f.split(separator: " ")
            XCTAssertEqual(cols[cols.count - 5], "yes", "font not embedded: \(f)", file: file, line: line)
        }
        let pages = Int(info["Pages"] ?? "0") ?? 0
        let prefix = URL(fileURLWithPath: pdf).deletingPathExtension().path + "-page"
        try poppler("pdftoppm", ["-png", "-r", "60", pdf, prefix])
        for p in 1...max(1, pages) {
            let g = try grey(pdf, page: p, prefix: prefix + "-grey")
            let inked = g.filter { $0 < 200 }.count
            XCTAssertGreaterThan(inked, g.count / 200, "page \(p) of \(pdf) is blank", file: file, line: line)
        }
        let text = try poppler("pdftotext", ["-layout", pdf, "-"])
        let metadata = info.values.joined(separator: "\n")
        let ids = (0..<8).map { String(format: "P%03d", $0) }
        if !identifiers {
            for id in ids {
                XCTAssertFalse(text.contains(id), "\(id) in the text of \(pdf)", file: file, line: line)
                XCTAssertFalse(metadata.contains(id), "\(id) in the metadata of \(pdf)", file: file, line: line)
            }
            XCTAssertFalse(text.contains("1.2.826.0.1.3680043"), "a DICOM UID in the text", file: file, line: line)
        }
        return text
    }

    /// "57.1 %" the way the report prints a proportion (one decimal, half away from zero).
    static func percent(_ v: Double) -> String {
        fixed(v * 100, 1) + " %"
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        let scale = pow(10, Double(digits))
        return String(format: "%.\(digits)f", (v * scale).rounded(.toNearestOrAwayFromZero) / scale)
    }
}

struct ReportCLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// `mlung-audit report` end to end on a stored audit.
final class ReportCLITests: XCTestCase {
    func report(_ a: ReportCLIFixture.Audit, _ extra: [String], out: URL) throws -> CLI.Result {
        try CLI.run(["report", "--db", a.db, "--templates", ReportCLIFixture.templates, "--out", out.path] + extra)
    }

    func testReportStatesTheStoredStatisticsWithPseudonyms() throws {
        let a = try ReportCLIFixture.audit()
        let dir = try ReportCLIFixture.artifacts("report")
        let pdf = dir.appendingPathComponent("qa-report.pdf")
        let r = try report(a, ["--run", "2", "--baseline", "1"], out: pdf)
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try ReportCLIFixture.checkPDF(pdf.path, pages: nil, identifiers: false)

        // The numbers equal the statistics computed here from the store.
        let store = try AuditStore(path: a.db)
        let candidate = try store.predictionSet(run: 2), baseline = try store.predictionSet(run: 1)
        let ev = try Evaluator.evaluate(candidate), bev = try Evaluator.evaluate(baseline)
        let cmp = try Comparator.compare(baseline: baseline, candidate: candidate)
        for e in [ev, bev] {
            let acc = try XCTUnwrap(e.accuracy.value)
            XCTAssertTrue(text.contains(ReportCLIFixture.percent(acc)), "accuracy \(acc)")
            for c in e.classes {
                guard let auc = c.auc.value else { continue }
                XCTAssertTrue(text.contains(ReportCLIFixture.fixed(auc, 3)), "\(c.diagnosis) AUC \(auc)")
            }
            XCTAssertTrue(text.contains(ReportCLIFixture.fixed(try XCTUnwrap(e.calibration.brier.value), 3)), "Brier")
        }
        let changed = cmp.agreement.disagreeing.filter { $0.label != nil }.count
        if changed > 0 {
            XCTAssertTrue(text.contains("These \(changed) patients receive a different diagnosis"), "flips")
        } else {
            XCTAssertTrue(text.contains("No patient receives a different diagnosis"))
        }
        XCTAssertTrue(text.contains("7 patients, 7 studies, 7 series"), "cohort size")
        XCTAssertTrue(text.contains("8 patients listed in the manifest, 7 assessed, 1 failed"))
        XCTAssertTrue(text.contains("could not be assessed"), "the failed patient is listed")
        // Sections without data say so.
        XCTAssertTrue(text.contains("No release gates were evaluated"))
        XCTAssertTrue(text.contains("Not evaluated: no failure-mode rules"))
        XCTAssertTrue(text.contains("Not evaluated: this report was made without a drift reference"))
        XCTAssertTrue(text.contains("mlung-audit report --run 2 --baseline 1"), "reproduction command")
        XCTAssertTrue(text.contains(try WeightFile(contentsOf: CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors")).fileSHA256),
                      "model digest")
        XCTAssertTrue(text.contains("site-0") && text.contains("site-1"), "subgroups by the manifest's site column")

        // Byte-identical when rendered again (elsewhere, same options), and the secret stays one row.
        let again = try ReportCLIFixture.artifacts("report-again").appendingPathComponent("qa-report.pdf")
        XCTAssertEqual(try report(a, ["--run", "2", "--baseline", "1"], out: again).status, 0)
        XCTAssertEqual(try Data(contentsOf: pdf), try Data(contentsOf: again), "two renders differ")
        XCTAssertEqual(try store.db.scalar("SELECT COUNT(*) FROM report_secret")?.int, 1)
        XCTAssertTrue(try store.appliedMigrations.contains("0002_report_secret"))
    }

    func testShowIdentifiersPrintsPatientIDs() throws {
        let a = try ReportCLIFixture.audit()
        let dir = try ReportCLIFixture.artifacts("report-identified")
        let pdf = dir.appendingPathComponent("qa-report.pdf")
        let r = try report(a, ["--run", "2", "--baseline", "1", "--show-identifiers"], out: pdf)
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try ReportCLIFixture.checkPDF(pdf.path, pages: nil, identifiers: true)
        XCTAssertTrue(text.contains("P007"), "the failed patient by its id")
        XCTAssertTrue(text.contains("CONTAINS PATIENT IDENTIFIERS"))
    }

    func testReportWithoutBaselineAndErrors() throws {
        let a = try ReportCLIFixture.audit()
        let dir = try ReportCLIFixture.artifacts("report-single")
        let pdf = dir.appendingPathComponent("qa-report.pdf")
        let r = try report(a, ["--run", "1", "--head", "nonparametric", "--bootstrap", "200"], out: pdf)
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try ReportCLIFixture.checkPDF(pdf.path, pages: nil, identifiers: false)
        XCTAssertTrue(text.contains("No baseline was given"))
        let ev = try Evaluator.evaluate(try AuditStore(path: a.db).predictionSet(run: 1, head: .nonParametric),
                                        options: StatisticsOptions(resamples: 200))
        XCTAssertTrue(text.contains(ReportCLIFixture.percent(try XCTUnwrap(ev.accuracy.value))))

        let missingRun = try report(a, ["--run", "9"], out: dir.appendingPathComponent("x.pdf"))
        XCTAssertEqual(missingRun.status, 74, missingRun.stderr)
        XCTAssertEqual(missingRun.stderr.split(separator: "\n").count, 1, missingRun.stderr)
        let noStore = try CLI.run(["report", "--run", "1", "--db", dir.appendingPathComponent("none.sqlite").path, "--out", "x.pdf"])
        XCTAssertEqual(noStore.status, 74, noStore.stderr)
        let badTemplates = try report(a, ["--run", "1", "--templates", dir.path], out: dir.appendingPathComponent("x.pdf"))
        XCTAssertEqual(badTemplates.status, 65, badTemplates.stderr)
    }
}

/// `mlung-audit gallery` end to end on a stored audit.
final class GalleryCLITests: XCTestCase {
    func gallery(_ a: ReportCLIFixture.Audit, _ extra: [String], out: URL) throws -> CLI.Result {
        try CLI.run(["gallery", "--db", a.db, "--templates", ReportCLIFixture.templates, "--out", out.path] + extra)
    }

    func testGalleryShowsEveryCaseWithSlicesAndBothHeads() throws {
        let a = try ReportCLIFixture.audit()
        let dir = try ReportCLIFixture.artifacts("gallery")
        let pdf = dir.appendingPathComponent("gallery.pdf")
        let r = try gallery(a, ["--run", "2", "--baseline", "1", "--filter", "all", "--every", "2"], out: pdf)
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try ReportCLIFixture.checkPDF(pdf.path, pages: 8, identifiers: false)   // cover + 7 cases
        let export = try AuditStore(path: a.db).export(run: 2, slices: false)
        for p in export.patients where p.status == "ok" {
            for v in try XCTUnwrap(p.probs) + (p.nonParametricProbs ?? []) {
                XCTAssertTrue(text.contains(ReportCLIFixture.fixed(v, 3)), "\(p.patientID) probability \(v)")
            }
        }
        XCTAssertTrue(text.contains("3 of 6 slices"), "every 2nd of 6 slices")
        XCTAssertTrue(text.contains("Flags: not evaluated"))
        // Slices are drawn: a case page is dark where the strip is.
        let g = try ReportCLIFixture.grey(pdf.path, page: 2, prefix: dir.appendingPathComponent("case").path)
        XCTAssertGreaterThan(Double(g.filter { $0 < 90 }.count) / Double(g.count), 0.03, "no slices on the case page")

        let again = try ReportCLIFixture.artifacts("gallery-again").appendingPathComponent("gallery.pdf")
        XCTAssertEqual(try gallery(a, ["--run", "2", "--baseline", "1", "--filter", "all", "--every", "2"], out: again).status, 0)
        XCTAssertEqual(try Data(contentsOf: pdf), try Data(contentsOf: again), "two renders differ")

        let shown = dir.appendingPathComponent("gallery-identified.pdf")
        XCTAssertEqual(try gallery(a, ["--run", "2", "--filter", "all", "--show-identifiers"], out: shown).status, 0)
        let shownText = try ReportCLIFixture.checkPDF(shown.path, pages: 8, identifiers: true)
        XCTAssertTrue(shownText.contains("P000"))
    }

    func testFiltersSelectTheStoredCases() throws {
        let a = try ReportCLIFixture.audit()
        let dir = try ReportCLIFixture.artifacts("gallery-filters")
        let export = try AuditStore(path: a.db).export(run: 2, slices: false)
        let base = try AuditStore(path: a.db).export(run: 1, slices: false)
        let ok = export.patients.filter { $0.status == "ok" }
        let basePredicted = Dictionary(base.patients.compactMap { p in p.predicted.map { (p.patientID, $0) } }, uniquingKeysWith: { x, _ in x })
        let expected: [String: Int] = [
            "fp": ok.filter { $0.label == 0 && $0.predicted != 0 }.count,
            "fn": ok.filter { ($0.label ?? 0) != 0 && $0.predicted == 0 }.count,
            "wrong-disease": ok.filter { ($0.label ?? 0) != 0 && $0.predicted != 0 && $0.predicted != $0.label }.count,
            "flips": ok.filter { basePredicted[$0.patientID] != $0.predicted }.count,
        ]
        for (filter, count) in expected.sorted(by: { $0.key < $1.key }) {
            let pdf = dir.appendingPathComponent("\(filter).pdf")
            let r = try gallery(a, ["--run", "2", "--baseline", "1", "--filter", filter], out: pdf)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("\(count) cases"), "\(filter): \(r.stdout)")
            _ = try ReportCLIFixture.checkPDF(pdf.path, pages: count + 1, identifiers: false)
        }
        let bad = try gallery(a, ["--run", "2", "--filter", "flips"], out: dir.appendingPathComponent("x.pdf"))
        XCTAssertEqual(bad.status, 64, bad.stderr)
    }

    /// A series whose files changed since the run cannot be shown as the model saw it.
    func testChangedSeriesIsAnError() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = try TestCohort.write(to: dir, patients: 1)
        let db = dir.appendingPathComponent("a.sqlite").path
        let tiny = CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors").path
        XCTAssertEqual(try CLI.run(["run", "--cohort", manifest.path, "--model", tiny, "--db", db]).status, 0)
        let file = dir.appendingPathComponent("P000/0.dcm")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: file)
        let r = try CLI.run(["gallery", "--run", "1", "--db", db, "--templates", ReportCLIFixture.templates,
                             "--out", dir.appendingPathComponent("g.pdf").path])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("changed since run 1"), r.stderr)
    }
}
