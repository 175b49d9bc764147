import Foundation

/// Renders a `ChestAnatomy` into an HU volume with per-voxel truth (`VoxelTruth`): body
/// outline, skin, fat, muscle, ribs, costal cartilage, sternum, scapulae, clavicles, spine
/// (vertebral bodies and discs, canal, arch, processes), the table, the lungs with a
/// gravity gradient and two scales of texture, fissures, branching arteries and veins,
/// bronchi beside the arteries, trachea and main bronchi, heart with pericardial fat, aorta,
/// superior vena cava, pulmonary trunk and arteries, pulmonary veins, oesophagus, the
/// diaphragm with liver, spleen and stomach below it.
///
/// HU (unenhanced): air -1000, lung about -850 (denser toward the back), fat -100, muscle and
/// blood 40-50, liver 58, cancellous bone 230, cortical bone 650-750.
public struct ChestPhantom: Sendable {
    public enum TubeKind: Sendable { case vessel, airway, solid }

    /// A mediastinal structure drawn as a chain of capsules.
    public struct Tube: Sendable {
        public var capsule: Capsule
        public var kind: TubeKind
        /// Lung within this distance of the wall becomes mediastinal fat.
        public var fatMargin: Double
    }

    public var anatomy: ChestAnatomy
    public var arteries: [Capsule] = []
    public var veins: [Capsule] = []
    /// Bronchi visible in normal lung (lumen at least ~1.3 mm).
    public var bronchi: [Capsule] = []
    /// Smaller airways, invisible in aerated lung; drawn as air bronchograms in consolidation.
    public var smallAirways: [Capsule] = []
    public var tubes: [Tube] = []
    /// Intravenous contrast: the blood pool's HU (heart chambers, great vessels, pulmonary
    /// vessels; the myocardium gets 100 HU). nil: unenhanced (blood 40 HU).
    public var contrastBloodHU: Double?
    let seedKey: UInt64

    public init(anatomy: ChestAnatomy, rng: inout SynthRandom) {
        self.anatomy = anatomy
        seedKey = rng.next()
        let A = anatomy
        let w = A.cavityHalfWidth, cy = A.cavityCenterY, d = A.cavityHalfDepth
        let h = A.heartCenter
        func P(_ x: Double, _ y: Double, _ z: Double) -> SIMD3<Double> { SIMD3(x, y, z) }
        func chain(_ pts: [SIMD3<Double>], _ radii: [Double], _ kind: TubeKind, margin: Double) {
            for i in 0..<(pts.count - 1) {
                tubes.append(Tube(capsule: Capsule(pts[i], pts[i + 1], radii[i], radii[i + 1]), kind: kind, fatMargin: margin))
            }
        }
        let top = A.scanHigh + 10, bottom = A.scanLow - 10
        let vbFront = A.vertebraY - A.vertebraRadius
        // Aorta: root, ascending, arch, descending, abdominal.
        chain([P(h.x - 12, h.y - 4, h.z + 0.5 * A.heartHalfHeight), P(3, cy - 0.3 * d, A.archZ - 8),
               P(10, cy - 0.05 * d, A.archZ + 5), P(22, vbFront - 5, A.archZ - 6),
               P(19, vbFront + 2, A.domeLeft - 20), P(6, vbFront - 4, bottom)],
              [14, 14, 13, 12, 11, 10], .vessel, margin: 3)
        // Superior vena cava into the right atrium.
        chain([P(-24, cy - 0.25 * d, top), P(-24, cy - 0.2 * d, A.archZ - 20),
               P(-20, h.y - 0.1 * A.heartShort, h.z + 0.4 * A.heartHalfHeight)], [9, 9, 10], .vessel, margin: 2)
        // Pulmonary trunk and arteries to the hila.
        let rPA = A.hilum(1), lPA = A.hilum(2)
        let bif = P(6, cy - 0.15 * d, A.hilumZ + 20)
        chain([P(h.x - 2, h.y - 0.6 * A.heartShort, h.z + 0.35 * A.heartHalfHeight), bif], [13, 13], .vessel, margin: 2)
        chain([bif, lPA + P(-6, 0, 10)], [11, 9], .vessel, margin: 0)
        chain([bif, rPA + P(6, -4, 6)], [11, 9], .vessel, margin: 0)
        // Pulmonary veins into the left atrium.
        let la = P(h.x - 15, h.y + 0.7 * A.heartShort, h.z + 0.3 * A.heartHalfHeight)
        for s in [-1.0, 1.0] {
            chain([la, P(s * 0.27 * w, cy + 0.12 * d, A.hilumZ - 22)], [8, 6.5], .vessel, margin: 0)
        }
        // Trachea, carina, main bronchi.
        let carina = P(0, A.tracheaY + 3, A.carinaZ)
        chain([P(0, A.tracheaY, top), carina], [9.5, 9.5], .airway, margin: 2)
        let rb = P(-0.28 * w + 8, A.tracheaY + 10, A.hilumZ + 10), lb = P(0.28 * w - 8, A.tracheaY + 14, A.hilumZ + 2)
        chain([carina, rb], [7.5, 6.5], .airway, margin: 0)
        chain([carina, lb], [6.5, 5.5], .airway, margin: 0)
        // Oesophagus.
        chain([P(5, vbFront - 3, top), P(12, vbFront - 6, A.domeLeft - 5), P(0.3 * w, cy - 0.1 * d, A.domeLeft - 30)],
              [7, 7, 8], .solid, margin: 2)

        // Trees: arteries from the pulmonary arteries, veins toward the left atrium, bronchi
        // beside the arteries.
        for side in [1, 2] {
            let sx: Double = side == 1 ? -1 : 1
            let hil = A.hilum(side)
            let at = VesselTree.targets(in: A, side: side, count: 360, rng: &rng)
            let art = VesselTree.build(root: hil + P(-sx * 4, -3, 6), rootRadius: 5.2, targets: at, rng: &rng)
            arteries += art
            let vt = VesselTree.targets(in: A, side: side, count: 300, rng: &rng)
            veins += VesselTree.build(root: P(sx * 0.26 * w, cy + 0.12 * d, A.hilumZ - 20), rootRadius: 5, targets: vt, rng: &rng)
            let br = VesselTree.bronchi(alongside: art, minRadius: 0.9)
            bronchi += br.filter { $0.ra >= 1.35 }
            smallAirways += br.filter { $0.ra < 1.35 }
        }
    }

    // MARK: Rendering

    /// Renders into `volume` (its geometry is kept, its HU replaced); returns the truth flags.
    public func render(into volume: inout CTVolume) -> [UInt8] {
        let tableTop = anatomy.tableTop
        let A = anatomy
        let blood = contrastBloodHU ?? 40
        let rows = volume.rows, cols = volume.columns, n2 = rows * cols
        let px = volume.columnSpacing
        var truth = [UInt8](repeating: 0, count: n2 * volume.slices)
        var rng = SynthRandom(seed: seedKey, 1)
        let lo = (-A.a - 20, -A.b - 20, A.scanLow - 20), hi = (A.a + 20, A.b + 20, A.scanHigh + 20)
        let coarse = NoiseField(lo: lo, hi: hi, cell: 14, rng: &rng)
        let fine = NoiseField(lo: lo, hi: hi, cell: 4.5, rng: &rng)

        // Per-pixel maps (the body outline does not change along z).
        var ax = [Double](repeating: 0, count: n2), ay = ax
        var depth = ax, fatT = ax, cavRef = ax, cavR = ax, phi = ax
        var table = [Float](repeating: .nan, count: n2)
        for r in 0..<rows {
            for c in 0..<cols {
                let i = r * cols + c
                let wx = volume.x(c), wy = volume.y(r)
                let yTop = tableTop - 0.00045 * wx * wx
                if wy > yTop {
                    let t = wy - yTop
                    table[i] = t < 3 ? 350 : (t < 33 ? -940 : (t < 36 ? 350 : -1000))
                    continue
                }
                let (x, y) = A.toAnatomy(wx, wy)
                ax[i] = x; ay[i] = y
                let rr = (x * x + y * y).squareRoot()
                let rho = pow(pow(abs(x) / A.a, A.p) + pow(abs(y) / A.b, A.p), 1 / A.p)
                depth[i] = rho > 1e-9 ? rr * (1 / rho - 1) : A.b
                let q = max(rr, 1e-9)
                let wa = max(0, -y / q), wp = max(0, y / q), wl = x / q
                fatT[i] = A.fatAnterior * wa * wa + A.fatPosterior * wp * wp + A.fatLateral * wl * wl
                cavRef[i] = A.cavityNorm(x, y)
                cavR[i] = (x * x + (y - A.cavityCenterY) * (y - A.cavityCenterY)).squareRoot()
                phi[i] = atan2(abs(x), y - A.cavityCenterY)       // 0 at the back, pi at the front
            }
        }

        // Capsules binned by slice (scanner frame z).
        let dz = volume.sliceSpacing
        func bins(_ caps: [Capsule]) -> [[Int32]] {
            var out = [[Int32]](repeating: [], count: volume.slices)
            for (j, s) in caps.enumerated() {
                let r = s.maxRadius + dz
                let z0 = min(s.a.z, s.b.z) + A.shiftZ - r, z1 = max(s.a.z, s.b.z) + A.shiftZ + r
                let k0 = max(0, Int(((z0 - volume.origin.z) / dz).rounded(.up)))
                let k1 = min(volume.slices - 1, Int(((z1 - volume.origin.z) / dz).rounded(.down)))
                if k0 <= k1 { for k in k0...k1 { out[k].append(Int32(j)) } }
            }
            return out
        }
        let tubeCaps = tubes.map(\.capsule)
        let tubeBins = bins(tubeCaps), arteryBins = bins(arteries), veinBins = bins(veins), bronchusBins = bins(bronchi)

        let ribSpacing = (A.lungHeight + 25) / 11.5
        let ribDrop = 2.3 * ribSpacing
        let H = A.lungHeight
        let fissureNorm = (1 + pow(0.5 * H / (2 * A.cavityHalfDepth), 2) + 0.0144).squareRoot()

        var voxels = volume.hu
        volume.hu = []
        defer { volume.hu = voxels }
        let volume = volume
        voxels.withUnsafeMutableBufferPointer { hu in
        truth.withUnsafeMutableBufferPointer { tr in
        for k in 0..<volume.slices {
            let za = volume.z(k) - A.shiftZ
            let invS = 1 / A.cavityScale(za)
            let base = k * n2
            let seg = (za - 3).truncatingRemainder(dividingBy: 26)
            let disc = (seg < 0 ? seg + 26 : seg) < 5
            let sternumW: Double? = (za > 0.22 * H && za < H - 5) ? (za > 0.82 * H ? 24 : 13) : nil
            for i in 0..<n2 {
                if !table[i].isNaN { hu[base + i] = table[i]; continue }
                let dep = depth[i]
                if dep <= 0 { hu[base + i] = -1000; continue }
                var flags = VoxelTruth.body.rawValue
                let x = ax[i], y = ay[i]
                var h: Double
                if dep < 1.8 {
                    h = 20
                } else if dep < 1.8 + fatT[i] {
                    h = -100 + 8 * Double(coarse.value(x, y, za))
                } else {
                    let rho = cavRef[i] * invS
                    if abs(x) < 48, y > A.vertebraY - A.vertebraRadius - 1, let s = Self.spine(A, x, y, disc: disc) {
                        h = s
                    } else if rho >= 1 {
                        // Chest wall: ribs, cartilage, sternum, scapulae, clavicles, muscle.
                        let dc = cavR[i] * (1 - 1 / rho)
                        h = 48 + 5 * Double(coarse.value(x, y, za))
                        let ph = phi[i] / .pi
                        if dc < 10 {
                            h = 50
                            for rib in 0..<12 {
                                let zk = H + 12 - Double(rib) * ribSpacing
                                let zr = zk - ribDrop * pow(ph, 1.4)
                                let hh = rib == 0 ? 7.0 : 5.5
                                if abs(za - zr) < hh {
                                    let end = rib < 7 ? 0.86 : (rib < 10 ? 0.78 : 0.5)
                                    if ph >= 0.07 && ph <= end {
                                        if abs(dc - 5.5) < 3.5 {
                                            h = (abs(za - zr) > 0.6 * hh || abs(dc - 5.5) > 2.2) ? 750 : 250
                                        }
                                    } else if ph > end && ph < 0.95 && rib < 10 && abs(dc - 5.5) < 3 {
                                        h = 120
                                    }
                                }
                            }
                        } else if ph > 0.12 && ph < 0.4 && dc > 16 && dc < 21 && za > 0.45 * H && za < H + 5 && dep > fatT[i] + 4 {
                            h = 420
                        } else if ph > 0.6 && ph < 0.92 && dc > 10 && dc < 19
                                    && abs(za - (H + 2 - 10 * (ph - 0.6) / 0.32)) < 6 {
                            h = 600
                        }
                        if let sw = sternumW {
                            let u = x / sw, v = (y - A.sternumY) / 7
                            let q = u * u + v * v
                            if q < 1 { h = q > 0.55 ? 600 : 220 }
                        }
                    } else {
                        let zd = A.diaphragm(x, y)
                        if za < zd {
                            h = Self.abdomen(A, x, y, za, zd) + 4 * Double(coarse.value(x, y, za))
                        } else if let q = A.heartQ(x, y, za), q < A.pericardium {
                            h = q < 1 ? 40 + 3 * Double(coarse.value(x, y, za)) : -95
                            if q < 1, let blood = contrastBloodHU { h += q < 0.6 ? blood - 40 : 60 }
                            flags |= VoxelTruth.heart.rawValue
                        } else if (abs(x) < A.vertebraRadius + 9 && y > A.vertebraY - A.vertebraRadius - 2)
                                    || (abs(x) < A.vertebraRadius + 16 && y > A.vertebraY + 4) {
                            h = 48 + 5 * Double(coarse.value(x, y, za))
                        } else if y < A.vertebraY && abs(x) < A.bandHalfWidth(y, za) {
                            h = -85 + 10 * Double(coarse.value(x, y, za))
                        } else if za >= A.apexTop(x, y) || za >= H || za <= 0 {
                            h = 25 + 40 * Double(coarse.value(x, y, za))
                        } else {
                            let g = (y - A.cavityCenterY) / A.cavityHalfDepth
                            h = A.lungHU + 35 * g + 16 * Double(coarse.value(x, y, za)) + 9 * Double(fine.value(x, y, za))
                            let fd = abs(za - A.fissureHeight(x, y)) / fissureNorm
                            if fd < 1.2 { h += 90 * (1 - fd / 1.2) }
                            flags |= VoxelTruth.lung.rawValue
                            if x >= 0 { flags |= VoxelTruth.leftLung.rawValue }
                        }
                    }
                }
                hu[base + i] = Float(h)
                tr[base + i] = flags
            }

            // Mediastinal tubes, then vessels and bronchi inside the lungs.
            let lungBit = VoxelTruth.lung.rawValue | VoxelTruth.leftLung.rawValue
            forEachVoxel(near: tubeBins[k], of: tubeCaps, slice: k, volume: volume) { i, j, d, r in
                let t = tubes[j]
                let v = base + i
                switch t.kind {
                case .vessel, .solid:
                    let c = coverage(d, r, px)
                    if c > 0 {
                        if tr[v] & VoxelTruth.heart.rawValue != 0 && c < 1 { return }
                        let fill = t.kind == .vessel ? blood : 40
                        hu[v] = Float(Double(hu[v]) + c * (fill - Double(hu[v])))
                        if c > 0.5 { tr[v] &= ~lungBit }
                    } else if d < r + t.fatMargin && tr[v] & lungBit != 0 {
                        hu[v] = -90
                        tr[v] &= ~lungBit
                    }
                case .airway:
                    let wall = max(1.5, 0.2 * r)
                    let co = coverage(d, r + wall, px), ci = coverage(d, r, px)
                    if co > 0 {
                        hu[v] = Float(Double(hu[v]) * (1 - co) + 40 * (co - ci) - 1000 * ci)
                        if co > 0.5 { tr[v] &= ~lungBit }
                        if ci > 0.5 { tr[v] |= VoxelTruth.airway.rawValue }
                    } else if d < r + wall + t.fatMargin && tr[v] & lungBit != 0 {
                        hu[v] = -90
                        tr[v] &= ~lungBit
                    }
                }
            }
            for (caps, bin) in [(arteries, arteryBins[k]), (veins, veinBins[k])] {
                forEachVoxel(near: bin, of: caps, slice: k, volume: volume) { i, _, d, r in
                    let v = base + i
                    guard tr[v] & VoxelTruth.lung.rawValue != 0 else { return }
                    let c = coverage(d, r, px)
                    if c > 0 { hu[v] = Float(Double(hu[v]) + c * (blood - Double(hu[v]))) }
                }
            }
            forEachVoxel(near: bronchusBins[k], of: bronchi, slice: k, volume: volume) { i, _, d, r in
                let v = base + i
                guard tr[v] & VoxelTruth.lung.rawValue != 0 else { return }
                let wall = max(0.6, 0.2 * r)
                let co = coverage(d, r + wall, px), ci = coverage(d, r, px)
                if co > 0 {
                    hu[v] = Float(Double(hu[v]) * (1 - co) + 30 * (co - ci) - 1000 * ci)
                    if ci > 0.5 { tr[v] |= VoxelTruth.airway.rawValue }
                }
            }
        }
        }
        }
        return truth
    }

    /// Fraction of a voxel covered by a tube of radius r whose axis is d away (a linear ramp
    /// one pixel wide, scaled down for tubes thinner than a pixel).
    @inline(__always)
    func coverage(_ d: Double, _ r: Double, _ px: Double) -> Double {
        let c = min(max((r + 0.5 * px - d) / px, 0), 1)
        return c * min(1, 2 * r / px)
    }

    /// Calls `body(pixelIndex, capsuleIndex, distance, radius)` for the pixels of slice `k`
    /// near each listed capsule (distance in 3D, with the slice's thickness taken off the z
    /// part so thin oblique vessels do not fall between slices).
    func forEachVoxel(near list: [Int32], of caps: [Capsule], slice k: Int, volume: CTVolume,
                      _ body: (Int, Int, Double, Double) -> Void) {
        let A = anatomy
        let za = volume.z(k) - A.shiftZ
        let half = 0.25 * volume.sliceSpacing
        let cosR = cos(A.rotation), sinR = sin(A.rotation)
        for j32 in list {
            let j = Int(j32)
            let s = caps[j]
            let reach = s.maxRadius + 4 + volume.columnSpacing
            let pa = A.toScanner(s.a), pb = A.toScanner(s.b)
            let c0 = max(0, Int(((min(pa.x, pb.x) - reach - volume.origin.x) / volume.columnSpacing).rounded(.down)))
            let c1 = min(volume.columns - 1, Int(((max(pa.x, pb.x) + reach - volume.origin.x) / volume.columnSpacing).rounded(.up)))
            let r0 = max(0, Int(((min(pa.y, pb.y) - reach - volume.origin.y) / volume.rowSpacing).rounded(.down)))
            let r1 = min(volume.rows - 1, Int(((max(pa.y, pb.y) + reach - volume.origin.y) / volume.rowSpacing).rounded(.up)))
            guard c0 <= c1, r0 <= r1 else { continue }
            let ab = s.b - s.a
            let l2 = (ab * ab).sum()
            for r in r0...r1 {
                let wy = volume.y(r) - A.shiftY
                for c in c0...c1 {
                    let wx = volume.x(c) - A.shiftX
                    let p = SIMD3(cosR * wx + sinR * wy, -sinR * wx + cosR * wy, za)
                    let t = l2 > 0 ? min(max(((p - s.a) * ab).sum() / l2, 0), 1) : 0
                    let q = s.a + t * ab - p
                    let qz = max(0, abs(q.z) - half)
                    let d = (q.x * q.x + q.y * q.y + qz * qz).squareRoot()
                    let rad = s.ra + t * (s.rb - s.ra)
                    if d < rad + 4 { body(r * volume.columns + c, j, d, rad) }
                }
            }
        }
    }

    /// Spine at (x, y): vertebral body (or disc), canal with cord, arch, spinous and
    /// transverse processes; nil where there is no spine.
    static func spine(_ A: ChestAnatomy, _ x: Double, _ y: Double, disc: Bool) -> Double? {
        let rv = A.vertebraRadius
        let dy = y - A.vertebraY
        let r = (x * x + dy * dy).squareRoot()
        if r < rv { return disc ? 85 : (r > rv - 2.2 ? 650 : 230) }
        let cy = A.vertebraY + rv + 9
        let rc = (x * x + (y - cy) * (y - cy)).squareRoot()
        if rc < 5.5 { return 35 }
        if rc < 8 { return 12 }
        if disc { return nil }
        if rc < 13 && y > A.vertebraY + rv - 2 { return 450 }
        if abs(x) < 4 && y > cy + 8 && y < cy + 28 { return 500 }
        if abs(abs(x) - 24) < 10 && abs(y - (cy - 2)) < 5 { return 450 }
        return nil
    }

    /// Below the diaphragm: the muscle itself, liver, stomach (with a gas cap), spleen, fat.
    static func abdomen(_ A: ChestAnatomy, _ x: Double, _ y: Double, _ z: Double, _ zd: Double) -> Double {
        if z > zd - 4.5 { return 45 }
        let w = A.cavityHalfWidth, cy = A.cavityCenterY, d = A.cavityHalfDepth
        if x < 0.2 * w - 0.5 * (y - cy) { return 58 }
        if A.stomachGas > 0 && x > 0.15 * w && x < 0.7 * w && y < cy + 0.1 * d && z > zd - 4.5 - A.stomachGas { return -1000 }
        if x > 0.35 * w && y > cy { return 47 }
        if y < cy + 0.3 * d { return 25 }
        return -95
    }
}
