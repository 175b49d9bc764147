import Foundation

/// A 2-D convolution with its BatchNorm folded in: `y = W' * x + b'` where
/// `W' = W * gamma / sqrt(var + eps)` and `b' = beta - mean * gamma / sqrt(var + eps)`.
///
/// Activations are CNHW: `[C, B, H, W]` contiguous, i.e. a `C x (B*H*W)` matrix, so a 1x1
/// stride-1 convolution over a whole batch is one GEMM and the others are im2col + GEMM.
/// Weights are `[Cout, Cin*K*K]` row-major (PyTorch's OIHW flattened).
final class FoldedConv: @unchecked Sendable {
    let inChannels: Int
    let outChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    let weight: FloatBuffer
    let bias: FloatBuffer
    /// The Winograd form of a 3x3 stride-1 convolution, when enabled.
    private(set) var winograd: WinogradConv?

    static let batchNormEpsilon: Float = 1e-5

    init(weight w: [Float], gamma: [Float], beta: [Float], mean: [Float], variance: [Float],
         inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let k = inChannels * kernel * kernel
        var folded = w
        var b = [Float](repeating: 0, count: outChannels)
        for o in 0..<outChannels {
            // BatchNorm in eval mode: (x - mean) / sqrt(var + eps) * gamma + beta.
            let scale = gamma[o] / (variance[o] + Self.batchNormEpsilon).squareRoot()
            for i in 0..<k { folded[o * k + i] = w[o * k + i] * scale }
            b[o] = beta[o] - mean[o] * scale
        }
        weight = FloatBuffer(folded)
        bias = FloatBuffer(b)
    }

    /// Switches a 3x3 stride-1 convolution to Winograd F(4x4, 3x3); others are unchanged.
    func enableWinograd() {
        if kernel == 3 && stride == 1 && padding == 1 && winograd == nil { winograd = WinogradConv(self) }
    }

    /// Output spatial size for an input of `size`.
    func outputSize(_ size: Int) -> Int { (size + 2 * padding - kernel) / stride + 1 }

    /// Floats of im2col scratch needed per image for an input of `h x w`.
    func columnsPerImage(h: Int, w: Int) -> Int {
        let direct = kernel == 1 && stride == 1 ? 0 : inChannels * kernel * kernel * outputSize(h) * outputSize(w)
        return max(direct, winograd?.scratchPerImage(h: h, w: w) ?? 0)
    }

    /// `y[Cout, B, Ho, Wo] = act(conv(x) + bias (+ residual))`.
    ///
    /// - Parameters:
    ///   - x: input `[Cin, B, H, W]`.
    ///   - y: output `[Cout, B, Ho, Wo]`; must not alias `x`.
    ///   - residual: optional `[Cout, B, Ho, Wo]` added before the activation.
    ///   - scratch: im2col workspace of `scratchCount` floats, at least `columnsPerImage`.
    func forward(_ x: UnsafePointer<Float>, batch: Int, h: Int, w: Int,
                 into y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, relu: Bool,
                 scratch: UnsafeMutablePointer<Float>, scratchCount: Int, threads: Int) {
        if let winograd, batch * WinogradConv.tiles(h: h, w: w) >= WinogradConv.minimumTiles {
            winograd.forward(x, batch: batch, h: h, w: w, into: y, residual: residual, relu: relu,
                             scratch: scratch, scratchCount: scratchCount, threads: threads)
            return
        }
        let ho = outputSize(h), wo = outputSize(w)
        let planeOut = ho * wo
        let columns = batch * planeOut
        let k = inChannels * kernel * kernel
        let label = "conv\(kernel)x\(kernel)s\(stride)"
        if kernel == 1 && stride == 1 {
            Profiler.measure("gemm " + label, flops: 2.0 * Double(outChannels * columns * k)) {
                parallelSgemm(m: outChannels, n: columns, k: k, a: weight.pointer, lda: k, b: x, ldb: columns,
                              c: y, ldc: columns, threads: threads)
            }
        } else {
            let perImage = k * planeOut
            let chunk = max(1, min(batch, scratchCount / perImage))
            precondition(perImage <= scratchCount, "im2col scratch too small")
            var b0 = 0
            while b0 < batch {
                let b1 = min(batch, b0 + chunk)
                Profiler.measure("im2col " + label) {
                    im2col(x, batch: batch, h: h, w: w, images: b0..<b1, into: scratch, threads: threads)
                }
                let n = (b1 - b0) * planeOut
                Profiler.measure("gemm " + label, flops: 2.0 * Double(outChannels * n * k)) {
                    parallelSgemm(m: outChannels, n: n, k: k, a: weight.pointer, lda: k, b: scratch, ldb: n,
                                  c: y + b0 * planeOut, ldc: columns, threads: threads)
                }
                b0 = b1
            }
        }
        Profiler.measure("bias+act") {
            biasActivation(y, rows: outChannels, columns: columns, bias: bias.pointer, residual: residual, relu: relu, threads: threads)
        }
    }

    /// Unfolds images `images` of `x [Cin, B, H, W]` into `col [(Cin*K*K), n*Ho*Wo]`,
    /// row index `(ci*K + ky)*K + kx`, zero where the window falls in the padding.
    func im2col(_ x: UnsafePointer<Float>, batch: Int, h: Int, w: Int, images: Range<Int>,
                into col: UnsafeMutablePointer<Float>, threads: Int) {
        let ho = outputSize(h), wo = outputSize(w)
        let n = images.count * ho * wo
        let kk = kernel * kernel
        let rows = inChannels * kk
        let s = stride, p = padding, kernel = self.kernel
        parallelRanges(rows, threads: threads, minimumPerThread: 8) { range in
            for r in range {
                let ci = r / kk, ky = (r % kk) / kernel, kx = r % kernel
                var dst = col + r * n
                // Output columns whose input column is inside the image: ix = ox*s - p + kx in [0, w).
                let oxLo = min(wo, max(0, (p - kx + s - 1) / s))
                let last = w - 1 + p - kx
                let oxHi = last < 0 ? oxLo : max(oxLo, min(wo, last / s + 1))
                for b in images {
                    let plane = x + (ci * batch + b) * h * w
                    for oy in 0..<ho {
                        let iy = oy * s - p + ky
                        if iy < 0 || iy >= h {
                            dst.update(repeating: 0, count: wo)
                        } else {
                            let row = plane + iy * w
                            if oxLo > 0 { dst.update(repeating: 0, count: oxLo) }
                            if s == 1 {
                                (dst + oxLo).update(from: row + (oxLo - p + kx), count: oxHi - oxLo)
                            } else {
                                var ix = oxLo * s - p + kx
                                for ox in oxLo..<oxHi {
                                    dst[ox] = row[ix]
                                    ix += s
                                }
                            }
                            if oxHi < wo { (dst + oxHi).update(repeating: 0, count: wo - oxHi) }
                        }
                        dst += wo
                    }
                }
            }
        }
    }
}

/// `y[r, j] = act(y[r, j] + bias[r] (+ residual[r, j]))` over a `rows x columns` matrix.
func biasActivation(_ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>,
                    residual: UnsafePointer<Float>?, relu: Bool, threads: Int) {
    parallelRanges(rows, threads: threads, minimumPerThread: 4) { range in
        for r in range {
            let b = bias[r]
            let row = y + r * columns
            if let residual {
                let res = residual + r * columns
                if relu {
                    for j in 0..<columns { row[j] = max(row[j] + b + res[j], 0) }
                } else {
                    for j in 0..<columns { row[j] = row[j] + b + res[j] }
                }
            } else if relu {
                for j in 0..<columns { row[j] = max(row[j] + b, 0) }
            } else {
                for j in 0..<columns { row[j] = row[j] + b }
            }
        }
    }
}
