import Foundation
import XCTest
@testable import Audit

final class CohortManifestTests: XCTestCase {
    func manifest(_ text: String, check: Bool = false) throws -> CohortManifest {
        try CohortManifest(text: text, path: "/data/cohort/manifest.csv", checkPaths: check)
    }

    func assertError(_ text: String, line: Int, column: String?, contains: String, file: StaticString = #filePath, lineNo: UInt = #line) {
        XCTAssertThrowsError(try manifest(text), file: file, line: lineNo) { error in
            guard case let IngestError.manifest(path, l, c, reason) = error else { return XCTFail("\(error)", file: file, line: lineNo) }
            XCTAssertEqual(path, "/data/cohort/manifest.csv", file: file, line: lineNo)
            XCTAssertEqual(l, line, "\(error)", file: file, line: lineNo)
            XCTAssertEqual(c, column, "\(error)", file: file, line: lineNo)
            XCTAssertTrue(reason.contains(contains), reason, file: file, line: lineNo)
        }
    }

    func testParsesColumnsLabelsMetadataAndQuoting() throws {
        let m = try manifest("\u{FEFF}patient_id,path,series_uid,label,site,note\r\n" +
                             "P1,p1,,COVID19,A,plain\r\n" +
                             "\r\n" +
                             "\"P,2\",/abs/p2,1.2.840.1,,\"B\",\"multi\nline \"\"quoted\"\"\"\n" +
                             "P3, ../other/p3 ,,healthy,C,\n")
        XCTAssertEqual(m.metadataColumns, ["site", "note"])
        XCTAssertEqual(m.entries.map(\.patientID), ["P1", "P,2", "P3"])
        XCTAssertEqual(m.entries.map(\.line), [2, 4, 6])
        XCTAssertEqual(m.entries[0].paths, ["/data/cohort/p1"])
        XCTAssertEqual(m.entries[1].paths, ["/abs/p2"])
        XCTAssertEqual(m.entries[2].paths, ["/data/other/p3"])
        XCTAssertEqual(m.entries.map(\.labelName), ["covid19", nil, "healthy"])
        XCTAssertEqual(m.entries[1].seriesUID, "1.2.840.1")
        XCTAssertEqual(m.entries[1].metadata, ["site": "B", "note": "multi\nline \"quoted\""])
        XCTAssertEqual(m.entries[2].metadata["note"], "")
    }

    func testOptionalColumnsAndOrder() throws {
        let m = try manifest("Path,Patient_ID\nx,P1")
        XCTAssertEqual(m.entries.first?.patientID, "P1")
        XCTAssertNil(m.entries.first?.label)
        XCTAssertNil(m.entries.first?.seriesUID)
    }

    func testErrorsNameLineAndColumn() {
        assertError("", line: 1, column: nil, contains: "empty manifest")
        assertError("patient_id,label\nP1,healthy", line: 1, column: "path", contains: "missing required column")
        assertError("patient_id,path,path\n", line: 1, column: "path", contains: "duplicate column")
        assertError("patient_id,path,label\nP1,a,healthy\nP2,b,flu", line: 3, column: "label", contains: "unknown label 'flu'")
        assertError("patient_id,path\nP1,a\nP2,b\nP1,c", line: 4, column: "patient_id", contains: "first on line 2")
        assertError("patient_id,path\nP1,a,extra", line: 2, column: nil, contains: "3 fields, the header has 2")
        assertError("patient_id,path\n,a", line: 2, column: "patient_id", contains: "empty patient id")
        assertError("patient_id,path\nP1,", line: 2, column: "path", contains: "empty path")
        assertError("patient_id,path,series_uid\nP1,a,1.2.x", line: 2, column: "series_uid", contains: "not a DICOM UID")
        assertError("patient_id,path\nP1,\"a\nb", line: 2, column: "#2", contains: "unterminated")
        assertError("patient_id,path\nP1,a\"b\"", line: 2, column: "#2", contains: "stray double quote")
    }

    func testPathsAreCheckedAndFileListsExpanded() throws {
        let tmp = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: tmp.path("scans/p1"), withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: tmp.path("scans/a.dcm")))
        try "# files of P2\na.dcm\n\np1\n".write(toFile: tmp.path("scans/p2.txt"), atomically: true, encoding: .utf8)
        try "patient_id,path\nP1,scans/p1\nP2,scans/p2.txt\n".write(toFile: tmp.path("m.csv"), atomically: true, encoding: .utf8)
        let m = try CohortManifest(contentsOf: tmp.path("m.csv"))
        XCTAssertEqual(m.entries[0].paths, [(tmp.path("scans/p1") as NSString).standardizingPath])
        XCTAssertEqual(m.entries[1].paths.map { ($0 as NSString).lastPathComponent }, ["a.dcm", "p1"])
        try "patient_id,path\nP1,scans/missing\n".write(toFile: tmp.path("bad.csv"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CohortManifest(contentsOf: tmp.path("bad.csv"))) { e in
            XCTAssertTrue("\(e)".contains("bad.csv:2: column 'path': 'scans/missing' does not exist"), "\(e)")
        }
    }
}
