import Foundation

/// Every error thrown while reading prediction files and computing audit statistics, with
/// the offending file, line and column where there is one.
public enum StatisticsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read at all.
    case unreadable(path: String, reason: String)
    /// A malformed predictions CSV, at a line (1-based, where the record starts) and a column
    /// (the header name, or `#n` for the n-th field when there is no name).
    case malformedCSV(path: String, line: Int, column: String?, reason: String)
    /// Two prediction sets that cannot be compared (different patients or labels).
    case mismatchedCohorts(baseline: String, candidate: String, reason: String)
    /// A subgroup specification that does not fit the data (unknown column, bad band edges).
    case invalidSubgroup(spec: String, reason: String)
    /// A caller passed a value the library cannot work with.
    case invalidArgument(reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .malformedCSV(path, line, column, reason):
            if let column { return "\(path):\(line): column '\(column)': \(reason)" }
            return "\(path):\(line): \(reason)"
        case let .mismatchedCohorts(baseline, candidate, reason):
            return "cannot compare \(candidate) with \(baseline): \(reason)"
        case let .invalidSubgroup(spec, reason):
            return "subgroup '\(spec)': \(reason)"
        case let .invalidArgument(reason):
            return "invalid argument: \(reason)"
        }
    }
}
