import XCTest
@testable import Audit

/// The predictions CSV: what it accepts, and the file, line and column of what it rejects.
final class StatisticsCSVTests: XCTestCase {
    let header = "patient_id,label,p_healthy,p_covid19,p_h1n1,p_cap"

    func parse(_ text: String) throws -> PredictionSet { try PredictionSet(csv: text, path: "in.csv") }

    func expectError(_ text: String, line: Int, column: String?, mentioning needle: String,
                     file: StaticString = #filePath, sourceLine: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: sourceLine) { error in
            guard case let StatisticsError.malformedCSV(path, l, c, reason) = error else {
                return XCTFail("\(error)", file: file, line: sourceLine)
            }
            XCTAssertEqual(path, "in.csv", file: file, line: sourceLine)
            XCTAssertEqual(l, line, "line; \(reason)", file: file, line: sourceLine)
            XCTAssertEqual(c, column, "column; \(reason)", file: file, line: sourceLine)
            XCTAssertTrue(reason.contains(needle), "\(reason) should mention \(needle)", file: file, line: sourceLine)
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("in.csv:\(line):"), text, file: file, line: sourceLine)
            XCTAssertFalse(text.contains("\n"), "one line", file: file, line: sourceLine)
        }
    }

    func testValidFileWithQuotesBOMCRLFAndMetadata() throws {
        let text = "\u{FEFF}Patient_ID,LABEL,p_healthy,p_covid19,p_h1n1,p_cap,site,note\r\n"
            + "a,COVID19,0.1,0.7,0.1,0.1,\"Ward 3, east\",\"said \"\"hi\"\"\nthen left\"\r\n"
            + "\r\n"
            + "b,,0.25,0.25,0.25,0.25,B,\r\n"
        let set = try parse(text)
        XCTAssertEqual(set.metadataColumns, ["site", "note"])
        XCTAssertEqual(set.patients.map(\.patientID), ["a", "b"])
        XCTAssertEqual(set.patients[0].label, .covid19)
        XCTAssertEqual(set.patients[0].metadata["site"], "Ward 3, east")
        XCTAssertEqual(set.patients[0].metadata["note"], "said \"hi\"\nthen left")
        XCTAssertNil(set.patients[1].label)
        XCTAssertEqual(set.patients[1].predicted, .healthy, "all tied: the lowest index")
    }

    func testWithoutLabelColumnEveryPatientIsUnlabelled() throws {
        let set = try parse("patient_id,p_healthy,p_covid19,p_h1n1,p_cap\nx,0.1,0.2,0.3,0.4\n")
        XCTAssertNil(set.patients[0].label)
        XCTAssertEqual(set.patients[0].predicted, .cap)
    }

    func testMalformedFilesNameLineAndColumn() {
        expectError("", line: 1, column: nil, mentioning: "empty file")
        expectError(header + "\n", line: 1, column: nil, mentioning: "no patient rows")
        expectError("patient_id,label,p_healthy,p_covid19,p_cap\n", line: 1, column: "p_h1n1", mentioning: "missing required column")
        expectError(header + ",site,Site\n", line: 1, column: "site", mentioning: "duplicate column")
        expectError(header + ",\n", line: 1, column: "#7", mentioning: "empty column name")
        expectError(header + "\na,healthy,0.7,0.1,0.1,0.1\nb,flu,0.7,0.1,0.1,0.1\n", line: 3, column: "label", mentioning: "unknown label 'flu'")
        expectError(header + "\na,healthy,0.7,0.1,x,0.1\n", line: 2, column: "p_h1n1", mentioning: "'x' is not a finite number")
        expectError(header + "\na,healthy,0.7,0.1,,0.1\n", line: 2, column: "p_h1n1", mentioning: "missing probability")
        expectError(header + "\na,healthy,nan,0.1,0.1,0.1\n", line: 2, column: "p_healthy", mentioning: "not a finite number")
        expectError(header + "\na,healthy,1.2,-0.1,0.0,-0.1\n", line: 2, column: "p_healthy", mentioning: "outside [0, 1]")
        expectError(header + "\na,healthy,0.7,0.1,0.1,0.2\n", line: 2, column: "p_healthy+p_covid19+p_h1n1+p_cap", mentioning: "sum to")
        expectError(header + "\na,healthy,0.7,0.1,0.1,0.1\n\"\"\"multi\nline\"\"\",cap,0.1,0.1,0.1,0.7\na,cap,0.1,0.1,0.1,0.7\n",
                    line: 5, column: "patient_id", mentioning: "duplicate patient id 'a' (first on line 2)")
        expectError(header + "\n ,healthy,0.7,0.1,0.1,0.1\n", line: 2, column: "patient_id", mentioning: "empty patient id")
        expectError(header + "\na,healthy,0.7,0.1,0.1\n", line: 2, column: "p_cap", mentioning: "5 fields, the header has 6")
        expectError(header + "\na,healthy,0.7,0.1,0.1,0.1,extra\n", line: 2, column: "#7", mentioning: "7 fields")
        expectError(header + "\na,healthy,0.7,0.1,0.1,\"0.1\n", line: 2, column: "#6", mentioning: "unterminated quoted field")
        expectError(header + "\na,heal\"thy,0.7,0.1,0.1,0.1\n", line: 2, column: "#2", mentioning: "stray double quote")
        expectError(header + "\na,\"healthy\"x,0.7,0.1,0.1,0.1\n", line: 2, column: "#2", mentioning: "text after a closing quote")
    }

    func testSumToleranceIsOneThousandth() throws {
        XCTAssertNoThrow(try parse(header + "\na,healthy,0.7,0.1,0.1,0.1009\n"))
        XCTAssertThrowsError(try parse(header + "\na,healthy,0.7,0.1,0.1,0.1011\n"))
    }

    func testUnreadableFile() {
        XCTAssertThrowsError(try PredictionSet(contentsOfCSV: "/nonexistent/p.csv")) { error in
            guard case StatisticsError.unreadable(path: "/nonexistent/p.csv", reason: _) = error else { return XCTFail("\(error)") }
        }
    }

    func testClassNamesAreTheManifestLabels() {
        XCTAssertEqual(Diagnosis.allCases.map(\.name), CohortManifest.labels)
        XCTAssertEqual(MetricID.all.map(\.name).compactMap(MetricID.init(name:)), MetricID.all)
        XCTAssertEqual(MetricID.all.enumerated().map { $0.offset }, MetricID.all.map(\.index))
    }

    func testSubgroupSpecs() throws {
        XCTAssertEqual(try SubgroupSpec(parsing: "Site"), SubgroupSpec(column: "site"))
        let age = try SubgroupSpec(parsing: "age:40,65.5")
        XCTAssertEqual(age.bandEdges, [40, 65.5])
        XCTAssertEqual(age.bandNames, ["<40", "40-<65.5", ">=65.5"])
        XCTAssertEqual(try age.group(of: "40", patient: "p"), "40-<65.5")
        XCTAssertEqual(try age.group(of: "39.9", patient: "p"), "<40")
        XCTAssertEqual(try age.group(of: " ", patient: "p"), SubgroupSpec.missing)
        XCTAssertThrowsError(try age.group(of: "old", patient: "p7")) { XCTAssertTrue("\($0)".contains("p7")) }
        XCTAssertThrowsError(try SubgroupSpec(parsing: "age:65,40"))
        XCTAssertThrowsError(try SubgroupSpec(parsing: "age:"))
        XCTAssertThrowsError(try SubgroupSpec(parsing: ":40"))
        let set = try StatsFixtures.set("tiny.csv")
        XCTAssertThrowsError(try Evaluator.subgroups(set, by: [SubgroupSpec(column: "site")])) { error in
            XCTAssertTrue("\(error)".contains("has no column 'site'"), "\(error)")
        }
    }
}
