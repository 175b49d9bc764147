import Foundation
import XCTest
@testable import Reports

/// The failure-case gallery: one page per case after a cover, pseudonyms, slices as images.
final class GalleryTests: XCTestCase {
    func testDemoGallery() throws {
        let model = GalleryModel.demo()
        let secret = try Pseudonymizer(secret: Array("gallery-secret-0123456789".utf8))
        let templates = try ReportTemplates(directory: repositoryTemplates())
        let doc = try model.render(templates: templates, policy: .pseudonymised(secret))
        let dir = try artifactDirectory("demo-gallery")
        let pdf = dir + "/gallery.pdf"
        try doc.write(to: pdf)
        XCTAssertEqual(doc.pageCount, model.cases.count + 1)
        XCTAssertEqual(try Poppler.info(pdf)["Pages"], String(model.cases.count + 1))
        // Each case starts its own page with its heading.
        let headings = doc.layoutSnapshot.filter { $0.kind == "heading1" }
        XCTAssertEqual(headings.map(\.page), Array(2...(model.cases.count + 1)))
        let text = try Poppler.run("pdftotext", ["-layout", pdf, "-"])
        for c in model.cases {
            XCTAssertFalse(text.contains(c.patient.raw))
            XCTAssertTrue(text.contains(secret.patient(c.patient)))
            XCTAssertTrue(text.contains(c.category))
            for p in c.patientProbabilities { XCTAssertTrue(text.contains(Format.fixed(p, digits: 3))) }
        }
        XCTAssertTrue(text.contains("Confidently wrong disease"))
        // Slices are embedded as images: pdfimages is not needed, the page is mostly dark where the strip is.
        try Poppler.run("pdftoppm", ["-png", "-r", "60", pdf, dir + "/page"])
        let grey = try Poppler.greyPage(pdf, page: 2, dpi: 30, prefix: dir + "/grey")
        let dark = grey.pixels.filter { $0 < 90 }.count
        XCTAssertGreaterThan(Double(dark) / Double(grey.pixels.count), 0.04, "case page shows no slices")
        let again = try model.render(templates: templates, policy: .pseudonymised(secret))
        XCTAssertTrue(again.pdf == doc.pdf, "gallery renders differ")
    }
}
