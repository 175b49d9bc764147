import Foundation

extension WeightFile {
    /// A deterministic random-weight model of `config` (Kaiming-normal convolutions, sane
    /// BatchNorm statistics), for benchmarks and tests that need a model of a given size.
    public static func synthetic(config: ModelConfig, seed: UInt64 = 1, name: String = "synthetic") throws -> WeightFile {
        var rng = SplitMix64(seed: seed)
        var w = SafeTensorsWriter()
        w.metadata = [
            "format": "mlung-sys", "format_version": "1",
            "model_name": name, "model_version": "seed-\(seed)",
            "config": config.canonicalJSON,
        ]
        for (tensorName, shape) in Architecture.expectedShapes(config) {
            let count = shape.reduce(1, *)
            var values = [Float](repeating: 0, count: count)
            if tensorName.hasSuffix("running_var") {
                for i in 0..<count { values[i] = 0.5 + 1.5 * rng.uniform() }
            } else if tensorName.contains(".bn") || tensorName.contains("downsample.1") || tensorName.contains("backbone.bn1") {
                let isWeight = tensorName.hasSuffix(".weight")
                for i in 0..<count { values[i] = isWeight ? 0.5 + rng.uniform() : 0.1 * rng.normal() }
            } else if shape.count == 4 {
                // Kaiming normal, fan_out, as torchvision initialises ResNet convolutions.
                let std = (2 / Float(shape[0] * shape[2] * shape[3])).squareRoot()
                for i in 0..<count { values[i] = std * rng.normal() }
            } else {
                let fanIn = shape.count == 2 ? shape[1] : 1
                let std = 1 / Float(fanIn).squareRoot()
                for i in 0..<count { values[i] = std * rng.normal() }
            }
            w.add(tensorName, shape: shape, .f32(values))
        }
        return try WeightFile(bytes: w.encoded(), path: "<synthetic \(name)>")
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014; Vigna's splitmix64.c): a small deterministic
/// generator for synthetic weights and inputs, and the seeder of the bootstrap's xoshiro256**.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    /// Standard normal (Box-Muller).
    public mutating func normal() -> Float {
        let u1 = max(uniform(), 1e-7), u2 = uniform()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }
}
