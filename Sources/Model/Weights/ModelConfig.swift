import Foundation

/// The `config` of an MLung-Sys weight file (spec section 5). Every key omitted from the
/// file takes the spec's default; an unknown key is an error, since it would name a
/// behaviour this engine does not implement.
public struct ModelConfig: Sendable, Equatable, Codable {
    // Preprocessing (spec section 1).
    public var inputSize = 224
    public var windowWidth: Float = 1200
    public var windowCenters: [Float] = [-600, -500]
    public var lungThresholdHU: Float = -320
    public var openingKernel = 5
    public var cropMargin = 10
    public var minComponentFraction: Double = 0.0025
    // Slice network (spec section 2).
    public var stemWidth = 64
    public var stageBlocks = [3, 4, 6, 3]
    public var stageWidths = [64, 128, 256, 512]
    public var expansion = 4
    // Patient network (spec sections 3-4).
    public var reducedDim = 512
    public var heads = 8
    public var scales = [1, 2, 3, 4]
    public var refineLayers = 2
    public var nonparamTau: Float = 0.95

    /// Channels of layer3's output (`C3`).
    public var c3: Int { expansion * stageWidths[2] }
    /// Channels of layer4's output (`C4`).
    public var c4: Int { expansion * stageWidths[3] }
    /// Length of a slice feature, `D = C3 + C4`.
    public var featureDim: Int { c3 + c4 }

    /// The JSON keys, in the spec's order.
    public static let keys = [
        "input_size", "window_width", "window_centers", "lung_threshold_hu", "opening_kernel",
        "crop_margin", "min_component_fraction", "stem_width", "stage_blocks", "stage_widths",
        "expansion", "reduced_dim", "heads", "scales", "refine_layers", "nonparam_tau",
    ]

    enum CodingKeys: String, CodingKey {
        case inputSize = "input_size", windowWidth = "window_width", windowCenters = "window_centers"
        case lungThresholdHU = "lung_threshold_hu", openingKernel = "opening_kernel"
        case cropMargin = "crop_margin", minComponentFraction = "min_component_fraction"
        case stemWidth = "stem_width", stageBlocks = "stage_blocks", stageWidths = "stage_widths"
        case expansion, reducedDim = "reduced_dim", heads, scales
        case refineLayers = "refine_layers", nonparamTau = "nonparam_tau"
    }

    public init() {}

    /// Spatial size of layer3's output for this input size (`H3 = W3`).
    public var layer3Size: Int {
        var s = (inputSize + 2 * 3 - 7) / 2 + 1   // conv1, stride 2, pad 3
        s = (s + 2 - 3) / 2 + 1                    // maxpool 3, stride 2, pad 1
        s = (s - 1) / 2 + 1                        // layer2
        s = (s - 1) / 2 + 1                        // layer3
        return s
    }

    /// Parses the `config` JSON string of a weight file; `path` is for error messages.
    public init(json: String, path: String) throws {
        guard let data = json.data(using: .utf8),
              let obj = try? JSONSerialization.jsonObject(with: data),
              let dict = obj as? [String: Any]
        else { throw ModelError.invalidConfig(path: path, reason: "config is not a JSON object") }
        for key in dict.keys where !Self.keys.contains(key) {
            throw ModelError.invalidConfig(path: path, reason: "unknown key '\(key)'")
        }
        func int(_ k: String, _ v: inout Int) throws {
            guard let x = dict[k] else { return }
            guard let n = Self.integer(x) else { throw ModelError.invalidConfig(path: path, reason: "'\(k)' must be an integer") }
            v = n
        }
        func ints(_ k: String, _ v: inout [Int]) throws {
            guard let x = dict[k] else { return }
            guard let a = x as? [Any], let n = Optional(a.compactMap(Self.integer)), n.count == a.count else {
                throw ModelError.invalidConfig(path: path, reason: "'\(k)' must be a list of integers")
            }
            v = n
        }
        func number(_ k: String) throws -> Double? {
            guard let x = dict[k] else { return nil }
            guard let n = x as? NSNumber, !Self.isBool(n), n.doubleValue.isFinite else {
                throw ModelError.invalidConfig(path: path, reason: "'\(k)' must be a number")
            }
            return n.doubleValue
        }
        try int("input_size", &inputSize)
        if let v = try number("window_width") { windowWidth = Float(v) }
        if let x = dict["window_centers"] {
            guard let a = x as? [Any], let n = Optional(a.compactMap { ($0 as? NSNumber)?.floatValue }), n.count == a.count else {
                throw ModelError.invalidConfig(path: path, reason: "'window_centers' must be a list of numbers")
            }
            windowCenters = n
        }
        if let v = try number("lung_threshold_hu") { lungThresholdHU = Float(v) }
        try int("opening_kernel", &openingKernel)
        try int("crop_margin", &cropMargin)
        if let v = try number("min_component_fraction") { minComponentFraction = v }
        try int("stem_width", &stemWidth)
        try ints("stage_blocks", &stageBlocks)
        try ints("stage_widths", &stageWidths)
        try int("expansion", &expansion)
        try int("reduced_dim", &reducedDim)
        try int("heads", &heads)
        try ints("scales", &scales)
        try int("refine_layers", &refineLayers)
        if let v = try number("nonparam_tau") { nonparamTau = Float(v) }
        try validate(path: path)
    }

    /// JSON `true`/`false` parse as NSNumber too; on Linux `x is Bool` also holds for 0 and 1.
    static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    private static func integer(_ x: Any) -> Int? {
        guard let n = x as? NSNumber, !isBool(n) else { return nil }
        let d = n.doubleValue
        guard d.rounded() == d, abs(d) < 1e9 else { return nil }
        return Int(d)
    }

    /// Checks that the values describe a network this engine can build.
    public func validate(path: String) throws {
        func fail(_ s: String) -> ModelError { .invalidConfig(path: path, reason: s) }
        guard inputSize >= 32, inputSize <= 4096 else { throw fail("input_size \(inputSize) must be in 32...4096") }
        guard windowWidth > 0 else { throw fail("window_width must be positive") }
        guard !windowCenters.isEmpty else { throw fail("window_centers must not be empty") }
        guard openingKernel >= 1 else { throw fail("opening_kernel must be at least 1") }
        guard cropMargin >= 0 else { throw fail("crop_margin must not be negative") }
        guard minComponentFraction >= 0, minComponentFraction <= 1 else { throw fail("min_component_fraction must be in [0, 1]") }
        guard stemWidth >= 1 else { throw fail("stem_width must be positive") }
        guard stageBlocks.count == 4, stageBlocks.allSatisfy({ $0 >= 1 }) else { throw fail("stage_blocks must be 4 positive integers") }
        guard stageWidths.count == 4, stageWidths.allSatisfy({ $0 >= 1 }) else { throw fail("stage_widths must be 4 positive integers") }
        guard expansion >= 1 else { throw fail("expansion must be positive") }
        guard reducedDim >= 1, heads >= 1, reducedDim % heads == 0 else {
            throw fail("reduced_dim \(reducedDim) must be a positive multiple of heads \(heads)")
        }
        guard !scales.isEmpty, scales.allSatisfy({ $0 >= 1 }) else { throw fail("scales must be positive integers") }
        guard refineLayers >= 0 else { throw fail("refine_layers must not be negative") }
        guard nonparamTau.isFinite else { throw fail("nonparam_tau must be a number") }
    }

    /// The config as canonical JSON (keys sorted), as stored in an audit.
    public var canonicalJSON: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try! enc.encode(self), as: UTF8.self)
    }
}
