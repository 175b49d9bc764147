import Foundation

/// Scanner operators on any HU volume (synthetic or real), in the order a scanner applies
/// them: slice thickening, reconstruction kernel, noise, HU calibration.
public enum ScannerSimulation {
    /// Averages `thickness` consecutive slices every `step` slices (boxcar slice profile):
    /// output slice j is the mean of input slices j*step ..< j*step + thickness, centred
    /// between them. Truth flags (when given) are kept where at least half the averaged
    /// slices have them.
    public static func thicken(_ v: CTVolume, thickness: Int, step: Int,
                               truth: [UInt8]? = nil) -> (volume: CTVolume, truth: [UInt8]?) {
        precondition(thickness >= 1 && step >= 1)
        let n2 = v.rows * v.columns
        let count = max(0, (v.slices - thickness) / step + 1)
        var out = CTVolume(rows: v.rows, columns: v.columns, slices: count, columnSpacing: v.columnSpacing,
                           rowSpacing: v.rowSpacing, sliceSpacing: v.sliceSpacing * Double(step),
                           sliceThickness: v.sliceThickness * Double(thickness),
                           origin: (v.origin.x, v.origin.y, v.origin.z + v.sliceSpacing * Double(thickness - 1) / 2), fill: 0)
        var t = truth.map { _ in [UInt8](repeating: 0, count: n2 * count) }
        let inv = 1 / Float(thickness)
        for j in 0..<count {
            let ob = j * n2
            for s in 0..<thickness {
                let ib = (j * step + s) * n2
                for i in 0..<n2 { out.hu[ob + i] += v.hu[ib + i] * inv }
            }
            if let truth {
                for i in 0..<n2 {
                    var result: UInt8 = 0
                    for bit in 0..<8 {
                        let m = UInt8(1 << bit)
                        var c = 0
                        for s in 0..<thickness where truth[(j * step + s) * n2 + i] & m != 0 { c += 1 }
                        if 2 * c >= thickness { result |= m }
                    }
                    t![ob + i] = result
                }
            }
        }
        return (out, t)
    }

    /// Separable Gaussian blur of one slice in place (sigma in pixels, edges clamped).
    static func gaussian(_ img: inout [Float], rows: Int, columns: Int, sigma: Double) {
        guard sigma > 0.05 else { return }
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var w = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let s = w.reduce(0, +)
        w = w.map { $0 / s }
        var tmp = img
        for r in 0..<rows {
            for c in 0..<columns {
                var acc: Float = 0
                for k in -radius...radius { acc += w[k + radius] * img[r * columns + min(max(c + k, 0), columns - 1)] }
                tmp[r * columns + c] = acc
            }
        }
        for r in 0..<rows {
            for c in 0..<columns {
                var acc: Float = 0
                for k in -radius...radius { acc += w[k + radius] * tmp[min(max(r + k, 0), rows - 1) * columns + c] }
                img[r * columns + c] = acc
            }
        }
    }

    /// Reconstruction kernel: blur (sigma `blur` mm), then unsharp masking by `sharpen` at
    /// radius `sharpenRadius` mm. Sharper kernels show edge overshoot around bone and vessels.
    public static func applyKernel(_ v: inout CTVolume, blur: Double, sharpen: Double, sharpenRadius: Double) {
        let n2 = v.rows * v.columns
        for k in 0..<v.slices {
            var img = Array(v.hu[(k * n2)..<((k + 1) * n2)])
            gaussian(&img, rows: v.rows, columns: v.columns, sigma: blur / v.columnSpacing)
            if sharpen > 0 {
                var low = img
                gaussian(&low, rows: v.rows, columns: v.columns, sigma: sharpenRadius / v.columnSpacing)
                for i in 0..<n2 { img[i] += Float(sharpen) * (img[i] - low[i]) }
            }
            v.hu.replaceSubrange((k * n2)..<((k + 1) * n2), with: img)
        }
    }

    /// Adds correlated Gaussian noise of standard deviation `sigma` HU: white noise blurred
    /// with a Gaussian of `grain` mm, rescaled to unit variance (the blur's power), so the
    /// texture has the kernel's grain.
    public static func addNoise(_ v: inout CTVolume, sigma: Double, grain: Double, rng: inout SynthRandom) {
        guard sigma > 0 else { return }
        let n2 = v.rows * v.columns
        let gs = grain / v.columnSpacing
        // Variance of white noise after a normalised 2D Gaussian of sigma s: 1 / (4 pi s^2)
        // for s well above one pixel; computed exactly from the discrete kernel here.
        let radius = max(1, Int((3 * gs).rounded(.up)))
        var w = (-radius...radius).map { exp(-Double($0 * $0) / (2 * max(gs, 1e-6) * max(gs, 1e-6))) }
        let s = w.reduce(0, +)
        w = w.map { $0 / s }
        let power1D = w.map { $0 * $0 }.reduce(0, +)
        let scale = Float(sigma / power1D)                // 2D power = power1D^2, std = power1D
        for k in 0..<v.slices {
            var img = [Float](repeating: 0, count: n2)
            var i = 0
            while i < n2 {
                let (a, b) = rng.normalPair()
                img[i] = a
                if i + 1 < n2 { img[i + 1] = b }
                i += 2
            }
            if gs > 0.05 { gaussian(&img, rows: v.rows, columns: v.columns, sigma: gs) }
            for j in 0..<n2 { v.hu[k * n2 + j] += scale * img[j] }
        }
    }

    /// HU calibration error: hu' = gain * hu + offset.
    public static func calibrate(_ v: inout CTVolume, gain: Double, offset: Double) {
        let g = Float(gain), o = Float(offset)
        for i in 0..<v.hu.count { v.hu[i] = g * v.hu[i] + o }
    }

    /// Noise standard deviation for a patient `width` mm wide under `profile`.
    public static func noiseSigma(_ profile: ScannerProfile, patientWidth: Double) -> Double {
        profile.noise * pow(2, (patientWidth - 330) / 80)
    }

    /// The whole profile on a volume rendered at `profile.renderSpacing`: thickening, kernel,
    /// noise (for a patient `patientWidth` mm wide), calibration.
    public static func apply(_ profile: ScannerProfile, to v: CTVolume, truth: [UInt8]?, patientWidth: Double,
                             rng: inout SynthRandom) -> (volume: CTVolume, truth: [UInt8]?) {
        var (out, t) = thicken(v, thickness: profile.thicknessFactor, step: profile.spacingFactor, truth: truth)
        applyKernel(&out, blur: profile.blur, sharpen: profile.sharpen, sharpenRadius: profile.sharpenRadius)
        addNoise(&out, sigma: noiseSigma(profile, patientWidth: patientWidth), grain: profile.noiseGrain, rng: &rng)
        calibrate(&out, gain: profile.huGain, offset: profile.huOffset)
        return (out, t)
    }
}
