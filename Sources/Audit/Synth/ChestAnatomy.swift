import Foundation

/// One synthetic patient's chest, as parameters and geometric predicates in the anatomy frame:
/// x to the patient's left, y to the back, z to the head (mm), the body's axis at x = y = 0,
/// the lowest point of the lungs (posterior costophrenic recesses) at z = 0 and the lung
/// apices at z = `lungHeight`. `placement` puts this frame into the scanner's.
///
/// Shapes: the body is a superellipse |x/a|^p + |y/b|^p = 1 with skin, a fat layer and
/// muscle; the thoracic cavity a smaller superellipse that narrows toward the apices, with
/// the ribs in a ring just outside it; the lungs fill the cavity below the two apical domes
/// and above the diaphragm domes, outside the mediastinum (a midline band, the heart
/// ellipsoid with its pericardial fat, the spine and the great vessels).
public struct ChestAnatomy: Sendable {
    public var sex: String
    public var age: Int
    // Body outline and wall.
    public var a: Double, b: Double, p: Double
    public var fatAnterior: Double, fatLateral: Double, fatPosterior: Double
    // Lungs and cavity.
    public var lungHeight: Double
    public var cavityHalfWidth: Double, cavityHalfDepth: Double, cavityCenterY: Double
    public var cavityP: Double
    // Spine and sternum.
    public var vertebraY: Double, vertebraRadius: Double, sternumY: Double
    // Heart ellipsoid: centre, in-plane semi-axes (long, short), vertical half-height,
    // in-plane angle of the long axis (toward the patient's left and front), leftward drift
    // per mm downward.
    public var heartCenter: (x: Double, y: Double, z: Double)
    public var heartLong: Double, heartShort: Double, heartHalfHeight: Double
    public var heartAngle: Double, heartDrift: Double
    // Diaphragm: dome tops (right higher), dome centres.
    public var domeRight: Double, domeLeft: Double
    // Landmarks.
    public var carinaZ: Double, hilumZ: Double, archZ: Double
    public var tracheaY: Double
    /// Mean parenchyma HU (healthy adult lung, about -850).
    public var lungHU: Double
    public var stomachGas: Double
    /// Scan range in the anatomy frame.
    public var scanLow: Double, scanHigh: Double
    /// Anatomy frame -> scanner frame: rotation about z (radians), then shift (mm).
    public var rotation: Double, shiftX: Double, shiftY: Double, shiftZ: Double

    // MARK: Sampling

    /// Scanner-frame height (y, mm) of the table top the body lies on.
    public var tableTop: Double

    /// A random adult chest placed on the table in a field of view of `2 * halfFOV` mm.
    public init(rng: inout SynthRandom, halfFOV: Double) {
        sex = rng.bernoulli(0.5) ? "M" : "F"
        age = 25 + rng.int(below: 61)
        let male = sex == "M"
        let build = rng.uniform(-1, 1)           // slim ... broad
        let fat = max(3, (male ? 11 : 16) + 9 * build + rng.uniform(-4, 4))
        fatAnterior = fat * rng.uniform(0.7, 1.0)
        fatLateral = fat * rng.uniform(0.9, 1.3)
        fatPosterior = fat * rng.uniform(0.8, 1.2)
        lungHeight = (male ? 268 : 245) + rng.uniform(-20, 20)
        vertebraRadius = rng.uniform(16, 20)
        // The cavity's size follows sex and frame, not fat; the body is the cavity plus its wall.
        cavityHalfWidth = (male ? 126 : 114) + 6 * build + rng.uniform(-6, 6)
        cavityHalfDepth = (male ? 80 : 73) + 4 * build + rng.uniform(-5, 5)
        let wallLateral = rng.uniform(22, 27), sternumDepth = rng.uniform(8, 11), backDepth = rng.uniform(42, 48)
        let behind = rng.uniform(6, 12)       // lung behind the vertebral body's back edge
        a = cavityHalfWidth + fatLateral + wallLateral
        if a > halfFOV - 8 {                  // keep the body inside the field of view
            fatLateral = max(2, fatLateral - (a - (halfFOV - 8)))
            a = cavityHalfWidth + fatLateral + wallLateral
        }
        // Front: yA = -b + fatAnterior + sternumDepth + 9; back: yP = b - fatPosterior - backDepth + behind.
        b = (2 * cavityHalfDepth + fatAnterior + sternumDepth + 9 + fatPosterior + backDepth - behind) / 2
        p = rng.uniform(2.1, 2.6)
        vertebraY = b - fatPosterior - vertebraRadius - backDepth
        sternumY = -b + fatAnterior + sternumDepth
        let yA = sternumY + 9, yP = vertebraY + vertebraRadius + behind
        cavityCenterY = (yA + yP) / 2
        cavityP = rng.uniform(2.3, 2.8)
        let H = lungHeight
        domeRight = H * rng.uniform(0.2, 0.27)
        domeLeft = domeRight - rng.uniform(10, 22)
        heartLong = rng.uniform(55, 68)
        heartShort = rng.uniform(36, 44)
        heartHalfHeight = rng.uniform(42, 52)
        heartAngle = rng.uniform(0.55, 0.85)
        heartDrift = rng.uniform(0.1, 0.3)
        heartCenter = (cavityHalfWidth * rng.uniform(0.14, 0.26),
                       cavityCenterY - cavityHalfDepth * rng.uniform(0.05, 0.18),
                       domeLeft + heartHalfHeight - rng.uniform(8, 16))
        carinaZ = H * rng.uniform(0.58, 0.66)
        hilumZ = H * rng.uniform(0.5, 0.56)
        archZ = H * rng.uniform(0.7, 0.76)
        tracheaY = vertebraY - vertebraRadius - rng.uniform(11, 15)
        lungHU = rng.uniform(-875, -830) - Double(max(0, age - 50)) * 0.4
        stomachGas = rng.bernoulli(0.5) ? rng.uniform(8, 22) : 0
        scanLow = -rng.uniform(18, 34)
        scanHigh = H + rng.uniform(14, 28)
        rotation = rng.uniform(-0.06, 0.06)
        let roomX = max(0, halfFOV - a - 8)
        shiftX = rng.uniform(-min(12, roomX), min(12, roomX))
        let lowest = max(2 * b - halfFOV + 12, 40)
        tableTop = min(rng.uniform(lowest, lowest + 40), halfFOV - 45)
        shiftY = tableTop - b + 0.5
        shiftZ = -rng.uniform(150, 320)
    }

    // MARK: Frames

    /// Scanner frame (mm) -> anatomy frame.
    @inline(__always)
    public func toAnatomy(_ x: Double, _ y: Double) -> (Double, Double) {
        let dx = x - shiftX, dy = y - shiftY
        let c = cos(rotation), s = sin(rotation)
        return (c * dx + s * dy, -s * dx + c * dy)
    }

    /// Anatomy frame -> scanner frame.
    public func toScanner(_ p: SIMD3<Double>) -> SIMD3<Double> {
        let c = cos(rotation), s = sin(rotation)
        return SIMD3(c * p.x - s * p.y + shiftX, s * p.x + c * p.y + shiftY, p.z + shiftZ)
    }

    // MARK: Shapes

    /// 0 at the apices, 1 at the lung bases.
    @inline(__always) public func depthFraction(_ z: Double) -> Double { (lungHeight - z) / lungHeight }

    /// Uniform scale of the thoracic cavity at height z (narrower toward the apex).
    @inline(__always)
    public func cavityScale(_ z: Double) -> Double {
        let t = min(max(depthFraction(z), 0), 1)
        let u = min(t / 0.6, 1)
        return 0.86 + 0.14 * u * u * (3 - 2 * u)
    }

    /// Superellipse "radius" of the cavity at full scale (1 on its boundary).
    @inline(__always)
    public func cavityNorm(_ x: Double, _ y: Double) -> Double {
        let u = abs(x) / cavityHalfWidth, v = abs(y - cavityCenterY) / cavityHalfDepth
        return pow(pow(u, cavityP) + pow(v, cavityP), 1 / cavityP)
    }

    /// Top surface of the lung on its side (paraboloid dome around each apex point).
    @inline(__always)
    public func apexTop(_ x: Double, _ y: Double) -> Double {
        let u = (abs(x) - 0.45 * cavityHalfWidth) / (0.7 * cavityHalfWidth)
        let v = (y - (cavityCenterY + 0.25 * cavityHalfDepth)) / (0.95 * cavityHalfDepth)
        return lungHeight * (1 - 0.36 * (u * u + v * v))
    }

    /// Height of the diaphragm's upper surface: the higher of two domes, falling to 0 at the
    /// posterior-lateral recesses.
    @inline(__always)
    public func diaphragm(_ x: Double, _ y: Double) -> Double {
        let wx = 0.55 * cavityHalfWidth, wy = 0.9 * cavityHalfDepth
        let yd = cavityCenterY - 0.1 * cavityHalfDepth
        let cx = 0.45 * cavityHalfWidth
        let corner = pow(0.4 * cavityHalfWidth / wx, 2) + pow((cavityCenterY + cavityHalfDepth - yd) / wy, 2)
        let vy = ((y - yd) / wy) * ((y - yd) / wy)
        let wr = ((x + cx) / wx) * ((x + cx) / wx) + vy
        let wl = ((x - cx) / wx) * ((x - cx) / wx) + vy
        return max(domeRight * (1 - wr / corner), domeLeft * (1 - wl / corner))
    }

    /// The heart's cross-section at height z: inside test value q (< 1 inside the heart,
    /// < `pericardium` inside the pericardial fat), or nil when z is outside the heart.
    @inline(__always)
    public func heartQ(_ x: Double, _ y: Double, _ z: Double) -> Double? {
        let dz = (z - heartCenter.z) / heartHalfHeight
        guard abs(dz) < 1 else { return nil }
        let s2 = 1 - dz * dz
        let down = heartCenter.z - z
        let cx = heartCenter.x + heartDrift * down, cy = heartCenter.y - 0.5 * heartDrift * down
        let ca = cos(heartAngle), sa = sin(heartAngle)
        let u = (x - cx) * ca - (y - cy) * sa      // along the long axis (left and forward)
        let v = (x - cx) * sa + (y - cy) * ca
        return ((u / heartLong) * (u / heartLong) + (v / heartShort) * (v / heartShort)) / s2
    }

    /// q threshold of the pericardial fat shell around the heart.
    public var pericardium: Double { pow(1 + 4 / heartShort, 2) }

    /// Half-width of the mediastinal band at (y, z) (from the anterior junction to the spine).
    @inline(__always)
    public func bandHalfWidth(_ y: Double, _ z: Double) -> Double {
        let yA = cavityCenterY - cavityHalfDepth
        let u = min(max((y - yA) / (vertebraY - yA), 0), 1)
        let top = heartCenter.z + heartHalfHeight
        let superior = min(max((z - top) / 30, 0), 1) * (1 - min(max((z - (lungHeight - 30)) / 40, 0), 1))
        return 6 + 8 * u + 8 * superior
    }

    /// Which lung (0 none, 1 right, 2 left) holds the anatomy-frame point, from the shapes
    /// alone (the great vessels and airways carve a little more when rendered).
    public func lungSide(_ x: Double, _ y: Double, _ z: Double) -> Int {
        guard z > 0, z < lungHeight else { return 0 }
        if cavityNorm(x, y) / cavityScale(z) >= 1 { return 0 }
        if z >= apexTop(x, y) || z <= diaphragm(x, y) { return 0 }
        if abs(x) < vertebraRadius + 9 && y > vertebraY - vertebraRadius - 2 { return 0 }
        if abs(x) < vertebraRadius + 16 && y > vertebraY + 4 { return 0 }
        if y < vertebraY && abs(x) < bandHalfWidth(y, z) { return 0 }
        if let q = heartQ(x, y, z), q < pericardium { return 0 }
        return x < 0 ? 1 : 2
    }

    /// Lobe of a lung point: 1 right upper, 2 right middle, 3 right lower, 4 left upper,
    /// 5 left lower. The major fissures run from high at the back to low at the front.
    public func lobe(_ x: Double, _ y: Double, _ z: Double) -> Int {
        let fz = fissureHeight(x, y)
        if x < 0 {
            if z < fz { return 3 }
            return (z < hilumZ - 4 && y < cavityCenterY + 0.15 * cavityHalfDepth) ? 2 : 1
        }
        return z < fz ? 5 : 4
    }

    /// Height of the major fissure at (x, y).
    @inline(__always)
    public func fissureHeight(_ x: Double, _ y: Double) -> Double {
        let slope = 0.5 * lungHeight / (2 * cavityHalfDepth)
        let base = (x < 0 ? 0.37 : 0.4) * lungHeight
        return base + slope * (y - cavityCenterY) + 0.12 * (abs(x) - 0.4 * cavityHalfWidth)
    }

    /// Distance (mm, approximate) from a point inside the cavity to the cavity wall (the
    /// costal pleura), at height z.
    @inline(__always)
    public func pleuraDistance(_ x: Double, _ y: Double, _ z: Double) -> Double {
        let n = cavityNorm(x, y) / cavityScale(z)
        let r = (x * x + (y - cavityCenterY) * (y - cavityCenterY)).squareRoot()
        return n > 1e-6 ? r * (1 / n - 1) : cavityHalfDepth
    }

    /// Hilum of each lung (1 right, 2 left), where the vessel and airway trees start.
    public func hilum(_ side: Int) -> SIMD3<Double> {
        SIMD3((side == 1 ? -1 : 1) * 0.3 * cavityHalfWidth, cavityCenterY + 0.05 * cavityHalfDepth, hilumZ)
    }
}
