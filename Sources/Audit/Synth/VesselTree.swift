import Foundation

/// A tapered cylinder with round ends between two points (anatomy frame, mm): the primitive
/// every vessel, airway and great-vessel segment is drawn with.
public struct Capsule: Sendable {
    public var a: SIMD3<Double>
    public var b: SIMD3<Double>
    public var ra: Double
    public var rb: Double

    public init(_ a: SIMD3<Double>, _ b: SIMD3<Double>, _ ra: Double, _ rb: Double? = nil) {
        self.a = a
        self.b = b
        self.ra = ra
        self.rb = rb ?? ra
    }

    /// Distance from `p` to the axis and the radius there.
    @inline(__always)
    public func distance(_ p: SIMD3<Double>) -> (d: Double, r: Double) {
        let ab = b - a
        let l2 = (ab * ab).sum()
        let t = l2 > 0 ? min(max(((p - a) * ab).sum() / l2, 0), 1) : 0
        let q = a + t * ab - p
        return ((q * q).sum().squareRoot(), ra + t * (rb - ra))
    }

    public var length: Double { let d = b - a; return (d * d).sum().squareRoot() }
    public var maxRadius: Double { max(ra, rb) }
}

/// Branching trees that fill a region, built by recursive partition of random target points
/// (a simple space-colonisation): each segment heads toward the centroid of the targets it
/// serves, the targets are split in two along their widest axis, and each child's radius
/// follows Murray's law, r_child = r * (n_child / n)^(1/3), so vessels narrow toward the
/// periphery.
public enum VesselTree {
    /// Builds a tree from `root` with radius `rootRadius` serving `targets`.
    public static func build(root: SIMD3<Double>, rootRadius: Double, targets: [SIMD3<Double>],
                             rng: inout SynthRandom) -> [Capsule] {
        var out: [Capsule] = []
        grow(from: root, radius: rootRadius, targets: targets[...], depth: 0, rng: &rng, into: &out)
        return out
    }

    private static func grow(from s: SIMD3<Double>, radius r: Double, targets: ArraySlice<SIMD3<Double>>,
                             depth: Int, rng: inout SynthRandom, into out: inout [Capsule]) {
        let n = targets.count
        if n == 0 { return }
        let tip = max(0.3, r * 0.8)
        if n == 1 || depth > 16 {
            for t in targets { out.append(Capsule(s, t, r, tip)) }
            return
        }
        var c = SIMD3<Double>(0, 0, 0)
        for t in targets { c += t }
        c /= Double(n)
        let e = s + (c - s) * rng.uniform(0.3, 0.55)
        out.append(Capsule(s, e, r, r * 0.97))
        // Split along the axis of largest spread.
        var lo = SIMD3<Double>(repeating: .infinity), hi = SIMD3<Double>(repeating: -.infinity)
        for t in targets { lo = pointwiseMin(lo, t); hi = pointwiseMax(hi, t) }
        let span = hi - lo
        let axis = span.x >= span.y && span.x >= span.z ? 0 : (span.y >= span.z ? 1 : 2)
        let sorted = targets.sorted { $0[axis] < $1[axis] }
        let cut = max(1, min(n - 1, Int(Double(n) * rng.uniform(0.35, 0.65))))
        let left = sorted[..<cut], right = sorted[cut...]
        let rl = r * pow(Double(left.count) / Double(n), 1.0 / 3.0)
        let rr = r * pow(Double(right.count) / Double(n), 1.0 / 3.0)
        grow(from: e, radius: rl, targets: left, depth: depth + 1, rng: &rng, into: &out)
        grow(from: e, radius: rr, targets: right, depth: depth + 1, rng: &rng, into: &out)
    }

    /// `count` random points inside one lung (`side` 1 right, 2 left) of `anatomy`.
    public static func targets(in anatomy: ChestAnatomy, side: Int, count: Int, rng: inout SynthRandom) -> [SIMD3<Double>] {
        var out: [SIMD3<Double>] = []
        let w = anatomy.cavityHalfWidth
        var tries = 0
        while out.count < count && tries < count * 200 {
            tries += 1
            let x = (side == 1 ? -1 : 1) * rng.uniform(0, w)
            let y = anatomy.cavityCenterY + rng.uniform(-1, 1) * anatomy.cavityHalfDepth
            let z = rng.uniform(0, anatomy.lungHeight)
            if anatomy.lungSide(x, y, z) == side { out.append(SIMD3(x, y, z)) }
        }
        return out
    }

    /// Bronchi beside the arteries: for each artery segment at least `minRadius` thick, an
    /// airway of 0.85 x its radius, displaced sideways so the two run side by side.
    public static func bronchi(alongside arteries: [Capsule], minRadius: Double) -> [Capsule] {
        arteries.compactMap { s in
            guard s.ra >= minRadius else { return nil }
            let d = s.b - s.a
            let len = (d * d).sum().squareRoot()
            guard len > 1e-6 else { return nil }
            let dir = d / len
            var side = SIMD3<Double>(dir.y, -dir.x, 0)               // dir x z
            if (side * side).sum() < 1e-6 { side = SIMD3(0, dir.z, -dir.y) }
            side /= (side * side).sum().squareRoot()
            let off = side * (s.ra + 0.85 * s.ra + 0.6)
            return Capsule(s.a + off, s.b + off, 0.85 * s.ra, 0.85 * s.rb)
        }
    }
}
