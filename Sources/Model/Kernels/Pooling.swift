import Foundation

/// 3x3 max pooling, stride 2, padding 1 (padding never wins, as PyTorch pads with -inf).
/// `x [P, H, W]` (P = C*B planes) -> `y [P, Ho, Wo]`, `Ho = (H - 1) / 2 + 1`.
func maxPool3x3s2(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int,
                  into y: UnsafeMutablePointer<Float>, threads: Int) {
    let ho = (h - 1) / 2 + 1, wo = (w - 1) / 2 + 1
    parallelRanges(planes, threads: threads, minimumPerThread: 4) { range in
        for p in range {
            let src = x + p * h * w
            let dst = y + p * ho * wo
            for oy in 0..<ho {
                let y0 = max(0, 2 * oy - 1), y1 = min(h - 1, 2 * oy + 1)
                for ox in 0..<wo {
                    let x0 = max(0, 2 * ox - 1), x1 = min(w - 1, 2 * ox + 1)
                    var m = -Float.infinity
                    for iy in y0...y1 {
                        let row = src + iy * w
                        for ix in x0...x1 where row[ix] > m || row[ix].isNaN { m = row[ix] }
                    }
                    dst[oy * wo + ox] = m
                }
            }
        }
    }
}

/// Global average pooling of CNHW activations: `x [C, B, HW]` -> `g [B, C]` (image-major).
func globalAveragePool(_ x: UnsafePointer<Float>, channels: Int, batch: Int, plane: Int,
                       into g: UnsafeMutablePointer<Float>) {
    let inv = 1 / Float(plane)
    for c in 0..<channels {
        for b in 0..<batch {
            let src = x + (c * batch + b) * plane
            var s: Float = 0
            for i in 0..<plane { s += src[i] }
            g[b * channels + c] = s * inv
        }
    }
}

/// Numerically stable softmax of `n` values in place (PyTorch's: subtract the maximum).
func softmaxInPlace(_ v: UnsafeMutablePointer<Float>, count n: Int) {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, v[i]) }
    var s: Float = 0
    for i in 0..<n {
        let e = expf(v[i] - m)
        v[i] = e
        s += e
    }
    let inv = 1 / s
    for i in 0..<n { v[i] *= inv }
}
