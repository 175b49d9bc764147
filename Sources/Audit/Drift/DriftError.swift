import Foundation

/// Errors of the drift analysis, naming the run, file or key at fault.
public struct DriftError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}
