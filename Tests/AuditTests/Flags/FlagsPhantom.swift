import Foundation
import Audit
import Model

/// A chest phantom for the flag detectors, built here independently of the detectors: body
/// ellipse (muscle, fat), two lungs, spine, a heart disc between the lungs shifted to the
/// patient's left, and on request a cardiac-motion artifact beside the heart (blurred and
/// doubled border, bright and dark streak bands), peripheral subpleural ground-glass in both
/// lungs, metal, an HU offset or extra noise. Lesion maps are the crop box's 14x14 cell means of
/// where the phantom's "abnormality" is (artifact band or lesions).
struct FlagsPhantom {
    var size = 128
    var spacing = 2.5          // mm per pixel
    var slices = 12
    var artifact = false
    /// The non-parametric head's probabilities when called abnormal (default: slices look healthy,
    /// as on an artifact-made call; the learned head alone calls the patient sick).
    var nonParametricWhenAbnormal: [Double] = [0.95, 0.03, 0.01, 0.01]
    var subpleuralDisease = false
    /// Lesion-map activation beside the heart without any image change (a motion-free heart border).
    var activationBesideHeart = false
    var metal = false
    var huOffset: Float = 0
    var noise: Float = 12
    var calledAbnormal = true
    /// Slices that show the heart (nil: all). The others are cut above it: the lungs meet in
    /// the middle, with no mediastinal soft tissue wide enough to be a heart, and no artifact.
    var heartOnSlices: Range<Int>?
    /// Mirror the image left-right and record the orientation as [-1, 0, 0, 0, 1, 0].
    var flipped = false
    var seed: UInt64 = 7

    var mapSize = 14   // the full-size model's H3 (224 / 16); the demo models have 6 (96 / 16)

    /// Geometry in pixels.
    var centre: Double { Double(size) / 2 }
    var heartCentre: (r: Double, c: Double) { (centre - 4, centre + 6) }   // c + = patient's left (unflipped)
    var heartRadius: Double { 18 }

    func hasHeart(_ z: Int) -> Bool { heartOnSlices?.contains(z) ?? true }

    func hu(slice z: Int) -> (hu: [Float], abnormal: [Bool]) {
        var rng = SplitMix64(seed: seed &+ UInt64(z) &* 7919)
        let n = size * size
        var hu = [Float](repeating: -1000, count: n)
        var abnormal = [Bool](repeating: false, count: n)
        let c0 = centre
        for r in 0..<size { for c in 0..<size {
            let x = (Double(c) - c0) / 56, y = (Double(r) - c0) / 44
            let e = x * x + y * y
            if e < 1 { hu[r * size + c] = e > 0.8 ? -100 : 45 }
            // Lungs.
            for side in [-1.0, 1.0] {
                let lx = (Double(c) - c0 - side * (hasHeart(z) ? 26 : 20)) / 19, ly = (Double(r) - c0 + 2) / 31
                if lx * lx + ly * ly < 1 { hu[r * size + c] = -850 }
            }
            // Spine.
            let sx = Double(c) - c0, sy = Double(r) - (c0 + 30)
            if sx * sx + sy * sy < 64 { hu[r * size + c] = 600 }
        } }
        // Heart (with a 1-pixel fat rim), drawn over the lungs' inner parts.
        let (hr, hc) = heartCentre
        for r in 0..<size { for c in 0..<size where hasHeart(z) {
            let d = ((Double(r) - hr) * (Double(r) - hr) + (Double(c) - hc) * (Double(c) - hc)).squareRoot()
            if d < heartRadius { hu[r * size + c] = d > heartRadius - 1 ? -90 : 40 }
        } }
        if artifact && hasHeart(z) {
            // Left border: a blurred edge, a ghost border 6 mm out, and bright/dark bands that change with z.
            for r in 0..<size { for c in 0..<size {
                let dy = Double(r) - hr, dx = Double(c) - hc
                let d = (dx * dx + dy * dy).squareRoot()
                guard dx > 0, d >= heartRadius - 2, d < heartRadius + 8, hu[r * size + c] < -500 || d < heartRadius else { continue }
                let out = d - heartRadius   // mm / spacing
                let angle = atan2(dy, dx)
                var v = Float(-850)
                if out < 0 { v = 40 - Float(out + 2) / 2 * 0 }
                if out >= 0 && out < 2 { v = Float(-850 + (1 - out / 2) * 600) }          // blurred edge
                if out >= 2.2 && out < 3.2 { v = -300 }                                    // ghost border
                let stripe = sin(angle * 9 + Double(z) * 1.7)
                // Streak bands out to 20 mm, fading (failure-modes.md: fades within 1-2 cm).
                let fade = Float(max(0, 1 - (out - 3.2) / 6))
                if out >= 3.2 { v = -850 + fade * Float(stripe > 0 ? 170 : -140) }
                hu[r * size + c] = v
                if out >= 0 { abnormal[r * size + c] = true }
            } }
        }
        if activationBesideHeart {
            for r in 0..<size { for c in 0..<size {
                let dy = Double(r) - hr, dx = Double(c) - hc
                let d = (dx * dx + dy * dy).squareRoot()
                if dx > 0 && d >= heartRadius && d < heartRadius + 6 && hu[r * size + c] < -500 { abnormal[r * size + c] = true }
            } }
        }
        if subpleuralDisease {
            // Ground-glass patches against the lateral chest wall of both lungs.
            for side in [-1.0, 1.0] {
                let pc = c0 + side * 40, pr = c0 + 4
                for r in 0..<size { for c in 0..<size {
                    let d = ((Double(r) - pr) * (Double(r) - pr) + (Double(c) - pc) * (Double(c) - pc)).squareRoot()
                    if d < 8 && hu[r * size + c] < -500 { hu[r * size + c] = -520; abnormal[r * size + c] = true }
                } }
            }
        }
        if metal && z == slices / 2 {
            for r in 0..<6 { for c in 0..<6 { hu[(Int(c0) + 20 + r) * size + Int(c0) - 30 + c] = 3000 } }
        }
        for i in 0..<n {
            hu[i] = min(3071, max(-1024, hu[i] + huOffset + noise * Float(rng.normal())))
        }
        if flipped {
            var m = hu, a = abnormal
            for r in 0..<size { for c in 0..<size { m[r * size + c] = hu[r * size + size - 1 - c]; a[r * size + c] = abnormal[r * size + size - 1 - c] } }
            hu = m; abnormal = a
        }
        return (hu, abnormal)
    }

    /// The patient as the detectors see it (crop boxes and lung areas from the spec's preprocessing).
    func flagCase(label: Diagnosis? = .healthy) throws -> FlagCase {
        let pre = try SlicePreprocessor(settings: PreprocessSettings(), rows: size, columns: size)
        var out: [FlagSlice] = []
        for z in 0..<slices {
            let (hu, abnormal) = hu(slice: z)
            let st = hu.withUnsafeBufferPointer { pre.lungStatistics($0) }
            let b = st.cropBox
            var map = [Float](repeating: 0.2, count: mapSize * mapSize)
            var anyAbnormal = false
            for i in 0..<mapSize { for j in 0..<mapSize {
                let r0 = b.row0 + i * b.height / mapSize, r1 = b.row0 + (i + 1) * b.height / mapSize
                let c0 = b.col0 + j * b.width / mapSize, c1 = b.col0 + (j + 1) * b.width / mapSize
                var k = 0, t = 0
                for r in r0..<max(r0 + 1, r1) { for c in c0..<max(c0 + 1, c1) { t += 1; if abnormal[r * size + c] { k += 1 } } }
                map[i * mapSize + j] = 0.2 + 0.8 * min(1, Float(k) / Float(max(1, t)) * 4)
                if k > 0 { anyAbnormal = true }
            } }
            let predicted = calledAbnormal && anyAbnormal ? 1 : 0
            let q = predicted == 1 ? [0.2, 0.7, 0.05, 0.05] : [0.9, 0.05, 0.03, 0.02]
            out.append(FlagSlice(index: z, position: Double(z) * 5, hu: hu, cropBox: b, cropFailed: st.cropFailed,
                                 lungArea: st.lungArea, lowColumnArea: st.leftHalfArea, highColumnArea: st.rightHalfArea,
                                 q: q, predicted: predicted, lesionMap: map))
        }
        return FlagCase(patientID: "PHANTOM", label: label, modality: "CT", bodyPartExamined: "CHEST", rows: size, columns: size,
                        pixelSpacing: [spacing, spacing], orientation: flipped ? [-1, 0, 0, 0, 1, 0] : [1, 0, 0, 0, 1, 0],
                        sliceSpacing: 5, problems: [], mapSize: mapSize, slices: out,
                        probabilities: calledAbnormal ? [0.2, 0.7, 0.05, 0.05] : [0.9, 0.05, 0.03, 0.02],
                        predicted: calledAbnormal ? 1 : 0, nonParametric: calledAbnormal ? nonParametricWhenAbnormal : [0.9, 0.05, 0.03, 0.02],
                        nonParametricPredicted: calledAbnormal ? (nonParametricWhenAbnormal.indices.max { nonParametricWhenAbnormal[$0] < nonParametricWhenAbnormal[$1] } ?? 0) : 0, preprocess: PreprocessSettings())
    }
}
