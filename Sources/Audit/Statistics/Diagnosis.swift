/// The four classes of MLung-Sys, in the model's output order.
///
/// "Sick" means any class but `healthy`: the three pneumonias are the diseases.
public enum Diagnosis: Int, CaseIterable, Comparable, Codable, Sendable, CustomStringConvertible {
    case healthy = 0
    case covid19 = 1
    case h1n1 = 2
    case cap = 3

    /// The class name as written in manifests, prediction CSVs and JSON (`healthy`, `covid19`, ...).
    public var name: String {
        switch self {
        case .healthy: return "healthy"
        case .covid19: return "covid19"
        case .h1n1: return "h1n1"
        case .cap: return "cap"
        }
    }

    public var description: String { name }

    /// The class with this name (any case), or nil.
    public init?(name: String) {
        guard let d = Diagnosis.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = d
    }

    /// True for the three diseases.
    public var isSick: Bool { self != .healthy }

    public static func < (a: Diagnosis, b: Diagnosis) -> Bool { a.rawValue < b.rawValue }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let d = Diagnosis(name: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown class '\(s)'")
        }
        self = d
    }
}
