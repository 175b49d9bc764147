import Foundation
import XCTest
@testable import Reports

final class PseudonymizerTests: XCTestCase {
    /// RFC 4231 test cases 1, 2 and 6 (also what Python's hmac module gives).
    func testHMACMatchesRFC4231() {
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        XCTAssertEqual(hex(HMACSHA256.mac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(hex(HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(hex(HMACSHA256.mac(key: [UInt8](repeating: 0xaa, count: 131),
                                          message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testPseudonymsAreStableKeyedAndOpaque() throws {
        let a = try Pseudonymizer(secret: Array("audit-secret-aaaaaaaaaaaaaaaa".utf8))
        let b = try Pseudonymizer(secret: Array("audit-secret-bbbbbbbbbbbbbbbb".utf8))
        let id = PatientIdentifier("PAT-000123")
        XCTAssertEqual(a.patient(id), a.patient(id))
        XCTAssertNotEqual(a.patient(id), b.patient(id))
        XCTAssertNotEqual(a.patient(id), a.patient(PatientIdentifier("PAT-000124")))
        let p = a.patient(id)
        XCTAssertTrue(p.hasPrefix("P-"))
        XCTAssertEqual(p.count, 12)
        XCTAssertTrue(p.dropFirst(2).allSatisfy { "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains($0) })
        XCTAssertFalse(p.contains("123"))
        // No collisions among 5 000 ids.
        let all = Set((0..<5000).map { a.patient(PatientIdentifier("PID\($0)")) })
        XCTAssertEqual(all.count, 5000)
    }

    func testDateShiftKeepsIntervalsAndStaysInRange() throws {
        let p = try Pseudonymizer(secretHex: String(repeating: "5a", count: 32))
        XCTAssertTrue((30...395).contains(p.dateShiftDays))
        let d1 = StudyDate("20200106")!, d2 = StudyDate("2020-03-01")!
        XCTAssertEqual(p.date(d2).daysSinceEpoch - p.date(d1).daysSinceEpoch, d2.daysSinceEpoch - d1.daysSinceEpoch)
        XCTAssertEqual(d1.daysSinceEpoch - p.date(d1).daysSinceEpoch, p.dateShiftDays)
        XCTAssertEqual(IdentifierPolicy.shown.display(d1), "2020-01-06")
        XCTAssertTrue(IdentifierPolicy.pseudonymised(p).display(d1).hasSuffix("*"))
    }

    func testShortOrMalformedSecretsThrow() {
        XCTAssertThrowsError(try Pseudonymizer(secret: [1, 2, 3]))
        XCTAssertThrowsError(try Pseudonymizer(secretHex: "abc"))
        XCTAssertThrowsError(try Pseudonymizer(secretHex: String(repeating: "zz", count: 16)))
    }

    /// Day arithmetic against Foundation's Gregorian calendar (an independent implementation).
    func testStudyDateDaysAgreeWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let epoch = calendar.date(from: DateComponents(year: 1970, month: 1, day: 1))!
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2020, 12, 31), (1900, 3, 1), (2024, 5, 2), (1969, 12, 31)] {
            let date = calendar.date(from: DateComponents(year: y, month: m, day: d))!
            let days = calendar.dateComponents([.day], from: epoch, to: date).day!
            let s = StudyDate(year: y, month: m, day: d)!
            XCTAssertEqual(s.daysSinceEpoch, days, "\(s)")
            XCTAssertEqual(StudyDate(daysSinceEpoch: days), s)
        }
        XCTAssertNil(StudyDate("20210229"))
        XCTAssertNil(StudyDate("2021-13-01"))
        XCTAssertNil(StudyDate("garbage!"))
    }
}
