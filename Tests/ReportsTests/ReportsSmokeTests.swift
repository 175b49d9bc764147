import XCTest
@testable import Reports

final class ReportsSmokeTests: XCTestCase {
    func testLibraryLinks() {
        XCTAssertNotNil(ReportsLibrary.self)
    }
}
