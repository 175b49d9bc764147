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
        XCTAssertTrue(text.contains("Not computed: the audit store holds no failure-mode flags for this run"), "no stored flags")
        XCTAssertTrue(text.contains("mlung-audit flags --run 2 --db"), "the command that computes them")
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

/// A second stored audit for the report's drift, flags and gates sections (kept apart from
/// `ReportCLIFixture`, whose runs must stay without flags): two phantom cohorts of 9 patients
/// (3 healthy, 2 COVID-19, so that truly-healthy and truly-sick counts cannot agree by chance) in DICOM,
/// the second with 2.2x the noise and +30 HU; run 1 the tiny model on the first cohort,
/// run 2 `mlung-audit nightly` with a retrained version on it (baseline run 1, gates that pass,
/// fail and cannot be judged), run 3 that version on the shifted cohort, run 4 that version again
/// on the first cohort; flags of run 2.
enum ReportSectionsFixture {
    struct Audit {
        var dir: URL
        var db: String
        var verdict: URL
        var ids: [String]
    }

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
        let base = DriftPhantomCohort.Acquisition()
        var shifted = base
        shifted.noise = 2.2 * base.noise
        shifted.huOffset = 30
        let ref = try DriftPhantomCohort.write(to: dir.appendingPathComponent("ref"), patients: 9, acquisition: base, seed: 41)
        let new = try DriftPhantomCohort.write(to: dir.appendingPathComponent("new"), patients: 9, acquisition: shifted, seed: 42)
        let tiny = CLI.fixtures.appendingPathComponent("model/tiny/weights.safetensors")
        let file = try SafeTensorsFile(contentsOf: tiny)
        var w = SafeTensorsWriter()
        w.metadata = file.metadata
        w.metadata["model_version"] = "patient-retrained"
        for name in file.sortedNames {
            var values = try file.floats(name)
            if name.hasPrefix("patient.") { values = values.map { -0.5 * $0 } }
            w.add(name, shape: file.entries[name]!.shape, .f32(values))
        }
        let v2 = dir.appendingPathComponent("tiny-v2.safetensors")
        try w.write(to: v2)
        let db = dir.appendingPathComponent("audit.sqlite").path
        let first = try CLI.run(["run", "--cohort", ref.path, "--model", tiny.path, "--db", db, "--label", "accepted"])
        guard first.status == 0 else { throw ReportCLIFailure("run exited \(first.status): \(first.stderr)") }
        let yaml = """
            model: \(v2.path)
            store: \(db)
            cohorts:
              - name: phantoms
                manifest: \(ref.path)
                baseline_run: 1
            statistics: {seed: 7, bootstrap: 200}
            verdict: verdict.json
            gates:
              - {metric: accuracy, max_drop: 0.5}
              - {metric: accuracy, min: 0.0}
              - {metric: brier, max: 2.0}
              - {metric: auc.healthy, min: 0.0}
              - {metric: sensitivity.covid19, min: 1.01}
              - {no_new_misses: covid19}
              - {max_probability_difference: 1.0e-4}
            """
        let config = dir.appendingPathComponent("nightly.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let nightly = try CLI.run(["nightly", "--config", config.path])
        guard nightly.status == 3 else { throw ReportCLIFailure("nightly exited \(nightly.status): \(nightly.stderr)") }
        let third = try CLI.run(["run", "--cohort", new.path, "--model", v2.path, "--db", db, "--label", "new-scanner"])
        guard third.status == 0 else { throw ReportCLIFailure("run exited \(third.status): \(third.stderr)") }
        let flags = try CLI.run(["flags", "--run", "2", "--baseline", "1", "--db", db])
        guard flags.status == 0 else { throw ReportCLIFailure("flags exited \(flags.status): \(flags.stderr)") }
        // Run 4: the retrained version run again on the first cohort (what nightly judged, as run 2).
        let fourth = try CLI.run(["run", "--cohort", ref.path, "--model", v2.path, "--db", db, "--label", "candidate"])
        guard fourth.status == 0 else { throw ReportCLIFailure("run exited \(fourth.status): \(fourth.stderr)") }
        let ids = (0..<10).flatMap { k in [String(format: "S41-%03d", k), String(format: "S42-%03d", k)] }
        return Audit(dir: dir, db: db, verdict: dir.appendingPathComponent("verdict.json"), ids: ids)
    }

    /// The PDF's text with every run of white space made one space (table cells and lines joined).
    static func text(_ pdf: URL) throws -> (flat: String, layout: String) {
        let raw = try ReportCLIFixture.poppler("pdftotext", [pdf.path, "-"])
        let layout = try ReportCLIFixture.poppler("pdftotext", ["-layout", pdf.path, "-"])
        return (raw.split(whereSeparator: \.isWhitespace).joined(separator: " "), layout)
    }

    /// Every page rendered (`pdftoppm -png -r 60`), A4, not blank; no patient id of the audit in the text.
    static func check(_ pdf: URL, ids: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let info = try ReportCLIFixture.info(pdf.path)
        XCTAssertTrue(info["Page size"]?.hasPrefix("595.276 x 841.89") ?? false, "\(info)", file: file, line: line)
        let pages = Int(info["Pages"] ?? "0") ?? 0
        let prefix = pdf.deletingPathExtension().path + "-page"
        try ReportCLIFixture.poppler("pdftoppm", ["-png", "-r", "60", pdf.path, prefix])
        for p in 1...max(1, pages) {
            let g = try ReportCLIFixture.grey(pdf.path, page: p, prefix: prefix + "-grey")
            XCTAssertGreaterThan(g.filter { $0 < 200 }.count, g.count / 200, "page \(p) of \(pdf.lastPathComponent) is blank", file: file, line: line)
        }
        let text = try ReportCLIFixture.poppler("pdftotext", [pdf.path, "-"])
        for id in ids { XCTAssertFalse(text.contains(id), "\(id) in the text of \(pdf.lastPathComponent)", file: file, line: line) }
    }

    /// A gate's measured value as the cover prints it: whole numbers without decimals, else
    /// four significant digits without trailing zeros (a minus sign as U+2212).
    static func measured(_ v: Double?) -> String {
        guard let v else { return "–" }
        if v == v.rounded() { return String(format: "%.0f", v) }
        let digits = max(0, 3 - Int(floor(log10(abs(v)))))
        var text = ReportCLIFixture.fixed(v, digits)
        while text.contains(".") && (text.hasSuffix("0") || text.hasSuffix(".")) { text.removeLast() }
        return text.replacingOccurrences(of: "-", with: "−")
    }

    static func pValue(_ p: Double?) -> String {
        guard let p else { return "–" }
        return p < 0.001 ? "< 0.001" : ReportCLIFixture.fixed(p, 3)
    }

    /// "57.1 % (39.2–73.4)": a proportion with its Wilson interval, as the report prints it.
    static func estimate(_ a: ProportionEstimate) -> String {
        let v = ReportCLIFixture.percent(a.value!)
        guard let w = a.wilson else { return v }
        return "\(v) (\(ReportCLIFixture.fixed(w.lower * 100, 1))–\(ReportCLIFixture.fixed(w.upper * 100, 1)))"
    }
}

/// `report --drift-reference --verdict` with stored flags, and `gallery --filter flagged`.
final class ReportSectionsCLITests: XCTestCase {
    func report(_ a: ReportSectionsFixture.Audit, _ extra: [String], out: URL) throws -> CLI.Result {
        try CLI.run(["report", "--db", a.db, "--templates", ReportCLIFixture.templates, "--out", out.path, "--bootstrap", "200"] + extra)
    }

    func testReportStatesDriftFlagsAndGatesFromTheStore() throws {
        let a = try ReportSectionsFixture.audit()
        let dir = try ReportCLIFixture.artifacts("report-sections")
        let pdf = dir.appendingPathComponent("qa-report.pdf")
        let r = try report(a, ["--run", "2", "--baseline", "1", "--drift-reference", "3", "--verdict", a.verdict.path], out: pdf)
        XCTAssertEqual(r.status, 0, r.stderr)
        try ReportSectionsFixture.check(pdf, ids: a.ids)
        let (text, layout) = try ReportSectionsFixture.text(pdf)
        let store = try AuditStore(path: a.db)

        // Gates: the verdict file's overall status and every gate's outcome and measured value.
        let verdict = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: a.verdict)) as? [String: Any])
        let status = try XCTUnwrap(verdict["status"] as? String)
        XCTAssertEqual(status, "fail")
        let outcomes = try XCTUnwrap(((verdict["cohorts"] as? [[String: Any]])?.first?["gates"] as? [String: Any])?["outcomes"] as? [[String: Any]])
        let count = { (s: String) in outcomes.filter { $0["status"] as? String == s }.count }
        XCTAssertTrue(text.contains("FAIL The candidate model does not pass the release gates: \(count("fail")) of \(outcomes.count) failed"), "cover verdict")
        XCTAssertTrue(text.contains("Overall verdict \(status.uppercased()): \(count("pass")) passed, \(count("fail")) failed, \(count("error")) could not be judged, of \(outcomes.count) gates"))
        XCTAssertTrue(text.contains("Release gates: \(status.uppercased()). \(count("pass")) of \(outcomes.count) gates passed"), "summary")
        let gateLines = layout.split(separator: "\n").filter { $0.contains("PASS") || $0.contains("FAIL") || $0.contains("ERROR") }
        for o in outcomes {
            let rule = try XCTUnwrap(o["rule"] as? String)
            let name = rule.components(separatedBy: ": ").first!.components(separatedBy: " >= ").first!
            let shown = ReportSectionsFixture.measured(o["measured"] as? Double)
            let word = (o["status"] as! String).uppercased()
            let matching = gateLines.filter { $0.contains(shown) && $0.hasSuffix(word) && ($0.contains(name) || !rule.contains(": ")) }
            XCTAssertFalse(matching.isEmpty, "gate \(rule): \(shown) \(word) not on the cover")
        }

        // Drift: DriftAnalyzer with run 3 as the reference and this run as the candidate.
        let drift = try DriftAnalyzer.analyze(store: store, reference: 3, candidate: 2)
        let drifting = drift.factors.filter { $0.verdict == .drift }
        XCTAssertTrue(text.contains("\(drifting.count) of \(drift.factors.count) factors drift, \(drift.factors.filter { $0.verdict == .inconclusive }.count) are inconclusive; \(drift.factors.filter { $0.p != nil }.count) were tested"), "factor counts")
        XCTAssertNotEqual(drift.overall, .noDrift, "the shifted cohort drifts")
        XCTAssertTrue(text.contains(drift.overall == .inputDrift ? "WARNING Drift in the inputs only" : "FAIL Drift that reaches the model's outputs"))
        XCTAssertFalse(drift.topFactors.isEmpty)
        for t in drift.topFactors { XCTAssertTrue(text.contains(t), "top factor \(t)") }
        for f in drifting where f.effectName == "ks_d" {
            XCTAssertTrue(text.contains("KS D \(ReportCLIFixture.fixed(f.effect!, 3))"), "\(f.id) effect")
            XCTAssertTrue(layout.split(separator: "\n").contains { $0.contains(f.description.prefix(12)) && $0.contains(ReportSectionsFixture.pValue(f.pAdjusted)) && $0.contains("DRIFT") },
                          "\(f.id): adjusted p \(ReportSectionsFixture.pValue(f.pAdjusted))")
        }
        if let ra = drift.performance.referenceAccuracy?.value {
            XCTAssertTrue(text.contains("Accuracy, reference run 3 \(ReportCLIFixture.percent(ra))"), "reference accuracy")
        }
        XCTAssertTrue(text.contains("Share of patients at or below"), "ECDF plots")

        // Flags: counts from the store, accuracy with and without pulsatile-flagged patients.
        let flags = try store.loadFlags(run: 2)
        let flagged = flags.filter { !$0.findings.isEmpty }
        XCTAssertFalse(flagged.isEmpty, "the phantoms fire truncated_coverage")
        XCTAssertTrue(text.contains("\(flagged.count) of \(flags.count) patients fired at least one flag"))
        let set = try store.predictionSet(run: 2)
        let pulsatile = Set(flags.filter { $0.has(.pulsatileArtifact) }.map(\.patientID))
        let all = try Evaluator.evaluate(set, options: StatisticsOptions(resamples: 0))
        let kept = try Evaluator.evaluate(set.filter { !pulsatile.contains($0.patientID) }, options: StatisticsOptions(resamples: 0))
        XCTAssertTrue(text.contains("on the \(all.labelled) labelled patients: \(ReportSectionsFixture.estimate(all.accuracy)). Without the \(pulsatile.count) patients flagged pulsatile_artifact: \(ReportSectionsFixture.estimate(kept.accuracy)) on \(kept.labelled) patients"), "accuracy with and without")
        let rows = layout.split(separator: "\n")
        for kind in FlagKind.allCases {
            let fired = flags.filter { $0.has(kind) }
            guard !fired.isEmpty else { continue }
            let healthy = fired.filter { $0.label == 0 }.count, sick = fired.filter { ($0.label ?? 0) > 0 }.count
            let row = rows.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(kind.rawValue + " ") && $0.contains(" \(fired.count) ") }
            let numbers = row.map { $0.split(separator: " ").compactMap { Int($0) } } ?? []
            XCTAssertEqual(numbers.suffix(2), [healthy, sick], "\(kind.rawValue): \(row ?? "no row with \(fired.count) patients")")
        }
        // The patient table: one row per flag that fired (version flips are the prediction
        // changes' rows), each with its first reason.
        let findings = flagged.flatMap(\.findings).filter { $0.flag != .versionFlip }
        XCTAssertFalse(findings.isEmpty)
        XCTAssertEqual(text.components(separatedBy: "Measurements that fired it").count - 1 >= 1, true)
        for f in findings.prefix(5) { XCTAssertTrue(text.contains(f.reasons[0]), "reason \(f.reasons[0])") }

        // The same options give the same bytes, drift permutations and all.
        let again = try ReportCLIFixture.artifacts("report-sections-again").appendingPathComponent("qa-report.pdf")
        XCTAssertEqual(try report(a, ["--run", "2", "--baseline", "1", "--drift-reference", "3", "--verdict", a.verdict.path], out: again).status, 0)
        XCTAssertEqual(try Data(contentsOf: pdf), try Data(contentsOf: again), "two renders differ")
    }

    func testReportWithoutStoredFlagsAndBadOptions() throws {
        let a = try ReportSectionsFixture.audit()
        let dir = try ReportCLIFixture.artifacts("report-sections-none")
        let pdf = dir.appendingPathComponent("qa-report.pdf")
        // Run 3 has no stored flags; a drift config silences one factor.
        let config = dir.appendingPathComponent("drift.yaml")
        try "factors:\n  image.noise_index: {enabled: false}\n".write(to: config, atomically: true, encoding: .utf8)
        let r = try report(a, ["--run", "3", "--drift-reference", "2", "--drift-config", config.path], out: pdf)
        XCTAssertEqual(r.status, 0, r.stderr)
        try ReportSectionsFixture.check(pdf, ids: a.ids)
        let (text, _) = try ReportSectionsFixture.text(pdf)
        XCTAssertTrue(text.contains("Not computed: the audit store holds no failure-mode flags for this run"))
        XCTAssertTrue(text.contains("mlung-audit flags --run 3 --db \(a.db)"))
        XCTAssertTrue(text.contains("No release gates were evaluated"))
        XCTAssertFalse(text.contains("noise index"), "the disabled factor is left out")
        XCTAssertTrue(text.contains("outside air"))

        // The verdict judged run 2; run 4 is the same model on the same cohort with the same settings.
        let rerun = dir.appendingPathComponent("rerun.pdf")
        let r4 = try report(a, ["--run", "4", "--verdict", a.verdict.path], out: rerun)
        XCTAssertEqual(r4.status, 0, r4.stderr)
        let (rerunText, _) = try ReportSectionsFixture.text(rerun)
        XCTAssertTrue(rerunText.contains("run 2 against baseline run 1 (same model, cohort and settings as run 4) · FAIL"), "the rerun's verdict")
        XCTAssertTrue(rerunText.contains("Overall verdict FAIL"))

        // A verdict of another run (other cohort), a missing verdict file, --drift-config alone.
        XCTAssertEqual(try report(a, ["--run", "3", "--verdict", a.verdict.path], out: dir.appendingPathComponent("x.pdf")).status, 65)
        XCTAssertEqual(try report(a, ["--run", "2", "--verdict", dir.appendingPathComponent("none.json").path], out: dir.appendingPathComponent("x.pdf")).status, 65)
        XCTAssertEqual(try report(a, ["--run", "2", "--drift-config", config.path], out: dir.appendingPathComponent("x.pdf")).status, 64)
        XCTAssertEqual(try report(a, ["--run", "2", "--drift-reference", "9"], out: dir.appendingPathComponent("x.pdf")).status, 74)
    }

    func testGalleryShowsStoredFlagsAndFiltersFlagged() throws {
        let a = try ReportSectionsFixture.audit()
        let dir = try ReportCLIFixture.artifacts("gallery-flagged")
        let store = try AuditStore(path: a.db)
        let flags = try store.loadFlags(run: 2)
        let flagged = flags.filter { !$0.findings.isEmpty }
        let pdf = dir.appendingPathComponent("gallery.pdf")
        let r = try CLI.run(["gallery", "--run", "2", "--db", a.db, "--templates", ReportCLIFixture.templates, "--filter", "flagged",
                             "--out", pdf.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\(flagged.count) cases"), r.stdout)
        try ReportSectionsFixture.check(pdf, ids: a.ids)
        let info = try ReportCLIFixture.info(pdf.path)
        let (text, _) = try ReportSectionsFixture.text(pdf)
        // One case per flagged patient, each opening a page (a long flags table continues on the next).
        for k in 1...flagged.count { XCTAssertTrue(text.contains("Case \(k): "), "case \(k)") }
        XCTAssertFalse(text.contains("Case \(flagged.count + 1): "))
        XCTAssertGreaterThanOrEqual(Int(info["Pages"] ?? "") ?? 0, flagged.count + 1)
        for p in flagged {
            for f in p.findings {
                XCTAssertTrue(text.contains(f.reasons[0]), "\(f.flag.rawValue): \(f.reasons[0])")
            }
        }
        XCTAssertEqual(text.components(separatedBy: "## Flags").count, 1, "markup does not leak")
        XCTAssertTrue(text.contains("Flags (\(flagged[0].findings.count))"))

        // Combined with the answer: healthy patients called sick that fired a flag.
        let export = try store.export(run: 2, slices: false)
        let fp = Set(export.patients.filter { $0.status == "ok" && $0.label == 0 && $0.predicted != 0 }.map(\.patientID))
        let both = flagged.filter { fp.contains($0.patientID) }.count
        let combined = try CLI.run(["gallery", "--run", "2", "--db", a.db, "--templates", ReportCLIFixture.templates, "--filter", "fp,flagged",
                                    "--out", dir.appendingPathComponent("fp-flagged.pdf").path])
        XCTAssertEqual(combined.status, 0, combined.stderr)
        XCTAssertTrue(combined.stdout.contains("\(both) cases"), combined.stdout)

        // No stored flags: --filter flagged is bad input naming the command; other filters say "not evaluated".
        let none = try CLI.run(["gallery", "--run", "3", "--db", a.db, "--templates", ReportCLIFixture.templates, "--filter", "flagged",
                                "--out", dir.appendingPathComponent("none.pdf").path])
        XCTAssertEqual(none.status, 65, none.stderr)
        XCTAssertTrue(none.stderr.contains("mlung-audit flags --run 3"), none.stderr)
        XCTAssertEqual(try CLI.run(["gallery", "--run", "2", "--db", a.db, "--filter", "fp,nonsense", "--out", "x.pdf"]).status, 64)
    }
}
