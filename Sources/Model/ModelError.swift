import Foundation

/// Every error the Model library throws, with the offending path, tensor name or shape in it.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The safetensors container itself is malformed (header length, JSON, offsets, dtypes).
    case malformedFile(path: String, reason: String)
    /// The file is a valid safetensors file but not an MLung-Sys weight file of a known version.
    case wrongFormat(path: String, reason: String)
    /// A tensor the architecture needs is absent.
    case missingTensor(path: String, name: String)
    /// A tensor that the architecture does not have.
    case unexpectedTensor(path: String, name: String)
    /// A tensor whose shape differs from what the configuration implies.
    case mismatchedShape(path: String, name: String, expected: [Int], actual: [Int])
    /// The `config` metadata is not valid.
    case invalidConfig(path: String, reason: String)
    /// An input tensor that the engine cannot run on.
    case invalidInput(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .malformedFile(path, reason):
            return "\(path): malformed safetensors file: \(reason)"
        case let .wrongFormat(path, reason):
            return "\(path): not an MLung-Sys weight file: \(reason)"
        case let .missingTensor(path, name):
            return "\(path): missing tensor '\(name)'"
        case let .unexpectedTensor(path, name):
            return "\(path): unexpected tensor '\(name)' (not part of the configured architecture)"
        case let .mismatchedShape(path, name, expected, actual):
            return "\(path): tensor '\(name)' has shape \(actual), expected \(expected)"
        case let .invalidConfig(path, reason):
            return "\(path): invalid config: \(reason)"
        case let .invalidInput(path, reason):
            return "\(path): invalid input: \(reason)"
        }
    }
}
