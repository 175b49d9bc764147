import Foundation
import XCTest
@testable import Reports

final class LayoutComponentTests: XCTestCase {
    func testNiceScaleTicks() {
        let unit = NiceScale(min: 0, max: 1, maxTicks: 6)
        XCTAssertEqual(unit.ticks.map { unit.label($0) }, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let counts = NiceScale(min: 0, max: 97, maxTicks: 6)
        XCTAssertEqual(counts.ticks, [0, 20, 40, 60, 80, 100])
        XCTAssertEqual(counts.label(20), "20")
        let hu = NiceScale(min: -812, max: -700, maxTicks: 6)
        XCTAssertEqual(hu.ticks, [-820, -800, -780, -760, -740, -720, -700])
        let small = NiceScale(min: 0.001, max: 0.0123, maxTicks: 6)
        XCTAssertEqual(small.step, 0.0025, accuracy: 1e-12)
        XCTAssertEqual(small.label(0.0075), "0.0075")
        // Properties over many ranges: ticks cover the data, steps are 1, 2, 2.5 or 5 x 10^k,
        // at most maxTicks + 1 ticks, labels distinct.
        var rng = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let a = (rng.uniform() - 0.5) * pow(10, Double(rng.below(8)) - 3)
            let b = a + rng.uniform() * pow(10, Double(rng.below(8)) - 3) + 1e-9
            let s = NiceScale(min: a, max: b, maxTicks: 6)
            XCTAssertLessThanOrEqual(s.lower, a); XCTAssertGreaterThanOrEqual(s.upper, b)
            let mantissa = s.step / pow(10, floor(log10(s.step)))
            XCTAssertTrue([1, 2, 2.5, 5].contains { abs($0 - mantissa) < 1e-9 }, "step \(s.step)")
            XCTAssertLessThanOrEqual(s.ticks.count, 7)
            XCTAssertEqual(Set(s.ticks.map { s.label($0) }).count, s.ticks.count, "labels for \(a)...\(b)")
        }
    }

    func testFormat() {
        XCTAssertEqual(Format.fixed(0.9314, digits: 3), "0.931")
        XCTAssertEqual(Format.fixed(0.9315, digits: 3), "0.932")
        XCTAssertEqual(Format.fixed(-0.0004, digits: 3), "0.000")
        XCTAssertEqual(Format.fixed(-2.5, digits: 1), "−2.5")
        XCTAssertEqual(Format.fixed(.nan, digits: 2), "–")
        XCTAssertEqual(Format.percent(0.7034), "70.3 %")
        XCTAssertEqual(Format.count(1234567), "1\u{2009}234\u{2009}567")
        XCTAssertEqual(Format.signed(0.021, digits: 3), "+0.021")
        XCTAssertEqual(Format.signed(-0.004, digits: 3), "−0.004")
        XCTAssertEqual(Format.signed(0.0001, digits: 3), "0.000")
        XCTAssertEqual(Estimate(0.93, lower: 0.9, upper: 0.96).formatted(digits: 2), "0.93 (0.90–0.96)")
    }

    /// The generated tables are matplotlib's (end points) and rise in lightness, so they read in grey print.
    func testColorMapsAreMonotoneInLightness() {
        XCTAssertEqual(ColorMap.viridis.packed(0), 0x440154)
        XCTAssertEqual(ColorMap.viridis.packed(1), 0xFDE725)
        XCTAssertEqual(ColorMap.inferno.packed(0), 0x000004)
        XCTAssertEqual(ColorMap.inferno.packed(1), 0xFCFFA4)
        for map in [ColorMap.viridis, ColorMap.inferno] {
            XCTAssertEqual(map.count, 256)
            var previous = -1.0
            for i in stride(from: 0, to: 256, by: 8) {
                let l = map.entry(i).luminance
                XCTAssertGreaterThan(l, previous, "\(map.name)[\(i)]")
                previous = l
            }
        }
    }

    func testMarkupParser() throws {
        let blocks = try MarkupParser.parse("""
        # Title one
        A paragraph that
        continues here with **bold** and `mono`.

        - item one
        - item _two_
        @table metrics
        @grid columns=2 height=180 a b c
        ```
        verbatim **not bold**
        ```
        @callout fail Something \\*starred\\*
        """)
        guard blocks.count == 7 else { return XCTFail("\(blocks)") }
        if case .heading(1, "Title one") = blocks[0] {} else { XCTFail("\(blocks[0])") }
        if case .paragraph(let spans) = blocks[1] {
            XCTAssertEqual(spans.map(\.text).joined(), "A paragraph that continues here with bold and mono.")
            XCTAssertTrue(spans.contains(Span(text: "bold", style: .bold)))
            XCTAssertTrue(spans.contains(Span(text: "mono", style: .mono)))
        } else { XCTFail("\(blocks[1])") }
        if case .bullets(let items) = blocks[2] {
            XCTAssertEqual(items.count, 2)
            XCTAssertTrue(items[1].contains(Span(text: "two", style: .italic)))
        } else { XCTFail() }
        if case .table("metrics") = blocks[3] {} else { XCTFail() }
        if case .figures(let ids, 2, 180) = blocks[4] { XCTAssertEqual(ids, ["a", "b", "c"]) } else { XCTFail("\(blocks[4])") }
        if case .code(let lines) = blocks[5] { XCTAssertEqual(lines, ["verbatim **not bold**"]) } else { XCTFail() }
        if case .callout(.fail, false, let spans) = blocks[6] { XCTAssertEqual(spans.map(\.text).joined(), "Something *starred*") } else { XCTFail() }
        XCTAssertEqual(MarkupParser.inline("snake_case_name"), [Span(text: "snake_case_name", style: .regular)])

        XCTAssertThrowsError(try MarkupParser.parse("@frobnicate x")) { error in
            XCTAssertTrue("\(error)".contains("unknown directive @frobnicate"), "\(error)")
        }
        XCTAssertThrowsError(try MarkupParser.parse("@figure a height=tall"))
        XCTAssertThrowsError(try MarkupParser.parse("```\nunclosed"))
    }

    func testTemplatesEscapeValuesAndReportErrors() throws {
        let dir = try artifactDirectory("templates")
        try FileManager.default.createDirectory(atPath: dir + "/report", withIntermediateDirectories: true)
        try "# {{title}}\n{{> report/part}}\n".write(toFile: dir + "/report/report.mustache", atomically: true, encoding: .utf8)
        try "Cohort **{{name}}** & {{#items}}{{.}}{{^last()}}, {{/last()}}{{/items}}\n".write(toFile: dir + "/report/part.mustache", atomically: true, encoding: .utf8)
        let templates = try ReportTemplates(directory: dir)
        let markup = try templates.render("report/report", values: ["title": "Q&A *1*", "name": "A_B @x", "items": ["a", "b"]])
        XCTAssertEqual(markup, "# Q&A \\*1\\*\nCohort **A\\_B \\@x** & a, b\n")
        let blocks = try MarkupParser.parse(markup)
        if case .heading(1, "Q&A *1*") = blocks[0] {} else { XCTFail("\(blocks)") }
        if case .paragraph(let spans) = blocks[1] {
            XCTAssertEqual(spans.map(\.text).joined(), "Cohort A_B @x & a, b")
        } else { XCTFail() }

        try "{{#open}}never closed\n".write(toFile: dir + "/report/broken.mustache", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReportTemplates(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("broken.mustache"), "\(error)")
        }
        XCTAssertThrowsError(try ReportTemplates(directory: dir + "/missing"))
    }

    func testMissingIdsAndBadDataThrowInsteadOfTrapping() throws {
        let content = ReportContent(metadata: DocumentMetadata(title: "t", author: "a", creationDate: "2024-01-01T00:00:00Z"),
                                    runningHeader: "h", footer: "f", tables: [
                                        "bad": ReportTable(columns: [.init("A"), .init("B")], rows: [.init(["only one"])]),
                                    ], figures: [
                                        "roc": Figure(LinePlot(xAxis: Axis("x"), yAxis: Axis("y"), series: [.init(label: "s", x: [0, 1], y: [0], style: .cycle(0))])),
                                        "cm": Figure(ConfusionMatrixPlot(classNames: ["a", "b"], counts: [[1, 2]])),
                                    ])
        let r = DocumentRenderer()
        XCTAssertThrowsError(try r.render(markup: "@table nothing", content: content)) { XCTAssertTrue("\($0)".contains("no table named 'nothing'")) }
        XCTAssertThrowsError(try r.render(markup: "@table bad", content: content)) { XCTAssertTrue("\($0)".contains("row 1 has 1 cells")) }
        XCTAssertThrowsError(try r.render(markup: "@figure roc", content: content)) { XCTAssertTrue("\($0)".contains("1 y values")) }
        XCTAssertThrowsError(try r.render(markup: "@figure cm", content: content))
        let slice = SliceImage(width: 4, height: 4, hu: [0, 1])
        XCTAssertThrowsError(try Raster.slice(slice, window: .lung, maxSide: 64))
    }

    func testTextWrapsWithinWidthAndKeepsEveryWord() throws {
        let surface = try CairoSurface.pdf(width: 200, height: 200)
        let cx = try CairoContext(surface: surface)
        let text = "The candidate model passes every release gate with 95 % sensitivity, and a SHA-256 of 0123456789abcdef0123456789abcdef0123456789abcdef follows."
        let lines = TextLayout.wrap(MarkupParser.inline(text), width: 150, style: TextStyle(Font(.sans, 9)), cx: cx)
        XCTAssertGreaterThan(lines.count, 3)
        for l in lines { XCTAssertLessThanOrEqual(l.width, 150.01) }
        let rejoined = lines.map { $0.runs.map(\.text).joined() }.joined(separator: " ")
        XCTAssertEqual(rejoined.replacingOccurrences(of: "\u{00A0}", with: " ").replacingOccurrences(of: " ", with: ""),
                       text.replacingOccurrences(of: " ", with: ""))
        // "95 %" is never split.
        XCTAssertFalse(lines.contains { $0.runs.first?.text.hasPrefix("%") ?? false })
    }

    /// HU windowing and the overlay's premultiplied alpha, read back from cairo's own pixel memory.
    func testRastersRespectWindowStrideAndPremultiply() throws {
        // 3 x 2 slice: odd width, so the stride (12 bytes for RGB24) is tested with padding-free rows
        // and the overlay (5 wide) with cairo's own stride.
        let s = SliceImage(width: 3, height: 2, hu: [-1350, -600, 150, -2000, 1000, .nan])
        let img = try Raster.slice(s, window: .lung, maxSide: 64)
        var greys: [UInt32] = []
        img.writePixels { _, row in for p in row { greys.append(p & 0xFF) } }
        XCTAssertEqual(greys, [0, 128, 255, 0, 255, 0])
        let overlay = LesionOverlay(width: 1, height: 1, values: [1], opacity: 0.5, threshold: 0.2)
        let o = try Raster.overlay(overlay, outW: 5, outH: 1, map: .inferno)
        img.writePixels { _, _ in }
        o.writePixels { _, row in
            for p in row {
                let a = p >> 24, r = (p >> 16) & 0xFF, g = (p >> 8) & 0xFF, b = p & 0xFF
                XCTAssertEqual(Int(a), 128, accuracy: 1)
                XCTAssertLessThanOrEqual(r, a); XCTAssertLessThanOrEqual(g, a); XCTAssertLessThanOrEqual(b, a)
            }
        }
    }
}
