import Foundation

/// Winograd F(4x4, 3x3) for 3x3, stride-1, padding-1 convolutions (Lavin & Gray, 2015),
/// interpolation points 0, +-1, +-2, +inf.
///
/// For each 6x6 input tile `d` (stride 4) and each filter `g`:
/// `Y = A^T [ (G g G^T) .* (B^T d B) ] A`, a 4x4 output tile. The element-wise product summed
/// over input channels becomes 36 independent GEMMs `M[xi] = U[xi] (Cout x Cin) * V[xi] (Cin x T)`
/// over all `T` tiles of the batch, so 3x3 convolutions cost 36/144 = 1/4 of the direct
/// multiplications (plus the transforms and the tiles' padding).
///
/// Layouts: input `[Cin, B, H, W]` and output `[Cout, B, H, W]` (CNHW); `U` is
/// `[36, Cout, Cin]`; the scratch holds `V [36, Cin, T]` and `M [36, Cout, T]`.
final class WinogradConv: @unchecked Sendable {
    let inChannels: Int
    let outChannels: Int
    /// Transformed filters `U [36, Cout, Cin]`.
    let u: FloatBuffer
    let bias: FloatBuffer

    /// `G` (6x3) of F(4x4, 3x3).
    static let g: [[Double]] = [
        [1.0 / 4, 0, 0],
        [-1.0 / 6, -1.0 / 6, -1.0 / 6],
        [-1.0 / 6, 1.0 / 6, -1.0 / 6],
        [1.0 / 24, 1.0 / 12, 1.0 / 6],
        [1.0 / 24, -1.0 / 12, 1.0 / 6],
        [0, 0, 1],
    ]

    init(_ conv: FoldedConv) {
        precondition(conv.kernel == 3 && conv.stride == 1 && conv.padding == 1)
        inChannels = conv.inChannels
        outChannels = conv.outChannels
        bias = conv.bias
        let cin = inChannels, cout = outChannels
        let u = FloatBuffer(count: 36 * cout * cin)
        let w = conv.weight.pointer
        let g = Self.g
        for o in 0..<cout {
            for i in 0..<cin {
                let f = w + (o * cin + i) * 9
                // tmp = G f (6x3), then U = tmp G^T (6x6), in double precision.
                var tmp = [Double](repeating: 0, count: 18)
                for r in 0..<6 {
                    for c in 0..<3 {
                        var s = 0.0
                        for k in 0..<3 { s += g[r][k] * Double(f[k * 3 + c]) }
                        tmp[r * 3 + c] = s
                    }
                }
                for r in 0..<6 {
                    for c in 0..<6 {
                        var s = 0.0
                        for k in 0..<3 { s += tmp[r * 3 + k] * g[c][k] }
                        u.pointer[((r * 6 + c) * cout + o) * cin + i] = Float(s)
                    }
                }
            }
        }
        self.u = u
    }

    /// Below this many tiles per call the 36 GEMMs are too thin to pay; the direct form runs.
    static let minimumTiles = 64

    /// Tiles per image for an `h x w` input.
    static func tiles(h: Int, w: Int) -> Int { ((h + 3) / 4) * ((w + 3) / 4) }

    /// Floats of scratch per image: `V` and `M`.
    func scratchPerImage(h: Int, w: Int) -> Int { 36 * (inChannels + outChannels) * Self.tiles(h: h, w: w) }

    func forward(_ x: UnsafePointer<Float>, batch: Int, h: Int, w: Int,
                 into y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, relu: Bool,
                 scratch: UnsafeMutablePointer<Float>, scratchCount: Int, threads: Int) {
        let perImage = scratchPerImage(h: h, w: w)
        precondition(perImage <= scratchCount, "Winograd scratch too small")
        let chunk = max(1, min(batch, scratchCount / perImage))
        var b0 = 0
        while b0 < batch {
            let b1 = min(batch, b0 + chunk)
            let t = (b1 - b0) * Self.tiles(h: h, w: w)
            let v = scratch, m = scratch + 36 * inChannels * t
            Profiler.measure("winograd input") {
                inputTransform(x, batch: batch, h: h, w: w, images: b0..<b1, into: v, threads: threads)
            }
            Profiler.measure("gemm winograd", flops: 2.0 * 36 * Double(outChannels * inChannels * t)) {
                // 36 independent GEMMs, shared among the threads.
                let cout = outChannels, cin = inChannels, u = self.u.pointer
                parallelRanges(36, threads: threads) { range in
                    for xi in range {
                        sgemm(m: cout, n: t, k: cin, a: u + xi * cout * cin, lda: cin,
                              b: v + xi * cin * t, ldb: t, c: m + xi * cout * t, ldc: t)
                    }
                }
            }
            Profiler.measure("winograd output") {
                outputTransform(m, tiles: t, batch: batch, h: h, w: w, images: b0..<b1, into: y,
                                residual: residual, relu: relu, threads: threads)
            }
            b0 = b1
        }
    }

    /// `V[xi, ci, t] = (B^T d B)[xi]` for the 6x6 tile `d` at `(4 ty - 1, 4 tx - 1)`, zero outside.
    ///
    /// Per tile row: the vertical 1-D transform runs over whole zero-padded image rows; each
    /// transformed row is split into its four phases (`P_j[tx] = row[4 tx + j]`), so that the
    /// horizontal transform of all the row's tiles is a contiguous, vectorisable loop over `tx`
    /// whose stores land contiguously in each `V[xi]`.
    func inputTransform(_ x: UnsafePointer<Float>, batch: Int, h: Int, w: Int, images: Range<Int>,
                        into v: UnsafeMutablePointer<Float>, threads: Int) {
        let th = (h + 3) / 4, tw = (w + 3) / 4
        let t = images.count * th * tw
        let s = inChannels * t          // distance between consecutive xi planes of V
        let lp = 4 * tw + 4             // padded line: column x' holds image column x' - 1
        let pw = tw + 1                 // phase length
        parallelRanges(inChannels, threads: threads, minimumPerThread: 2) { range in
            let lines = UnsafeMutablePointer<Float>.allocate(capacity: 12 * lp + 4 * pw)
            defer { lines.deallocate() }
            lines.initialize(repeating: 0, count: 12 * lp + 4 * pw)
            let rowsIn = lines            // 6 padded input rows
            let rowsT = lines + 6 * lp    // 6 vertically transformed rows
            let phase = lines + 12 * lp   // 4 phases of one transformed row
            let p0 = phase, p1 = phase + pw, p2 = phase + 2 * pw, p3 = phase + 3 * pw
            for ci in range {
                var tile = 0
                let out = v + ci * t
                for b in images {
                    let plane = x + (ci * batch + b) * h * w
                    for ty in 0..<th {
                        let y0 = 4 * ty - 1
                        for r in 0..<6 {
                            let iy = y0 + r
                            let line = rowsIn + r * lp
                            if iy >= 0 && iy < h {
                                (line + 1).update(from: plane + iy * w, count: w)
                                (line + 1 + w).update(repeating: 0, count: lp - 1 - w)
                            } else {
                                line.update(repeating: 0, count: lp)
                            }
                        }
                        // Vertical: rowsT = B^T rowsIn, over all padded columns.
                        let d0 = rowsIn, d1 = rowsIn + lp, d2 = rowsIn + 2 * lp
                        let d3 = rowsIn + 3 * lp, d4 = rowsIn + 4 * lp, d5 = rowsIn + 5 * lp
                        let t0 = rowsT, t1 = rowsT + lp, t2 = rowsT + 2 * lp
                        let t3 = rowsT + 3 * lp, t4 = rowsT + 4 * lp, t5 = rowsT + 5 * lp
                        for j in 0..<lp {
                            let a0 = d0[j], a1 = d1[j], a2 = d2[j], a3 = d3[j], a4 = d4[j], a5 = d5[j]
                            t0[j] = 4 * a0 - 5 * a2 + a4
                            t1[j] = -4 * (a1 + a2) + a3 + a4
                            t2[j] = 4 * (a1 - a2) - a3 + a4
                            t3[j] = 2 * (a3 - a1) - a2 + a4
                            t4[j] = 2 * (a1 - a3) - a2 + a4
                            t5[j] = 4 * a1 - 5 * a3 + a5
                        }
                        // Horizontal: V[r*6 + c][tile + tx] from row r's values 4 tx .. 4 tx + 5.
                        for r in 0..<6 {
                            let row = rowsT + r * lp
                            for k in 0..<pw {
                                p0[k] = row[4 * k]; p1[k] = row[4 * k + 1]; p2[k] = row[4 * k + 2]; p3[k] = row[4 * k + 3]
                            }
                            let o0 = out + tile + (r * 6) * s, o1 = o0 + s, o2 = o1 + s
                            let o3 = o2 + s, o4 = o3 + s, o5 = o4 + s
                            for tx in 0..<tw {
                                let a0 = p0[tx], a1 = p1[tx], a2 = p2[tx], a3 = p3[tx], a4 = p0[tx + 1], a5 = p1[tx + 1]
                                o0[tx] = 4 * a0 - 5 * a2 + a4
                                o1[tx] = -4 * (a1 + a2) + a3 + a4
                                o2[tx] = 4 * (a1 - a2) - a3 + a4
                                o3[tx] = 2 * (a3 - a1) - a2 + a4
                                o4[tx] = 2 * (a1 - a3) - a2 + a4
                                o5[tx] = 4 * a1 - 5 * a3 + a5
                            }
                        }
                        tile += tw
                    }
                }
            }
        }
    }

    /// `Y = A^T m A` per tile, plus bias (and residual), activation, clipped to the image.
    ///
    /// Per tile row: the horizontal 1-D transform of all the row's tiles as contiguous loops
    /// over `tx` (one per phase), interleaved into six lines; then the vertical transform over
    /// whole lines, fused with bias, residual and ReLU.
    func outputTransform(_ m: UnsafePointer<Float>, tiles t: Int, batch: Int, h: Int, w: Int, images: Range<Int>,
                         into y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, relu: Bool, threads: Int) {
        let th = (h + 3) / 4, tw = (w + 3) / 4
        let s = outChannels * t
        let lw = 4 * tw
        parallelRanges(outChannels, threads: threads, minimumPerThread: 2) { range in
            let lines = UnsafeMutablePointer<Float>.allocate(capacity: 10 * lw + 4 * tw)
            defer { lines.deallocate() }
            lines.initialize(repeating: 0, count: 10 * lw + 4 * tw)
            let rowsH = lines              // 6 horizontally transformed rows
            let outRows = lines + 6 * lw   // 4 output rows
            let phase = lines + 10 * lw
            let q0 = phase, q1 = phase + tw, q2 = phase + 2 * tw, q3 = phase + 3 * tw
            for co in range {
                let b = bias.pointer[co]
                let src = m + co * t
                var tile = 0
                for img in images {
                    let planeOffset = (co * batch + img) * h * w
                    for ty in 0..<th {
                        for r in 0..<6 {
                            let m0 = src + tile + (r * 6) * s, m1 = m0 + s, m2 = m1 + s
                            let m3 = m2 + s, m4 = m3 + s, m5 = m4 + s
                            for tx in 0..<tw {
                                let s12 = m1[tx] + m2[tx], d12 = m1[tx] - m2[tx]
                                let s34 = m3[tx] + m4[tx], d34 = m3[tx] - m4[tx]
                                q0[tx] = m0[tx] + s12 + s34
                                q1[tx] = d12 + 2 * d34
                                q2[tx] = s12 + 4 * s34
                                q3[tx] = d12 + 8 * d34 + m5[tx]
                            }
                            let row = rowsH + r * lw
                            for tx in 0..<tw {
                                row[4 * tx] = q0[tx]; row[4 * tx + 1] = q1[tx]; row[4 * tx + 2] = q2[tx]; row[4 * tx + 3] = q3[tx]
                            }
                        }
                        tile += tw
                        // Vertical over whole lines, with bias.
                        let h0 = rowsH, h1 = rowsH + lw, h2 = rowsH + 2 * lw
                        let h3 = rowsH + 3 * lw, h4 = rowsH + 4 * lw, h5 = rowsH + 5 * lw
                        let o0 = outRows, o1 = outRows + lw, o2 = outRows + 2 * lw, o3 = outRows + 3 * lw
                        for j in 0..<lw {
                            let a0 = h0[j], a1 = h1[j], a2 = h2[j], a3 = h3[j], a4 = h4[j], a5 = h5[j]
                            let s12 = a1 + a2, d12 = a1 - a2, s34 = a3 + a4, d34 = a3 - a4
                            o0[j] = a0 + s12 + s34 + b
                            o1[j] = d12 + 2 * d34 + b
                            o2[j] = s12 + 4 * s34 + b
                            o3[j] = d12 + 8 * d34 + a5 + b
                        }
                        let rows = min(4, h - 4 * ty)
                        for r in 0..<rows {
                            let offset = planeOffset + (4 * ty + r) * w
                            let dst = y + offset
                            let line = outRows + r * lw
                            if let residual {
                                let res = residual + offset
                                if relu {
                                    for j in 0..<w { dst[j] = max(line[j] + res[j], 0) }
                                } else {
                                    for j in 0..<w { dst[j] = line[j] + res[j] }
                                }
                            } else if relu {
                                for j in 0..<w { dst[j] = max(line[j], 0) }
                            } else {
                                dst.update(from: line, count: w)
                            }
                        }
                    }
                }
            }
        }
    }
}
