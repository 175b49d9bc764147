import Foundation

/// How extensive the disease is: early (a few slices) to extensive.
public enum Severity: String, CaseIterable, Sendable, Codable {
    case none, mild, moderate, severe
}

/// Disease drawn into a rendered phantom, as radiology describes it:
/// - COVID-19: bilateral, peripheral, subpleural, lower-zone and posterior ground-glass
///   (-750..-450 HU) that keeps vessels visible; with severity, more and larger patches,
///   consolidation cores and crazy-paving (septal lines over the ground-glass);
/// - H1N1: peribronchovascular ground-glass sleeves around mid-size arteries and clusters of
///   centrilobular nodules;
/// - CAP: segmental (a cone from the hilum inside one lobe) or lobar consolidation
///   (25-40 HU, stopping at the fissure) with a ground-glass rim and air bronchograms;
/// - paracardiac involvement (COVID-19 and H1N1, a seeded 70% of them, on top of the usual
///   pattern): a band of ground-glass (COVID-19 sometimes with crazy-paving) in the lingula /
///   medial left lower lobe and/or the right middle lobe, abutting the heart border (lesion
///   within ~0-12 mm of it) over several slices, as lower-zone disease often reaches the
///   paracardiac lung. Its random numbers come from a separate stream (`paracardiac`), so
///   every other draw of a patient is unchanged.
///
/// Each lesion contributes a ground-glass weight g and a consolidation weight k in [0, 1] per
/// lung voxel; then `hu = max(hu, hu + g (ggo - hu))` (vessels stay brighter) and
/// `hu += k (cons - hu)` except in airway lumen (air bronchograms).
public enum DiseasePattern {
    enum Lesion {
        case blob(center: SIMD3<Double>, axes: SIMD3<Double>, core: Double, paving: Bool)
        case sleeve(Capsule, radius: Double)
        case nodule(center: SIMD3<Double>, radius: Double)
        case region(lobe: Int, hilum: SIMD3<Double>, axis: SIMD3<Double>, cosHalf: Double, minDistance: Double)
        /// Ground-glass band beside the heart border on `side` (1 right, 2 left): around the
        /// direction `direction` (radians in the x-y plane from the heart's centre at that
        /// height, x left, y back) within `halfAngle`, between `z0` and `z1` (anatomy frame,
        /// tapered), up to `thickness` mm from the heart border (tapered from 55% of it).
        case paracardiac(side: Int, z0: Double, z1: Double, direction: Double, halfAngle: Double,
                         thickness: Double, paving: Bool)
    }

    /// Share of COVID-19 and H1N1 patients with paracardiac involvement.
    public static let paracardiacShare = 0.7

    /// Draws `diagnosis` at `severity`; returns a short description of what was drawn.
    /// `paracardiac` is the separate stream that decides and shapes the paracardiac
    /// involvement of COVID-19 and H1N1 patients (none without it).
    @discardableResult
    public static func apply(_ diagnosis: Diagnosis, severity: Severity, phantom: ChestPhantom,
                             volume: inout CTVolume, truth: inout [UInt8], rng: inout SynthRandom,
                             paracardiac: SynthRandom? = nil) -> String {
        guard diagnosis != .healthy, severity != .none else { return "" }
        let A = phantom.anatomy
        var lesions: [Lesion] = []
        var notes: [String] = []
        let level = severity == .mild ? 0 : (severity == .moderate ? 1 : 2)

        func lungPoint(side: Int, accept: (Double, Double, Double) -> Double) -> SIMD3<Double>? {
            for _ in 0..<4000 {
                let x = (side == 1 ? -1 : 1) * rng.uniform(0, A.cavityHalfWidth)
                let y = A.cavityCenterY + rng.uniform(-1, 1) * A.cavityHalfDepth
                let z = rng.uniform(0, A.lungHeight)
                guard A.lungSide(x, y, z) == side else { continue }
                if rng.uniform() < accept(x, y, z) { return SIMD3(x, y, z) }
            }
            return nil
        }

        switch diagnosis {
        case .covid19:
            let count = [1 + rng.int(below: 3), 3 + rng.int(below: 4), 6 + rng.int(below: 6)][level]
            let size = [(8.0, 16.0), (13.0, 26.0), (20.0, 40.0)][level]
            var side = 1 + rng.int(below: 2)
            var cores = 0, paved = 0
            for _ in 0..<count {
                guard let c = lungPoint(side: side, accept: { x, y, z in
                    let dp = A.pleuraDistance(x, y, z)
                    guard dp < 16 else { return 0 }
                    let t = A.depthFraction(z)
                    return (t > 0.5 ? 1 : 0.3) * (y > A.cavityCenterY ? 1 : 0.6)
                }) else { continue }
                let r = rng.uniform(size.0, size.1)
                let core = level == 2 && rng.bernoulli(0.5) ? rng.uniform(0.6, 1) : (level == 1 && rng.bernoulli(0.2) ? 0.5 : 0)
                let paving = rng.bernoulli([0.0, 0.25, 0.6][level])
                if core > 0 { cores += 1 }
                if paving { paved += 1 }
                lesions.append(.blob(center: c, axes: SIMD3(r * rng.uniform(0.8, 1.2), r * rng.uniform(0.6, 1.0), r * rng.uniform(1.0, 1.5)),
                                     core: core, paving: paving))
                side = 3 - side
            }
            notes.append("peripheral ggo x\(count)")
            if cores > 0 { notes.append("consolidation x\(cores)") }
            if paved > 0 { notes.append("crazy-paving x\(paved)") }
        case .h1n1:
            let sleeves = [3 + rng.int(below: 2), 5 + rng.int(below: 4), 9 + rng.int(below: 7)][level]
            let candidates = phantom.arteries.filter { $0.ra >= 1.2 && $0.ra <= 4.5 && $0.length > 8 }
            for _ in 0..<sleeves where !candidates.isEmpty {
                let s = candidates[rng.int(below: candidates.count)]
                lesions.append(.sleeve(s, radius: s.ra + [rng.uniform(4, 7), rng.uniform(6, 10), rng.uniform(8, 13)][level]))
            }
            let clusters = [1, 2 + rng.int(below: 2), 3 + rng.int(below: 3)][level]
            let tips = phantom.arteries.filter { $0.rb < 1.2 }
            var nodules = 0
            for _ in 0..<clusters where !tips.isEmpty {
                let c = tips[rng.int(below: tips.count)].b
                for _ in 0..<(6 + rng.int(below: 9)) {
                    let p = c + SIMD3(rng.normal(), rng.normal(), rng.normal()) * 7
                    if A.lungSide(p.x, p.y, p.z) != 0 {
                        lesions.append(.nodule(center: p, radius: rng.uniform(1.8, 3.2)))
                        nodules += 1
                    }
                }
            }
            notes.append("peribronchovascular ggo x\(sleeves)")
            notes.append("centrilobular nodules x\(nodules)")
        case .cap:
            let lobe = [3, 5, 2, 1, 4][rng.pick(weights: [0.35, 0.25, 0.15, 0.15, 0.1])]
            let side = lobe <= 3 ? 1 : 2
            let hil = A.hilum(side)
            let target = lungPoint(side: side, accept: { x, y, z in
                A.lobe(x, y, z) == lobe && A.pleuraDistance(x, y, z) < 20 ? 1 : 0
            }) ?? hil + SIMD3(0, 30, -30)
            var axis = target - hil
            let dist = (axis * axis).sum().squareRoot()
            axis /= max(dist, 1e-9)
            if level == 2 {
                lesions.append(.region(lobe: lobe, hilum: hil, axis: axis, cosHalf: -1, minDistance: 15))
                notes.append("lobar consolidation (lobe \(lobeName(lobe)))")
            } else {
                let half = [rng.uniform(16, 22), rng.uniform(24, 34)][level] * .pi / 180
                lesions.append(.region(lobe: lobe, hilum: hil, axis: axis, cosHalf: cos(half), minDistance: 0.35 * dist))
                notes.append("segmental consolidation (lobe \(lobeName(lobe)))")
            }
            notes.append("air bronchograms")
        case .healthy:
            break
        }
        if var prng = paracardiac, diagnosis == .covid19 || diagnosis == .h1n1, prng.bernoulli(paracardiacShare) {
            // Left (lingula / medial LLL, where most of the heart border is), right (RML), or both.
            let which = prng.pick(weights: [0.7, 0.05, 0.25])
            var sides: [String] = []
            for side in [2, 1] where (side == 2 && which != 1) || (side == 1 && which != 0) {
                let zc = A.heartCenter.z + prng.uniform(-0.35, 0.45) * A.heartHalfHeight
                let zHalf = prng.uniform(12, 25) + 6 * Double(level)
                // Left: from anterior (lingula, negative y) to lateral/posterior (medial LLL);
                // right: lateral to anterior (RML).
                let direction = side == 2 ? prng.uniform(-1.0, 0.4) : Double.pi + prng.uniform(-0.3, 0.8)
                let halfAngle = prng.uniform(0.6, 1.1)
                let thickness = prng.uniform(9, 15.5)
                let pave = diagnosis == .covid19 && prng.bernoulli([0.2, 0.4, 0.6][level])
                lesions.append(.paracardiac(side: side, z0: zc - zHalf, z1: zc + zHalf, direction: direction,
                                            halfAngle: halfAngle, thickness: thickness, paving: pave))
                sides.append((side == 2 ? "left" : "right") + (pave ? " crazy-paving" : ""))
            }
            notes.append("+paracardiac ggo (" + sides.joined(separator: ", ") + ")")
        }
        draw(lesions, severity: level, phantom: phantom, volume: &volume, truth: &truth, rng: &rng)
        return notes.joined(separator: "; ")
    }

    static func lobeName(_ l: Int) -> String { ["", "RUL", "RML", "RLL", "LUL", "LLL"][l] }

    static func smoothstep(_ e0: Double, _ e1: Double, _ x: Double) -> Double {
        let t = min(max((x - e0) / (e1 - e0), 0), 1)
        return t * t * (3 - 2 * t)
    }

    static func draw(_ lesions: [Lesion], severity: Int, phantom: ChestPhantom, volume: inout CTVolume,
                     truth: inout [UInt8], rng: inout SynthRandom) {
        let A = phantom.anatomy
        let n2 = volume.rows * volume.columns
        let lo = (-A.a - 20, -A.b - 20, A.scanLow - 20), hi = (A.a + 20, A.b + 20, A.scanHigh + 20)
        let shape = NoiseField(lo: lo, hi: hi, cell: 7, rng: &rng)
        let tex = NoiseField(lo: lo, hi: hi, cell: 3.5, rng: &rng)
        let cellKey = rng.next()
        var g = [Float](repeating: 0, count: volume.hu.count)
        var k = g
        var paving = [Bool](repeating: false, count: volume.hu.count)
        let cosR = cos(A.rotation), sinR = sin(A.rotation)

        // Visits the lung voxels within an anatomy-frame box, with their anatomy coordinates.
        func visit(_ bmin: SIMD3<Double>, _ bmax: SIMD3<Double>, _ body: (Int, SIMD3<Double>) -> Void) {
            let zs0 = bmin.z + A.shiftZ, zs1 = bmax.z + A.shiftZ
            let k0 = max(0, Int(((zs0 - volume.origin.z) / volume.sliceSpacing).rounded(.down)))
            let k1 = min(volume.slices - 1, Int(((zs1 - volume.origin.z) / volume.sliceSpacing).rounded(.up)))
            guard k0 <= k1 else { return }
            // Scanner-frame box of the rotated anatomy box (corners).
            var sx0 = Double.infinity, sx1 = -Double.infinity, sy0 = Double.infinity, sy1 = -Double.infinity
            for cx in [bmin.x, bmax.x] { for cy in [bmin.y, bmax.y] {
                let p = A.toScanner(SIMD3(cx, cy, 0))
                sx0 = min(sx0, p.x); sx1 = max(sx1, p.x); sy0 = min(sy0, p.y); sy1 = max(sy1, p.y)
            } }
            let c0 = max(0, Int(((sx0 - volume.origin.x) / volume.columnSpacing).rounded(.down)))
            let c1 = min(volume.columns - 1, Int(((sx1 - volume.origin.x) / volume.columnSpacing).rounded(.up)))
            let r0 = max(0, Int(((sy0 - volume.origin.y) / volume.rowSpacing).rounded(.down)))
            let r1 = min(volume.rows - 1, Int(((sy1 - volume.origin.y) / volume.rowSpacing).rounded(.up)))
            guard c0 <= c1, r0 <= r1 else { return }
            for kk in k0...k1 {
                let za = volume.z(kk) - A.shiftZ
                for r in r0...r1 {
                    let wy = volume.y(r) - A.shiftY
                    for c in c0...c1 {
                        let v = kk * n2 + r * volume.columns + c
                        guard truth[v] & VoxelTruth.lung.rawValue != 0 else { continue }
                        let wx = volume.x(c) - A.shiftX
                        body(v, SIMD3(cosR * wx + sinR * wy, -sinR * wx + cosR * wy, za))
                    }
                }
            }
        }

        for lesion in lesions {
            switch lesion {
            case let .blob(center, axes, core, pave):
                let m = axes * 1.5
                visit(center - m, center + m) { v, p in
                    let d = (p - center) / axes
                    let q = (d * d).sum().squareRoot() + 0.35 * Double(shape.value(p.x, p.y, p.z))
                    let w = smoothstep(30, 12, A.pleuraDistance(p.x, p.y, p.z))
                    let gg = smoothstep(1.0, 0.6, q) * w
                    if gg > Double(g[v]) { g[v] = Float(gg) }
                    if core > 0 {
                        let kk = core * smoothstep(0.55, 0.3, q) * w
                        if kk > Double(k[v]) { k[v] = Float(kk) }
                    }
                    if pave && gg > 0.5 { paving[v] = true }
                }
            case let .sleeve(s, radius):
                let m = SIMD3<Double>(repeating: radius + 6)
                visit(pointwiseMin(s.a, s.b) - m, pointwiseMax(s.a, s.b) + m) { v, p in
                    let (d, _) = s.distance(p)
                    let gg = smoothstep(radius, 0.5 * radius, d + 2.5 * Double(shape.value(p.x, p.y, p.z)))
                    if gg > Double(g[v]) { g[v] = Float(gg) }
                }
            case let .nodule(center, radius):
                let m = SIMD3<Double>(repeating: radius + 3)
                visit(center - m, center + m) { v, p in
                    let d = ((p - center) * (p - center)).sum().squareRoot()
                    let gg = smoothstep(radius + 1.2, radius * 0.4, d)
                    if gg > Double(g[v]) { g[v] = Float(gg) }
                    if 0.45 * gg > Double(k[v]) { k[v] = Float(0.45 * gg) }
                }
            case let .region(lobe, hil, axis, cosHalf, minDistance):
                let side = lobe <= 3 ? 1.0 : -1.0
                let bmin = SIMD3(side > 0 ? -A.cavityHalfWidth : 0, A.cavityCenterY - A.cavityHalfDepth, 0)
                let bmax = SIMD3(side > 0 ? 0 : A.cavityHalfWidth, A.cavityCenterY + A.cavityHalfDepth, A.lungHeight)
                visit(bmin, bmax) { v, p in
                    guard A.lobe(p.x, p.y, p.z) == lobe else { return }
                    let rel = p - hil
                    let dist = (rel * rel).sum().squareRoot()
                    let n = Double(shape.value(p.x, p.y, p.z))
                    var inside = 1.0, rim = 1.0
                    if cosHalf > -1 {
                        let ca = (rel * axis).sum() / max(dist, 1e-9)
                        let m = (ca - cosHalf) / (1 - cosHalf) + 0.12 * n
                        inside = smoothstep(0, 0.12, m)
                        rim = smoothstep(-0.25, 0.02, m)
                    }
                    let radial = smoothstep(minDistance, minDistance + 12, dist + 5 * n)
                    let kk = inside * radial, gg = rim * smoothstep(minDistance - 10, minDistance, dist)
                    if kk > Double(k[v]) { k[v] = Float(kk) }
                    if gg > Double(g[v]) { g[v] = Float(gg) }
                }
            case let .paracardiac(side, z0, z1, direction, halfAngle, thickness, pave):
                let xs = side == 2 ? (0.0, A.cavityHalfWidth) : (-A.cavityHalfWidth, 0.0)
                let bmin = SIMD3(xs.0, A.cavityCenterY - A.cavityHalfDepth, z0 - 8)
                let bmax = SIMD3(xs.1, A.cavityCenterY + A.cavityHalfDepth, z1 + 8)
                let zc = (z0 + z1) / 2, zHalf = (z1 - z0) / 2
                visit(bmin, bmax) { v, p in
                    guard let q = A.heartQ(p.x, p.y, p.z), q > 1, A.lungSide(p.x, p.y, p.z) == side else { return }
                    let down = A.heartCenter.z - p.z
                    let cx = A.heartCenter.x + A.heartDrift * down, cy = A.heartCenter.y - 0.5 * A.heartDrift * down
                    let dx = p.x - cx, dy = p.y - cy
                    let rho = (dx * dx + dy * dy).squareRoot()
                    let d = rho * (1 - 1 / q.squareRoot())          // radial distance to the heart border
                    let n = Double(shape.value(p.x, p.y, p.z))
                    var da = abs(atan2(dy, dx) - direction).truncatingRemainder(dividingBy: 2 * .pi)
                    if da > .pi { da = 2 * .pi - da }
                    let gg = smoothstep(thickness, 0.55 * thickness, d + 4 * n)
                        * smoothstep(halfAngle, 0.6 * halfAngle, da + 0.15 * n)
                        * smoothstep(zHalf, 0.5 * zHalf, abs(p.z - zc) + 4 * n)
                    if gg > Double(g[v]) { g[v] = Float(gg) }
                    if pave && gg > 0.5 { paving[v] = true }
                }
            }
        }

        // Air bronchograms: airway lumens inside consolidation stay (or become) air.
        let airways = phantom.bronchi + phantom.smallAirways
        var airMask = [Float](repeating: 0, count: 0)
        if lesions.contains(where: { if case .region = $0 { return true }; return false }) {
            airMask = [Float](repeating: 0, count: volume.hu.count)
            let dz = volume.sliceSpacing
            for kk in 0..<volume.slices {
                let za = volume.z(kk) - A.shiftZ
                let list = airways.indices.filter { j in
                    let s = airways[j]
                    return min(s.a.z, s.b.z) - s.maxRadius - dz <= za && za <= max(s.a.z, s.b.z) + s.maxRadius + dz
                }.map { Int32($0) }
                phantom.forEachVoxel(near: list, of: airways, slice: kk, volume: volume) { i, _, d, r in
                    let v = kk * n2 + i
                    let c = phantom.coverage(d, max(r, 0.6), volume.columnSpacing)
                    if Float(c) > airMask[v] { airMask[v] = Float(c) }
                }
            }
        }

        let ggoShift = [0.0, 30, 70][severity]
        let airwayBit = VoxelTruth.airway.rawValue
        for v in 0..<volume.hu.count where g[v] > 0 || k[v] > 0 {
            let kk = v / n2, rem = v % n2
            let za = volume.z(kk) - A.shiftZ
            let wx = volume.x(rem % volume.columns) - A.shiftX, wy = volume.y(rem / volume.columns) - A.shiftY
            let x = cosR * wx + sinR * wy, y = -sinR * wx + cosR * wy
            var h = Double(volume.hu[v])
            let gg = Double(g[v])
            let ggo = -640 + ggoShift + 70 * Double(tex.value(x, y, za))
            h = max(h, h + gg * (ggo - h))
            if paving[v] && septal(x, y, za, key: cellKey) { h += 110 * gg }
            var kc = Double(k[v])
            if truth[v] & airwayBit != 0 { kc = 0 }
            if kc > 0 {
                let cons = 28 + 12 * Double(tex.value(x, y, za))
                h += kc * (cons - h)
                if !airMask.isEmpty && airMask[v] > 0 { h += Double(airMask[v]) * kc * (-990 - h) }
            }
            volume.hu[v] = Float(h)
            if gg > 0.5 || kc > 0.5 { truth[v] |= VoxelTruth.lesion.rawValue }
        }
    }

    /// Crazy-paving septal lines: the borders of polygonal (Voronoi) cells of about 9 mm,
    /// where the two nearest cell points are almost equally far (F2 - F1 < 1 mm).
    static func septal(_ x: Double, _ y: Double, _ z: Double, key: UInt64) -> Bool {
        let cell = 9.0
        let ix = Int((x / cell).rounded(.down)), iy = Int((y / cell).rounded(.down)), iz = Int((z / cell).rounded(.down))
        var f1 = Double.infinity, f2 = Double.infinity
        for dx in -1...1 { for dy in -1...1 { for dz in -1...1 {
            let cx = ix + dx, cy = iy + dy, cz = iz + dz
            var h = SynthRandom.mix(key ^ UInt64(bitPattern: Int64(cx &* 73_856_093 ^ cy &* 19_349_663 ^ cz &* 83_492_791)))
            func u() -> Double { h = SynthRandom.mix(h); return Double(h >> 11) * 0x1p-53 }
            let px = (Double(cx) + u()) * cell, py = (Double(cy) + u()) * cell, pz = (Double(cz) + u()) * cell
            let d = ((px - x) * (px - x) + (py - y) * (py - y) + (pz - z) * (pz - z)).squareRoot()
            if d < f1 { f2 = f1; f1 = d } else if d < f2 { f2 = d }
        } } }
        return f2 - f1 < 1.0
    }
}
