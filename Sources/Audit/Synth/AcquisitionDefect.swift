import Foundation

/// An acquisition problem a synthetic patient can carry, so the failure-mode flags that look
/// for it (metal, contrast, truncated coverage, bad geometry) have positives with known truth.
/// At most one per patient; the manifest's `defect` column names it.
public enum AcquisitionDefect: String, CaseIterable, Sendable, Hashable {
    /// A pacemaker: a titanium can in the left infraclavicular pocket and a lead through the
    /// superior vena cava into the heart, with beam-hardening streaks.
    case metal
    /// Intravenous contrast: the blood pool (heart chambers, great vessels, pulmonary vessels)
    /// at 170-320 HU, the myocardium at about 100 HU.
    case contrast
    /// The scan range stops inside the lung: 8-35% of the lung's height cut off at the apex or
    /// the base.
    case truncated
    /// One to three consecutive slices inside the lung missing from the series.
    case gap
    /// A reconstruction field of view narrower than the lungs (72-90% of their width, centred on
    /// the scanner's axis), as when a cardiac or targeted reconstruction reaches the chest
    /// pipeline: the lungs touch the image's sides, where the spec's border removal takes them
    /// for outside air (a crop failure).
    case smallFOV = "small_fov"

    public var name: String { rawValue }

    /// Parses `metal=0.1,contrast=0.1,truncated=0.1,gap=0.1,small_fov=0.1` (shares of the cohort's
    /// patients; at most 1 in total).
    public static func parseRates(_ text: String) throws -> [AcquisitionDefect: Double] {
        var out: [AcquisitionDefect: Double] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let d = AcquisitionDefect(rawValue: kv[0]) else {
                throw SynthError.invalidOption(name: "--defects", value: text,
                                               reason: "expected defect=share pairs with defects \(allCases.map(\.name).joined(separator: ", "))")
            }
            guard let v = Double(kv[1]), v >= 0, v <= 1 else {
                throw SynthError.invalidOption(name: "--defects", value: text, reason: "share of \(kv[0]) must be within 0...1")
            }
            out[d] = v
        }
        guard out.values.reduce(0, +) <= 1 + 1e-9 else {
            throw SynthError.invalidOption(name: "--defects", value: text, reason: "shares add up to more than 1 (one defect per patient)")
        }
        return out
    }

    /// Which patients get which defect: `round(share * patients)` each, disjoint, in a seeded
    /// order of its own (so the rest of the plan is unchanged).
    static func assign(_ rates: [AcquisitionDefect: Double], patients: Int, seed: UInt64) -> [AcquisitionDefect?] {
        var out = [AcquisitionDefect?](repeating: nil, count: patients)
        guard !rates.isEmpty else { return out }
        var order = Array(0..<patients)
        var rng = SynthRandom(seed: seed, 0x4445_4645)       // "DEFE"
        rng.shuffle(&order)
        var next = 0
        for d in allCases {
            let n = min(Int(((rates[d] ?? 0) * Double(patients)).rounded()), patients - next)
            for j in order[next..<(next + n)] { out[j] = d }
            next += n
        }
        return out
    }
}

/// A pacemaker drawn into the fine volume, and its metal artifact.
///
/// The can is an ellipsoid (22 x 4 x 19 mm half-axes), its centre 10 mm under the skin of the left upper
/// chest, tilted with the body surface; the lead is a 1 mm wire from the can's medial end
/// through the superior vena cava to the heart. Metal is 10000 HU before the scanner (the
/// stored images saturate at their largest value, as real scanners do).
///
/// Streaks: on every fine slice with metal, the metal's own projections p_m (parallel beam,
/// 360 views) get the beam-hardening error dp = -beta * p_m^2, and its filtered
/// back-projection is added to the slice: dark streaks along the lines through the most
/// metal, bright ones beside them.
public enum MetalImplant {
    public static let metalHU = 10000.0
    /// Beam-hardening strength (per unit of squared line integral).
    public static let beta = 0.06
    /// Water attenuation (1/mm) for turning HU into line integrals.
    static let muWaterPerMM = 0.019

    /// Draws the implant into `volume` (scanner frame) and adds its streaks. Returns the
    /// number of fine slices with metal.
    @discardableResult
    public static func apply(to volume: inout CTVolume, anatomy A: ChestAnatomy, rng: inout SynthRandom) -> Int {
        let xc = A.a * rng.uniform(0.42, 0.55)
        func surfaceY(_ x: Double) -> Double { -A.b * pow(max(0, 1 - pow(abs(x) / A.a, A.p)), 1 / A.p) }
        let slope = atan2(surfaceY(xc + 10) - surfaceY(xc - 10), 20)
        let yc = surfaceY(xc) + 10 * cos(slope)
        let zc = A.lungHeight - rng.uniform(28, 45)
        let half = SIMD3(22.0, 4.0, 19.0)
        let cs = cos(slope), sn = sin(slope)
        // Lead: from the can's medial end to the superior vena cava, down to the right ventricle.
        let h = A.heartCenter
        let medial = SIMD3(xc - 18 * cs, yc - 18 * sn, zc)
        let svc = SIMD3(-22.0, A.cavityCenterY - 0.22 * A.cavityHalfDepth, A.archZ - 15)
        let ra = SIMD3(-18.0, h.y - 0.1 * A.heartShort, h.z + 0.3 * A.heartHalfHeight)
        let apex = SIMD3(h.x + 0.55 * A.heartLong * cos(A.heartAngle), h.y - 0.55 * A.heartLong * sin(A.heartAngle), h.z - 0.3 * A.heartHalfHeight)
        let wire = 1.0
        let lead = [Capsule(medial, SIMD3(xc - 40, yc + 8, zc + 12), wire), Capsule(SIMD3(xc - 40, yc + 8, zc + 12), svc, wire),
                    Capsule(svc, ra, wire), Capsule(ra, apex, wire)]
        let rows = volume.rows, cols = volume.columns, n2 = rows * cols
        let px = volume.columnSpacing
        var touched = 0
        var metal = [Float](repeating: 0, count: n2)
        // Only slices within reach of the can or the wire can hold metal.
        let reach = wire + px / 2
        let zLow = min(zc - half.z, lead.map { min($0.a.z, $0.b.z) - reach }.min()!)
        let zHigh = max(zc + half.z, lead.map { max($0.a.z, $0.b.z) + reach }.max()!)
        let ct = ParallelBeamCT(size: volume.rows, views: 360)
        for k in 0..<volume.slices {
            let za = volume.z(k) - A.shiftZ
            guard za >= zLow && za <= zHigh else { continue }
            var any = false
            for r in 0..<rows {
                for c in 0..<cols {
                    let (x, y) = A.toAnatomy(volume.x(c), volume.y(r))
                    let p = SIMD3(x, y, za)
                    // Can (in its tilted frame).
                    let u = (x - xc) * cs + (y - yc) * sn, v = -(x - xc) * sn + (y - yc) * cs
                    let q = (u / half.x) * (u / half.x) + (v / half.y) * (v / half.y) + ((za - zc) / half.z) * ((za - zc) / half.z)
                    var cover = q < 1 ? 1.0 : 0
                    if cover < 1 {
                        for s in lead {
                            let (d, rad) = s.distance(p)
                            // Area share of a pixel covered by the wire (a ramp one pixel wide).
                            let c = min(max((rad - d) / px + 0.5, 0), 1) * min(1, 2 * rad / px)
                            cover = max(cover, c)
                        }
                    }
                    metal[r * cols + c] = Float(cover)
                    if cover > 0 { any = true }
                }
            }
            guard any else { continue }
            touched += 1
            let base = k * n2
            for i in 0..<n2 where metal[i] > 0 {
                let hu = Double(volume.hu[base + i])
                volume.hu[base + i] = Float(hu + Double(metal[i]) * (metalHU - hu))
            }
            addStreaks(to: &volume, slice: k, metal: metal, ct: ct)
        }
        return touched
    }

    /// Beam-hardening streaks of one slice's metal (cover fractions, rows x columns).
    static func addStreaks(to volume: inout CTVolume, slice k: Int, metal: [Float], ct: ParallelBeamCT) {
        let n = volume.rows
        guard volume.columns == n, ct.n == n else { return }
        let px = volume.columnSpacing
        // Excess attenuation over soft tissue, per pixel length.
        let excess = metal.map { $0 * Float(muWaterPerMM * metalHU / 1000 * px) }
        var sinogram = [Float](repeating: 0, count: ct.views * ct.detectors)
        excess.withUnsafeBufferPointer { img in
            sinogram.withUnsafeMutableBufferPointer { s in
                for view in 0..<ct.views {
                    ct.project(img, view: view, into: UnsafeMutableBufferPointer(rebasing: s[(view * ct.detectors)..<((view + 1) * ct.detectors)]))
                }
            }
        }
        let b = Float(beta)
        for j in sinogram.indices where sinogram[j] != 0 { sinogram[j] = -b * sinogram[j] * sinogram[j] }
        let delta = ct.reconstruct(sinogram)
        let toHU = Float(1000 / (muWaterPerMM * px))
        let base = k * n * n
        for i in 0..<(n * n) where metal[i] < 0.5 {
            volume.hu[base + i] += delta[i] * toHU
        }
    }
}

extension CTVolume {
    /// Slices `range` only (the origin moves to the first one).
    func keeping(slices range: Range<Int>) -> CTVolume {
        let n2 = rows * columns
        var v = CTVolume(rows: rows, columns: columns, slices: range.count, columnSpacing: columnSpacing, rowSpacing: rowSpacing,
                         sliceSpacing: sliceSpacing, origin: (origin.x, origin.y, z(range.lowerBound)))
        v.sliceThickness = sliceThickness
        v.hu = Array(hu[(range.lowerBound * n2)..<(range.upperBound * n2)])
        return v
    }
}
