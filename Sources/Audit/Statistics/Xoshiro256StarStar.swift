import Model

/// xoshiro256** 1.0 (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
/// 2018), the seeded generator behind every bootstrap of the audit.
///
/// Seeding: the 256-bit state is the first four outputs of SplitMix64 started at `seed`
/// (Vigna's recommendation). Indices in `0..<n` come from `index(below:)`, Lemire's
/// multiply-and-reject method (2019), so that the stream of indices is fully defined by the
/// seed and can be reproduced bit for bit elsewhere (tools/stats_make_fixtures.py does so).
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// The generator seeded from one 64-bit number through SplitMix64.
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        self.init(state: (sm.next(), sm.next(), sm.next(), sm.next()))
    }

    /// The generator with its raw state (not all zero), as in the reference C code.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** state must not be all zero")
        (s0, s1, s2, s3) = state
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// A uniform index in `0..<n` (n > 0), Lemire's method: take the high 64 bits of
    /// `next() * n` (128-bit product); when the low 64 bits are below `2^64 mod n`, draw again.
    @inline(__always)
    public mutating func index(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var (high, low) = next().multipliedFullWidth(by: bound)
        if low < bound {
            let threshold = (0 &- bound) % bound
            while low < threshold { (high, low) = next().multipliedFullWidth(by: bound) }
        }
        return Int(high)
    }
}
