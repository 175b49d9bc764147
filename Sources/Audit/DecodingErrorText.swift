import Foundation

/// A JSON/YAML decoding error in one line, with the key path (for error messages that name
/// the file and the problem).
public func decodingErrorText(_ error: Error) -> String {
    switch error {
    case let DecodingError.keyNotFound(key, ctx):
        return "missing key '\((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
    case let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx), let DecodingError.dataCorrupted(ctx):
        return "\(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)"
    default:
        return "\(error)"
    }
}
