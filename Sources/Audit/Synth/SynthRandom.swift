import Foundation

/// The generator's deterministic random numbers: SplitMix64 (Steele, Lea, Flood 2014), split
/// into independent streams by hashing the stream's keys into the starting state, so that a
/// patient's images depend only on the cohort seed and the patient's index, never on the
/// order in which threads pick patients up.
public struct SynthRandom: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A stream keyed by `seed` and `keys` (e.g. patient index, purpose).
    public init(seed: UInt64, _ keys: UInt64...) {
        var s = Self.mix(seed ^ 0x5851_F42D_4C95_7F2D)
        for k in keys { s = Self.mix(s ^ Self.mix(k &+ 0x9E37_79B9_7F4A_7C15)) }
        state = s
    }

    /// SplitMix64's finaliser: a bijective 64-bit mixing function.
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [a, b).
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// Standard normal (Box-Muller, one value per call).
    public mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// A pair of independent standard normals, as float (for noise fields).
    public mutating func normalPair() -> (Float, Float) {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        let r = (-2 * log(u1)).squareRoot()
        return (Float(r * cos(2 * .pi * u2)), Float(r * sin(2 * .pi * u2)))
    }

    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    /// Uniform integer in `0..<n` (n > 0).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }

    /// An index drawn with probability proportional to `weights` (non-negative, not all 0).
    public mutating func pick(weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var u = uniform() * total
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.count - 1
    }

    /// Fisher-Yates shuffle.
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, int(below: i + 1))
        }
    }
}

/// Smooth random texture in 3D: standard-normal values on a lattice of `cell` mm, trilinearly
/// interpolated with smoothstep weights. `value(x, y, z)` has mean 0 and a standard deviation
/// a little under 1 (interpolation averages lattice values).
public struct NoiseField: Sendable {
    public let cell: Double
    let origin: (Double, Double, Double)
    let nx: Int, ny: Int, nz: Int
    let values: [Float]

    /// A field covering the box `lo...hi` (mm), with one lattice point every `cell` mm.
    public init(lo: (Double, Double, Double), hi: (Double, Double, Double), cell: Double, rng: inout SynthRandom) {
        self.cell = cell
        origin = lo
        nx = Int(((hi.0 - lo.0) / cell).rounded(.up)) + 2
        ny = Int(((hi.1 - lo.1) / cell).rounded(.up)) + 2
        nz = Int(((hi.2 - lo.2) / cell).rounded(.up)) + 2
        var v = [Float](repeating: 0, count: nx * ny * nz)
        var i = 0
        while i < v.count {
            let (a, b) = rng.normalPair()
            v[i] = a
            if i + 1 < v.count { v[i + 1] = b }
            i += 2
        }
        values = v
    }

    @inline(__always)
    public func value(_ x: Double, _ y: Double, _ z: Double) -> Float {
        let fx = min(max((x - origin.0) / cell, 0), Double(nx - 1) - 1e-6)
        let fy = min(max((y - origin.1) / cell, 0), Double(ny - 1) - 1e-6)
        let fz = min(max((z - origin.2) / cell, 0), Double(nz - 1) - 1e-6)
        let ix = Int(fx), iy = Int(fy), iz = Int(fz)
        @inline(__always) func s(_ t: Double) -> Float { let u = Float(t); return u * u * (3 - 2 * u) }
        let tx = s(fx - Double(ix)), ty = s(fy - Double(iy)), tz = s(fz - Double(iz))
        let b = (iz * ny + iy) * nx + ix
        let sy = nx, sz = nx * ny
        return values.withUnsafeBufferPointer { v in
            let c00 = v[b] + tx * (v[b + 1] - v[b])
            let c10 = v[b + sy] + tx * (v[b + sy + 1] - v[b + sy])
            let c01 = v[b + sz] + tx * (v[b + sz + 1] - v[b + sz])
            let c11 = v[b + sz + sy] + tx * (v[b + sz + sy + 1] - v[b + sz + sy])
            let c0 = c00 + ty * (c10 - c00)
            let c1 = c01 + ty * (c11 - c01)
            return c0 + tz * (c1 - c0)
        }
    }
}
