import Foundation

/// The patient-level network of spec section 3: multi-head self-attention refinement of the
/// slice features, attention aggregation, applied to every contiguous part at every scale,
/// then fusion and a four-class classifier.
public final class PatientNetwork: @unchecked Sendable {
    /// `y = W x + bias` with `W` of shape `[out, in]`, as PyTorch's `Linear`.
    struct Linear {
        let weight: [Float]
        let bias: [Float]
        let inFeatures: Int
        let outFeatures: Int

        /// `Y[n, out] = X[n, in] W^T + bias`.
        func callAsFunction(_ x: [Float], rows n: Int) -> [Float] {
            var y = [Float](repeating: 0, count: n * outFeatures)
            for r in 0..<n {
                for o in 0..<outFeatures { y[r * outFeatures + o] = bias[o] }
            }
            x.withUnsafeBufferPointer { xp in
                weight.withUnsafeBufferPointer { wp in
                    y.withUnsafeMutableBufferPointer { yp in
                        sgemm(m: n, n: outFeatures, k: inFeatures, a: xp.baseAddress!, lda: inFeatures,
                              b: wp.baseAddress!, ldb: inFeatures, transB: true,
                              c: yp.baseAddress!, ldc: outFeatures, beta: 1)
                    }
                }
            }
            return y
        }
    }

    struct Refinement { let q, k, v, o: Linear }

    public let config: ModelConfig
    let refinements: [Refinement]
    let query: [Float]
    let aggregateK: Linear
    let aggregateV: Linear
    let fuse: Linear
    let classifier: Linear

    public init(_ file: WeightFile) {
        let c = file.config
        config = c
        let d = c.reducedDim, D = c.featureDim
        func linear(_ name: String, _ inF: Int, _ outF: Int) -> Linear {
            Linear(weight: file.tensor("\(name).weight"), bias: file.tensor("\(name).bias"), inFeatures: inF, outFeatures: outF)
        }
        refinements = (0..<c.refineLayers).map { l in
            let p = "patient.refine.\(l)"
            return Refinement(q: linear("\(p).q", D, d), k: linear("\(p).k", D, d), v: linear("\(p).v", D, d), o: linear("\(p).o", d, D))
        }
        query = file.tensor("patient.aggregate.query")
        aggregateK = linear("patient.aggregate.k", D, d)
        aggregateV = linear("patient.aggregate.v", D, d)
        fuse = linear("patient.fuse", d * c.scales.reduce(0, +), d)
        classifier = linear("patient.classifier", d, Architecture.classCount)
    }

    /// The contiguous parts of `n` slices at scale `s`: `[floor(i n / s), floor((i+1) n / s))`.
    public static func parts(count n: Int, scale s: Int) -> [Range<Int>] {
        (0..<s).map { i in (i * n / s)..<((i + 1) * n / s) }
    }

    /// Patient probabilities from the window-averaged slice features `X [N, D]` in slice order.
    /// Requires `N >= max(scales)`.
    public func probabilities(features x: [Float], count n: Int) -> [Float] {
        let D = config.featureDim
        precondition(x.count == n * D && n >= config.scales.max()!)
        var fused: [Float] = []
        for s in config.scales {
            for part in Self.parts(count: n, scale: s) {
                let slice = Array(x[(part.lowerBound * D)..<(part.upperBound * D)])
                fused += aggregate(refine(slice, rows: part.count), rows: part.count)
            }
        }
        var u = fuse(fused, rows: 1)
        for i in u.indices { u[i] = max(u[i], 0) }
        var logits = classifier(u, rows: 1)
        logits.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, count: $0.count) }
        return logits
    }

    /// The refinement layers: `X <- X + o(concat_h softmax(Q_h K_h^T / sqrt(d/h)) V_h)`.
    func refine(_ input: [Float], rows n: Int) -> [Float] {
        var x = input
        let d = config.reducedDim, h = config.heads, dh = d / h
        let scale = 1 / Float(dh).squareRoot()
        for layer in refinements {
            let q = layer.q(x, rows: n), k = layer.k(x, rows: n), v = layer.v(x, rows: n)
            var attended = [Float](repeating: 0, count: n * d)
            var scores = [Float](repeating: 0, count: n * n)
            for head in 0..<h {
                let off = head * dh
                q.withUnsafeBufferPointer { qp in
                    k.withUnsafeBufferPointer { kp in
                        scores.withUnsafeMutableBufferPointer { sp in
                            sgemm(m: n, n: n, k: dh, a: qp.baseAddress! + off, lda: d, b: kp.baseAddress! + off, ldb: d,
                                  transB: true, c: sp.baseAddress!, ldc: n)
                        }
                    }
                }
                scores.withUnsafeMutableBufferPointer { sp in
                    for r in 0..<n {
                        let row = sp.baseAddress! + r * n
                        for j in 0..<n { row[j] *= scale }
                        softmaxInPlace(row, count: n)
                    }
                }
                scores.withUnsafeBufferPointer { sp in
                    v.withUnsafeBufferPointer { vp in
                        attended.withUnsafeMutableBufferPointer { ap in
                            sgemm(m: n, n: dh, k: n, a: sp.baseAddress!, lda: n, b: vp.baseAddress! + off, ldb: d,
                                  c: ap.baseAddress! + off, ldc: d)
                        }
                    }
                }
            }
            let o = layer.o(attended, rows: n)
            for i in x.indices { x[i] += o[i] }
        }
        return x
    }

    /// Aggregation: `z = softmax(query K^T / sqrt(d)) V` over the part's slices.
    func aggregate(_ x: [Float], rows n: Int) -> [Float] {
        let d = config.reducedDim
        let k = aggregateK(x, rows: n), v = aggregateV(x, rows: n)
        let scale = 1 / Float(d).squareRoot()
        var a = [Float](repeating: 0, count: n)
        for r in 0..<n {
            var acc: Float = 0
            for j in 0..<d { acc += query[j] * k[r * d + j] }
            a[r] = acc * scale
        }
        a.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, count: n) }
        var z = [Float](repeating: 0, count: d)
        for r in 0..<n {
            for j in 0..<d { z[j] += a[r] * v[r * d + j] }
        }
        return z
    }
}
