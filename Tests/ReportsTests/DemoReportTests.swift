import Foundation
import XCTest
@testable import Reports

/// Renders the synthetic demo report and checks the PDF with poppler: pages, fonts,
/// metadata, text, pixels, byte-identical output and the layout's invariants.
final class DemoReportTests: XCTestCase {
    static let secret = Array("demo-audit-secret-0123456789abcdef".utf8)

    func render(policy: IdentifierPolicy? = nil) throws -> (RenderedDocument, ReportModel) {
        let model = ReportModel.demo()
        let templates = try ReportTemplates(directory: repositoryTemplates())
        let doc = try model.render(templates: templates, policy: policy ?? .pseudonymised(try Pseudonymizer(secret: Self.secret)))
        return (doc, model)
    }

    func testDemoReportPDF() throws {
        let (doc, model) = try render()
        let dir = try artifactDirectory("demo-report")
        let pdf = dir + "/qa-report.pdf"
        try doc.write(to: pdf)
        try doc.markup.write(toFile: dir + "/qa-report.markup.txt", atomically: true, encoding: .utf8)
        try doc.layoutSnapshot.map(\.description).joined(separator: "\n").write(toFile: dir + "/qa-report.layout.txt", atomically: true, encoding: .utf8)

        // Page count and metadata.
        let info = try Poppler.info(pdf)
        XCTAssertEqual(info["Pages"], String(doc.pageCount))
        XCTAssertGreaterThanOrEqual(doc.pageCount, 8)
        XCTAssertEqual(info["Title"], "MLung-Sys QA report: demo-v2 vs demo-v1")
        XCTAssertEqual(info["Author"], "MLung Audit \(model.cover.toolVersion)")
        XCTAssertTrue(info["Page size"]?.hasPrefix("595.276 x 841.89") ?? false, "A4: \(info["Page size"] ?? "?")")
        XCTAssertTrue(info["CreationDate"]?.contains("2024") ?? false, "fixed creation date: \(info["CreationDate"] ?? "?")")

        // Fonts: only DejaVu, all embedded.
        let fonts = try Poppler.fonts(pdf)
        XCTAssertFalse(fonts.isEmpty)
        for f in fonts {
            XCTAssertTrue(f.embedded, "\(f.name) not embedded")
            XCTAssertTrue(f.name.contains("DejaVu"), "unexpected font \(f.name)")
        }
        XCTAssertTrue(fonts.contains { $0.name.hasSuffix("DejaVuSans-Bold") })
        XCTAssertTrue(fonts.contains { $0.name.hasSuffix("DejaVuSansMono") })

        // Every page renders to A4 at 60 dpi (497 x 702) and is not blank.
        try Poppler.run("pdftoppm", ["-png", "-r", "60", pdf, dir + "/page"])
        let pngs = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("page") && $0.hasSuffix(".png") }.sorted()
        XCTAssertEqual(pngs.count, doc.pageCount)
        for png in pngs {
            let (w, h) = try Poppler.pngSize(dir + "/" + png)
            XCTAssertEqual(w, 497, png); XCTAssertEqual(h, 702, png)  // pdftoppm rounds 496.06 x 701.57 up
        }
        for page in 1...doc.pageCount {
            let grey = try Poppler.greyPage(pdf, page: page, dpi: 30, prefix: dir + "/grey")
            let inked = grey.pixels.filter { $0 < 200 }.count
            XCTAssertGreaterThan(Double(inked) / Double(grey.pixels.count), 0.01, "page \(page) looks blank")
        }
    }

    func testTextMatchesModelAndHidesIdentifiers() throws {
        let pseudonymizer = try Pseudonymizer(secret: Self.secret)
        let (doc, model) = try render(policy: .pseudonymised(pseudonymizer))
        let dir = try artifactDirectory("demo-text")
        let pdf = dir + "/qa-report.pdf"
        try doc.write(to: pdf)
        let text = try Poppler.run("pdftotext", ["-layout", pdf, "-"])
        // Numbers printed as the model holds them.
        for m in model.metrics where m.metric == "AUC" {
            XCTAssertTrue(text.contains(m.candidate.formatted()), "missing \(m.candidate.formatted()) for \(m.className ?? "")")
        }
        for c in model.rocCurves { XCTAssertTrue(text.contains(c.legendLabel), "legend \(c.legendLabel)") }
        for g in model.cover.gates { XCTAssertTrue(text.contains(g.name)) }
        XCTAssertTrue(text.contains("FAIL"))
        XCTAssertTrue(text.contains(model.cover.candidate.digest))
        // Pseudonyms instead of identifiers, shifted dates instead of real ones.
        for f in model.flips {
            XCTAssertFalse(text.contains(f.patient.raw), "identifier \(f.patient.raw) leaked")
            XCTAssertTrue(text.contains(pseudonymizer.patient(f.patient)), "pseudonym for \(f.patient.raw) missing")
        }
        XCTAssertFalse(text.contains("DEMO-PID"))
        XCTAssertFalse(text.contains("2020-01-06"), "real first study date leaked")
        XCTAssertTrue(text.contains(pseudonymizer.date(model.cover.cohort.firstStudy!).description + "*"))
        let info = try Poppler.run("pdfinfo", [pdf])
        XCTAssertFalse(info.contains("DEMO-PID"))
        // The raw bytes (metadata, outlines) carry no identifier either.
        XCTAssertNil(String(decoding: doc.pdf, as: UTF8.self).range(of: "DEMO-PID"))
    }

    func testShowIdentifiersPrintsThem() throws {
        let (doc, model) = try render(policy: .shown)
        let dir = try artifactDirectory("demo-shown")
        try doc.write(to: dir + "/qa-report.pdf")
        let text = try Poppler.run("pdftotext", [dir + "/qa-report.pdf", "-"])
        XCTAssertTrue(text.contains(model.flips[0].patient.raw))
        XCTAssertTrue(text.contains("CONTAINS PATIENT IDENTIFIERS"))
    }

    func testRendersAreByteIdentical() throws {
        let (a, _) = try render()
        let (b, _) = try render()
        XCTAssertEqual(a.pdf.count, b.pdf.count)
        XCTAssertTrue(a.pdf == b.pdf, "two renders of the same model differ")
    }

    func testLayoutInvariants() throws {
        let (doc, _) = try render()
        let content = Theme().contentRect
        let byPage = Dictionary(grouping: doc.layoutSnapshot, by: \.page)
        XCTAssertEqual(byPage.keys.sorted(), Array(1...doc.pageCount))
        for (page, entries) in byPage {
            for e in entries {
                XCTAssertTrue(content.contains(e.rect), "p\(page) \(e.kind) \(e.rect) outside the margins")
            }
            for (i, a) in entries.enumerated() {
                for b in entries[(i + 1)...] where a.rect.overlaps(b.rect) {
                    XCTFail("p\(page): \(a.kind) \(a.rect) overlaps \(b.kind) \(b.rect)")
                }
            }
            // A heading never ends a page.
            if let last = entries.last { XCTAssertFalse(last.kind.hasPrefix("heading"), "p\(page) ends with a heading") }
            // A page that starts inside a table starts with the repeated header.
            if let first = entries.first, first.kind == "table-row" || first.kind == "table-group" {
                XCTFail("p\(page) starts with a table row without its header")
            }
        }
        // The flips table is long enough to continue on a second page, with its header repeated.
        XCTAssertTrue(doc.layoutSnapshot.contains { $0.kind == "table-header(cont)" }, "expected a continued table")
    }
}
