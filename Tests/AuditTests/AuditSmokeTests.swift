import XCTest
@testable import Audit

final class AuditSmokeTests: XCTestCase {
    func testToolVersionIsSet() {
        XCTAssertFalse(AuditLibrary.toolVersion.isEmpty)
    }
}
