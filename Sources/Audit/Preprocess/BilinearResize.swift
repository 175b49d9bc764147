/// Bilinear resize with PyTorch's `interpolate(mode="bilinear", align_corners=False,
/// antialias=False)` arithmetic, in float32 as torch's CPU kernel computes it (its
/// vectorised builds contract multiply-adds into fused ones, so we do too):
///
///     scale = Float(inSize) / Float(outSize)
///     src   = max(fma(scale, Float(dst) + 0.5, -0.5), 0)
///     i0    = min(Int(floor(src)), inSize - 1);  i1 = i0 + (i0 < inSize - 1 ? 1 : 0)
///     l1    = min(max(src - Float(i0), 0), 1);   l0 = 1 - l1
///     row   = fma(x[h][w0], lw0, x[h][w1] * lw1)             (for h = h0 and h1)
///     out   = fma(row(h0), lh0, row(h1) * lh1)
///
/// This reproduces torch 2.x bit for bit on the sizes checked (e.g. 512x512, 300x412 and
/// 106x165 to 224); some downsampling sizes differ by one float32 ulp.
/// `fma(a, b, c)` for floats is computed as `Float(Double(a) * Double(b) + Double(c))`: the
/// product is exact in double, so only a rare double rounding can differ from a fused op.
enum BilinearResize {
    @inline(__always)
    static func fma(_ a: Float, _ b: Float, _ c: Float) -> Float {
        Float(Double(a) * Double(b) + Double(c))
    }

    struct Axis {
        var i0: [Int]
        var i1: [Int]
        var l0: [Float]
        var l1: [Float]

        init(inSize: Int, outSize: Int) {
            let scale = Float(inSize) / Float(outSize)
            i0 = []; i1 = []; l0 = []; l1 = []
            i0.reserveCapacity(outSize)
            for d in 0..<outSize {
                var src = BilinearResize.fma(scale, Float(d) + 0.5, -0.5)
                if src < 0 { src = 0 }
                let a = min(Int(src.rounded(.down)), inSize - 1)
                let b = a + (a < inSize - 1 ? 1 : 0)
                let lam = min(max(src - Float(a), 0), 1)
                i0.append(a); i1.append(b); l1.append(lam); l0.append(1 - lam)
            }
        }
    }

    /// Resizes the window `[row0...row1] x [col0...col1]` of `src` (row-major, `srcCols`
    /// wide) to `outSize x outSize` into `dst` (row-major).
    static func resize(_ src: UnsafeBufferPointer<Float>, srcCols: Int, row0: Int, col0: Int, row1: Int, col1: Int,
                       outSize: Int, into dst: UnsafeMutableBufferPointer<Float>) {
        let h = Axis(inSize: row1 - row0 + 1, outSize: outSize)
        let w = Axis(inSize: col1 - col0 + 1, outSize: outSize)
        w.i0.withUnsafeBufferPointer { wi0 in
        w.i1.withUnsafeBufferPointer { wi1 in
        w.l0.withUnsafeBufferPointer { wl0 in
        w.l1.withUnsafeBufferPointer { wl1 in
            for y in 0..<outSize {
                let r0 = (row0 + h.i0[y]) * srcCols + col0, r1 = (row0 + h.i1[y]) * srcCols + col0
                let lh0 = h.l0[y], lh1 = h.l1[y]
                let o = y * outSize
                for x in 0..<outSize {
                    let a = wi0[x], b = wi1[x]
                    let lw0 = wl0[x], lw1 = wl1[x]
                    let top = fma(src[r0 + a], lw0, src[r0 + b] * lw1)
                    let bottom = fma(src[r1 + a], lw0, src[r1 + b] * lw1)
                    dst[o + x] = fma(top, lh0, bottom * lh1)
                }
            }
        }}}}
    }
}
