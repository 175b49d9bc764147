/// A value handed to the Mustache templates: text, a flag, a list or an object.
///
/// Numbers are formatted in Swift before they reach a template, so the wording can change
/// without touching how numbers are printed.
public enum TemplateValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    case text(String)
    case flag(Bool)
    case list([TemplateValue])
    case object([String: TemplateValue])

    public init(stringLiteral value: String) { self = .text(value) }
    public init(booleanLiteral value: Bool) { self = .flag(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, b in b }))
    }

    /// The value in the shape swift-mustache renders: String, Bool, [Any], [String: Any].
    var mustacheValue: Any {
        switch self {
        case .text(let s): return s
        case .flag(let b): return b
        case .list(let l): return l.map(\.mustacheValue)
        case .object(let o): return o.mapValues(\.mustacheValue)
        }
    }

    /// Looks up a dotted path such as "candidate.version" (for tests and diagnostics).
    public subscript(path: String) -> TemplateValue? {
        var current: TemplateValue? = self
        for key in path.split(separator: ".") {
            guard case .object(let o)? = current else { return nil }
            current = o[String(key)]
        }
        return current
    }

    /// Merges `other` into this object (other's keys win).
    public mutating func merge(_ other: [String: TemplateValue]) {
        guard case .object(var o) = self else { self = .object(other); return }
        for (k, v) in other { o[k] = v }
        self = .object(o)
    }
}
