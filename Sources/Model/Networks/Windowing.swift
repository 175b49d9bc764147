/// Window-leveling and ImageNet normalisation (spec section 1, steps 8-9).
public enum Windowing {
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    public static let std: [Float] = [0.229, 0.224, 0.225]

    /// Writes channel `k` of image `image` in a CNHW batch `[3, B, S, S]`:
    /// `x_k = (clamp((hu - (c - w/2)) / w, 0, 1) - mean[k]) / std[k]`.
    static func normalise(hu: UnsafePointer<Float>, pixels: Int, center c: Float, width w: Float,
                          into x: UnsafeMutablePointer<Float>, image: Int, batch: Int) {
        let low = c - w / 2
        for k in 0..<3 {
            let dst = x + (k * batch + image) * pixels
            let m = mean[k], s = std[k]
            for i in 0..<pixels {
                let v = min(max((hu[i] - low) / w, 0), 1)
                dst[i] = (v - m) / s
            }
        }
    }
}
