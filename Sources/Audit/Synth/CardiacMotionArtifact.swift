import Foundation

/// Pulsatile (cardiac-motion) artifact, made physically (failure-modes.md, "Simulating
/// them"): on a non-gated scan the heart border and the lung beside it move during the
/// gantry rotation, so each projection sees a different heart.
///
/// Per slice with heart: HU becomes attenuation, mu = mu_water (1 + HU / 1000). Around the
/// heart (its bounding box grown by the fall-off, the amplitude and 15 mm) every view `i` of
/// a full turn gets its time `t_i = z / tableSpeed + (i / views) * rotationTime` and cardiac
/// phase `phi_i = frac(t_i * heartRate / 60 + phase)`. The heart border moves toward its
/// centroid by `amplitude * (g(phi_i) - 0.275)` (g rises to 1 over the first 30% of the cycle
/// and falls back by 55%, then rests; 0.275 is its mean, so the drawn heart is the
/// time-averaged one and the border swings out into the lung in diastole and in during
/// systole), scaled by `0.35 + 0.65 * max(0, n . left)` so the left border moves most; lung
/// outside the heart moves with it, falling off as `(1 + cos(pi d / falloff)) / 2` over
/// `falloff` mm from the border. Heart and that lung also move through the plane by
/// `longitudinal * (g - 0.275)` (most at the heart's top slice, 30% at its lowest), sampled
/// linearly between the neighbouring slices of the still volume. The view is the projection of
/// that warped image. Because the transform and filtered back-projection are
/// linear, only the difference to the still image is projected and reconstructed:
/// `mu_out = mu + FBP(P_i(warp_i(mu)) - P_i(mu))`, which is exactly the moving scan
/// reconstructed through the same path minus the still scan through it, added to the input.
/// The change is tapered to zero over the region's last 8 pixels, so the operator touches
/// the paracardiac region only.
public struct CardiacMotion: Sendable, Codable, Equatable {
    /// Peak displacement of the heart border, mm (2-10).
    public var amplitude: Double
    /// Beats per minute (50-110).
    public var heartRate: Double
    /// Gantry rotation time, s (0.27-0.5).
    public var rotationTime: Double
    /// Table speed, mm/s (the cardiac phase drifts from slice to slice).
    public var tableSpeed: Double
    /// Lung within this many mm of the heart border moves with it (10-15).
    public var falloff: Double
    /// Cardiac phase at z = 0, t = 0 (0..1).
    public var phase: Double
    /// Views per rotation.
    public var views: Int
    /// Peak-to-peak through-plane (z) motion of the heart's base, mm (the atrioventricular
    /// plane descends 10-16 mm in systole; the apex moves about 30% of that). 0: in-plane only.
    public var longitudinal: Double

    public init(amplitude: Double, heartRate: Double, rotationTime: Double, tableSpeed: Double = 60,
                falloff: Double = 12, phase: Double = 0, views: Int = 288, longitudinal: Double = 0) {
        self.longitudinal = longitudinal
        self.amplitude = amplitude
        self.heartRate = heartRate
        self.rotationTime = rotationTime
        self.tableSpeed = tableSpeed
        self.falloff = falloff
        self.phase = phase
        self.views = views
    }

    /// A random motion with the given amplitude range (mm).
    /// The through-plane motion is 1.2-1.8 times the in-plane amplitude (drawn last, so the
    /// other parameters are those of earlier versions for the same seed).
    public static func random(amplitude: ClosedRange<Double>, rng: inout SynthRandom) -> CardiacMotion {
        let rot = rng.uniform(0.27, 0.5)
        var m = CardiacMotion(amplitude: rng.uniform(amplitude.lowerBound, amplitude.upperBound),
                              heartRate: rng.uniform(50, 110), rotationTime: rot,
                              tableSpeed: rng.uniform(20, 40) / rot, falloff: rng.uniform(10, 15),
                              phase: rng.uniform(), views: 288)
        m.longitudinal = m.amplitude * rng.uniform(1.2, 1.8)
        return m
    }

    // Codable: `longitudinal` is optional in stored JSON (0 when absent).
    enum CodingKeys: String, CodingKey { case amplitude, heartRate, rotationTime, tableSpeed, falloff, phase, views, longitudinal }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(amplitude: try c.decode(Double.self, forKey: .amplitude), heartRate: try c.decode(Double.self, forKey: .heartRate),
                  rotationTime: try c.decode(Double.self, forKey: .rotationTime), tableSpeed: try c.decode(Double.self, forKey: .tableSpeed),
                  falloff: try c.decode(Double.self, forKey: .falloff), phase: try c.decode(Double.self, forKey: .phase),
                  views: try c.decode(Int.self, forKey: .views),
                  longitudinal: try c.decodeIfPresent(Double.self, forKey: .longitudinal) ?? 0)
    }

    /// Contraction at cardiac phase phi (0 relaxed ... 1 end-systole).
    public static func contraction(_ phi: Double) -> Double {
        if phi < 0.3 { return (1 - cos(.pi * phi / 0.3)) / 2 }
        if phi < 0.55 { return (1 + cos(.pi * (phi - 0.3) / 0.25)) / 2 }
        return 0
    }

    /// Mean of `contraction` over a cycle: (0.3 + 0.25) / 2.
    public static let meanContraction = 0.275

    /// Inward displacement of the heart border at phase phi, in units of the amplitude,
    /// relative to the drawn heart: `contraction(phi) - meanContraction`. The phantom draws
    /// the time-averaged heart, so the border moves out into the lung in diastole (negative)
    /// and in during systole (positive); the peak-to-peak excursion is the amplitude.
    public static func displacement(_ phi: Double) -> Double { contraction(phi) - meanContraction }
}

/// What the artifact operator changed.
public struct ArtifactReport: Sendable, Equatable {
    /// Slices that had a heart and were processed.
    public var slices: [Int] = []
    /// Largest |change| (HU).
    public var maxChange: Double = 0
    /// Voxels changed by at least 30 HU.
    public var changedVoxels: Int = 0
}

public enum CardiacMotionArtifact {
    /// Attenuation of water at ~70 keV (1/cm); any positive value gives the same HU result.
    public static let muWater = 0.19

    /// Applies `motion` to `volume`. `heart` flags the heart voxels (same layout as
    /// `volume.hu`, non-zero = heart); when nil, `HeartLocator` finds the heart. When `truth` is
    /// given, voxels changed by at least 30 HU get `VoxelTruth.artifact`.
    @discardableResult
    public static func apply(_ motion: CardiacMotion, to volume: inout CTVolume, heart: [Bool]? = nil,
                             truth: UnsafeMutableBufferPointer<UInt8>? = nil) throws -> ArtifactReport {
        let rows = volume.rows, cols = volume.columns, n2 = rows * cols
        let heartMask = heart ?? HeartLocator.locate(volume)
        guard heartMask.count == volume.hu.count else {
            throw SynthError.invalidVolume(reason: "heart mask has \(heartMask.count) voxels, volume \(volume.hu.count)")
        }
        let px = volume.columnSpacing
        guard abs(volume.rowSpacing - px) < 1e-6 * px else {
            throw SynthError.invalidVolume(reason: "pixels are not square (\(volume.rowSpacing) x \(px) mm)")
        }
        var report = ArtifactReport()
        let minArea = Int(1000 / (px * px))               // 10 cm2 of heart
        // Through-plane motion samples neighbouring slices of the unmodified volume; its size
        // falls from the heart's top (base) to 30% at its lowest slice (apex).
        let original = volume.hu
        var kLow = Int.max, kHigh = -1
        for k in 0..<volume.slices where heartMask[(k * n2)..<((k + 1) * n2)].contains(true) { kLow = min(kLow, k); kHigh = max(kHigh, k) }
        let margin = Int(((motion.falloff + motion.amplitude + 15) / px).rounded(.up))
        for k in 0..<volume.slices {
            let base = k * n2
            var r0 = rows, r1 = -1, c0 = cols, c1 = -1, area = 0
            var sx = 0.0, sy = 0.0
            for r in 0..<rows { for c in 0..<cols where (heartMask[base + r * cols + c]) {
                r0 = min(r0, r); r1 = max(r1, r); c0 = min(c0, c); c1 = max(c1, c)
                area += 1; sx += Double(c); sy += Double(r)
            } }
            guard area >= minArea else { continue }
            // Square region around the heart.
            let side = max(r1 - r0, c1 - c0) + 1 + 2 * margin
            let n = side + side % 2
            let top = (r0 + r1) / 2 - n / 2, left = (c0 + c1) / 2 - n / 2
            let cx = sx / Double(area) - Double(left), cy = sy / Double(area) - Double(top)
            var mu = [Float](repeating: 0, count: n * n)
            var inHeart = [Bool](repeating: false, count: n * n)
            for r in 0..<n { for c in 0..<n {
                let rr = top + r, cc = left + c
                let h: Float = (rr >= 0 && rr < rows && cc >= 0 && cc < cols) ? volume.hu[base + rr * cols + cc] : -1000
                mu[r * n + c] = Float(muWater) * (1 + h / 1000)
                if rr >= 0 && rr < rows && cc >= 0 && cc < cols { inHeart[r * n + c] = heartMask[base + rr * cols + cc] }
            } }
            // Displacement per mm of amplitude (pixels), toward the centroid.
            let dOut = squaredDistanceTransform(inHeart, rows: n, columns: n)
            let dIn = squaredDistanceTransform(inHeart.map { !$0 }, rows: n, columns: n)
            var ux = [Float](repeating: 0, count: n * n), uy = ux, uz = ux
            let fall = motion.falloff / px
            let baseShare = kHigh > kLow ? Double(k - kLow) / Double(kHigh - kLow) : 1
            let zScale = motion.longitudinal * (0.3 + 0.7 * baseShare) / volume.sliceSpacing / max(motion.amplitude, 1e-9)
            for r in 0..<n { for c in 0..<n {
                let i = r * n + c
                let vx = Double(c) - cx, vy = Double(r) - cy
                let dist = (vx * vx + vy * vy).squareRoot()
                guard dist > 1e-6 else { continue }
                let nx = vx / dist, ny = vy / dist
                var w: Double, wz: Double
                if inHeart[i] {
                    let din = Double(dIn[i]).squareRoot()
                    w = dist / (dist + din)
                    wz = 1
                } else {
                    let d = Double(dOut[i]).squareRoot()
                    w = d < fall ? 0.5 * (1 + cos(.pi * d / fall)) : 0
                    wz = w
                }
                // Through-plane (slices per mm of amplitude): the base moves up in diastole and
                // down in systole, so systole shows what lay above.
                uz[i] = Float(wz * zScale)
                w *= 0.35 + 0.65 * max(0, nx)
                ux[i] = Float(-w * nx / px)
                uy[i] = Float(-w * ny / px)
            } }
            let ct = ParallelBeamCT(size: n, views: motion.views)
            var sinogram = [Float](repeating: 0, count: motion.views * ct.detectors)
            var diff = [Float](repeating: 0, count: n * n)
            let z = volume.z(k)
            let slices = volume.slices
            let muW = Float(muWater)
            /// Bilinear sample of slice kk at region pixel (x0 + fx, y0 + fy): this slice's still
            /// attenuation, or a neighbour's from the unmodified volume (air outside the image).
            func sample(_ kk: Int, _ x0: Int, _ y0: Int, _ fx: Float, _ fy: Float) -> Float {
                func at(_ rr: Int, _ cc: Int) -> Float {
                    if kk == k { return mu[rr * n + cc] }
                    let R = top + rr, C = left + cc
                    guard R >= 0 && R < rows && C >= 0 && C < cols && kk >= 0 && kk < slices else { return 0 }
                    return muW * (1 + original[kk * n2 + R * cols + C] / 1000)
                }
                let a = at(y0, x0), b = at(y0, x0 + 1), cc = at(y0 + 1, x0), d = at(y0 + 1, x0 + 1)
                return (a + fx * (b - a)) + fy * ((cc + fx * (d - cc)) - (a + fx * (b - a)))
            }
            for view in 0..<motion.views {
                let t = z / motion.tableSpeed + Double(view) / Double(motion.views) * motion.rotationTime
                var phi = (t * motion.heartRate / 60 + motion.phase).truncatingRemainder(dividingBy: 1)
                if phi < 0 { phi += 1 }
                let g = Float(motion.amplitude * CardiacMotion.displacement(phi))
                if g == 0 { continue }
                // Warped minus still: f(p - u(p)) - f(p), bilinear in plane; with through-plane
                // motion, linear between the two neighbouring slices of the still volume.
                for r in 0..<n { for c in 0..<n {
                    let i = r * n + c
                    if ux[i] == 0 && uy[i] == 0 && uz[i] == 0 { diff[i] = 0; continue }
                    let sxp = Float(c) - g * ux[i], syp = Float(r) - g * uy[i]
                    let x0 = min(max(Int(sxp.rounded(.down)), 0), n - 2), y0 = min(max(Int(syp.rounded(.down)), 0), n - 2)
                    let fx = min(max(sxp - Float(x0), 0), 1), fy = min(max(syp - Float(y0), 0), 1)
                    let zp = min(max(Float(k) + g * uz[i], 0), Float(volume.slices - 1))
                    let z0 = min(Int(zp), volume.slices - 1), fz = zp - Float(z0)
                    let z1 = min(z0 + 1, volume.slices - 1)
                    var v = (1 - fz) * sample(z0, x0, y0, fx, fy)
                    if fz > 0 { v += fz * sample(z1, x0, y0, fx, fy) }
                    diff[i] = v - mu[i]
                } }
                diff.withUnsafeBufferPointer { img in
                    sinogram.withUnsafeMutableBufferPointer { s in
                        let row = UnsafeMutableBufferPointer(rebasing: s[(view * ct.detectors)..<((view + 1) * ct.detectors)])
                        ct.project(img, view: view, into: row)
                    }
                }
            }
            let delta = ct.reconstruct(sinogram)
            let taper = 8
            for r in 0..<n { for c in 0..<n {
                let rr = top + r, cc = left + c
                guard rr >= 0 && rr < rows && cc >= 0 && cc < cols else { continue }
                let edge = min(min(r, n - 1 - r), min(c, n - 1 - c))
                let w = edge >= taper ? 1 : 0.5 * (1 - cos(Double.pi * Double(edge) / Double(taper)))
                let dh = Double(delta[r * n + c]) * w * 1000 / muWater
                if dh == 0 { continue }
                let v = base + rr * cols + cc
                volume.hu[v] = Float(Double(volume.hu[v]) + dh)
                report.maxChange = max(report.maxChange, abs(dh))
                if abs(dh) >= 30 {
                    report.changedVoxels += 1
                    if let truth { truth[v] |= VoxelTruth.artifact.rawValue }
                }
            } }
            report.slices.append(k)
        }
        return report
    }
}

/// Finds the heart on each slice of a volume without a segmentation model (failure-modes.md
/// "Pulsatile", step 1): soft tissue (-100..400 HU) lying between the two lungs on its row,
/// in front of the spine; per slice the largest 4-connected such region of at least 30 cm2.
public enum HeartLocator {
    public static func locate(_ volume: CTVolume) -> [Bool] {
        let rows = volume.rows, cols = volume.columns, n2 = rows * cols
        var out = [Bool](repeating: false, count: volume.hu.count)
        let minArea = Int(3000 / (volume.columnSpacing * volume.rowSpacing))
        for k in 0..<volume.slices {
            let base = k * n2
            // Outside air: flood fill from the border over HU < -400; lung = other air.
            var outside = [Bool](repeating: false, count: n2)
            var stack: [Int] = []
            for r in 0..<rows { for c in [0, cols - 1] { stack.append(r * cols + c) } }
            for c in 0..<cols { for r in [0, rows - 1] { stack.append(r * cols + c) } }
            while let i = stack.popLast() {
                if outside[i] || volume.hu[base + i] >= -400 { continue }
                outside[i] = true
                let r = i / cols, c = i % cols
                if r > 0 { stack.append(i - cols) }
                if r < rows - 1 { stack.append(i + cols) }
                if c > 0 { stack.append(i - 1) }
                if c < cols - 1 { stack.append(i + 1) }
            }
            // Lowest row (most posterior) with bone near the midline column band: spine.
            var candidate = [Bool](repeating: false, count: n2)
            for r in 0..<rows {
                var first = -1, last = -1
                for c in 0..<cols {
                    let i = r * cols + c
                    if !outside[i] && volume.hu[base + i] < -400 {
                        if first < 0 { first = c }
                        last = c
                    }
                }
                guard first >= 0, last > first else { continue }
                for c in first...last {
                    let h = volume.hu[base + r * cols + c]
                    if h >= -100 && h <= 400 { candidate[r * cols + c] = true }
                }
            }
            // Largest component.
            var label = [Int32](repeating: 0, count: n2)
            var best: [Int] = []
            var next: Int32 = 0
            for s in 0..<n2 where candidate[s] && label[s] == 0 {
                next += 1
                var comp: [Int] = []
                stack = [s]
                label[s] = next
                while let i = stack.popLast() {
                    comp.append(i)
                    let r = i / cols, c = i % cols
                    let around = [r > 0 ? i - cols : -1, r < rows - 1 ? i + cols : -1, c > 0 ? i - 1 : -1, c < cols - 1 ? i + 1 : -1]
                    for j in around where j >= 0 && candidate[j] && label[j] == 0 {
                        label[j] = next
                        stack.append(j)
                    }
                }
                if comp.count > best.count { best = comp }
            }
            if best.count >= minArea { for i in best { out[base + i] = true } }
        }
        return out
    }
}
