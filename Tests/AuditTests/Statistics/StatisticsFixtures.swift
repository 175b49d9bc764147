import Foundation
import XCTest
@testable import Audit

/// Tests/Fixtures/stats, written by tools/stats_make_fixtures.py (scikit-learn, SciPy,
/// statsmodels, pROC): never edited by hand.
enum StatsFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/stats")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let expected: JSON = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("expected.json"))
        return try! JSONDecoder().decode(JSON.self, from: data)
    }()

    /// The options the fixtures were computed with.
    static var options: StatisticsOptions {
        StatisticsOptions(seed: UInt64(expected["seed"].int), resamples: expected["resamples"].int,
                          confidenceLevel: expected["level"].double, calibrationBins: expected["bins"].int)
    }

    static func set(_ name: String) throws -> PredictionSet { try PredictionSet(contentsOfCSV: path(name)) }
}

/// A read-only view of parsed JSON for the fixture comparisons. (JSONDecoder parses numbers
/// exactly; Foundation's JSONSerialization on Linux does not.)
enum JSON: Decodable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSON].self)) }
    }

    subscript(key: String) -> JSON {
        if case let .object(o) = self { return o[key] ?? .null }
        return .null
    }

    subscript(index: Int) -> JSON {
        if case let .array(a) = self, index < a.count { return a[index] }
        return .null
    }

    var isNull: Bool { if case .null = self { return true } else { return false } }

    var optionalDouble: Double? {
        switch self {
        case let .integer(i): return Double(i)
        case let .number(d): return d
        default: return nil
        }
    }

    var double: Double { optionalDouble! }

    var int64: Int64 {
        guard case let .integer(i) = self else { fatalError("not an integer: \(self)") }
        return i
    }

    var int: Int { Int(int64) }

    var string: String {
        guard case let .string(s) = self else { fatalError("not a string: \(self)") }
        return s
    }

    var array: [JSON] {
        if case let .array(a) = self { return a }
        return []
    }

    var object: [String: JSON] {
        if case let .object(o) = self { return o }
        return [:]
    }
}

/// |a − b| ≤ rel·|b| + abs, with nil matching only null.
func assertClose(_ actual: Double?, _ expected: JSON, rel: Double = 1e-9, abs absolute: Double = 1e-12, _ what: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
    switch (actual, expected.optionalDouble) {
    case (nil, nil):
        return
    case let (a?, e?):
        XCTAssertLessThanOrEqual(abs(a - e), rel * abs(e) + absolute, "\(what()): \(a) vs expected \(e)", file: file, line: line)
    default:
        XCTFail("\(what()): \(String(describing: actual)) vs expected \(expected)", file: file, line: line)
    }
}

/// An interval against `[lower, upper]` (or null).
func assertClose(_ actual: ConfidenceInterval?, _ expected: JSON, rel: Double = 1e-9, _ what: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual == nil, expected.isNull, "\(what()): presence", file: file, line: line)
    guard let actual, !expected.isNull else { return }
    assertClose(actual.lower, expected[0], rel: rel, what() + " lower", file: file, line: line)
    assertClose(actual.upper, expected[1], rel: rel, what() + " upper", file: file, line: line)
}

/// A bootstrap interval against `[lower, upper, resamples]` (or null).
func assertClose(_ actual: BootstrapInterval?, _ expected: JSON, _ what: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual == nil, expected.isNull, "\(what()): presence", file: file, line: line)
    guard let actual, !expected.isNull else { return }
    assertClose(actual.lower, expected[0], what() + " lower", file: file, line: line)
    assertClose(actual.upper, expected[1], what() + " upper", file: file, line: line)
    XCTAssertEqual(actual.resamples, expected[2].int, what() + " defined resamples", file: file, line: line)
}

/// A proportion against `{count, total, value, wilson, bootstrap}`.
func assertProportion(_ actual: ProportionEstimate, _ expected: JSON, _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected["count"].int, what + " count", file: file, line: line)
    XCTAssertEqual(actual.total, expected["total"].int, what + " total", file: file, line: line)
    assertClose(actual.value, expected["value"], what + " value", file: file, line: line)
    assertClose(actual.wilson, expected["wilson"], what + " Wilson", file: file, line: line)
    assertClose(actual.bootstrap, expected["bootstrap"], what + " bootstrap", file: file, line: line)
}
