import Foundation
import XCTest
@testable import Model

/// Kernels against each other: Winograd F(4x4, 3x3) against the direct im2col + GEMM form.
final class KernelTests: XCTestCase {
    func makeConv(cin: Int, cout: Int, seed: UInt64) -> FoldedConv {
        var rng = SplitMix64(seed: seed)
        let w = (0..<(cout * cin * 9)).map { _ in rng.normal() * 0.2 }
        let gamma = (0..<cout).map { _ in 0.5 + rng.uniform() }
        let beta = (0..<cout).map { _ in 0.1 * rng.normal() }
        let mean = (0..<cout).map { _ in 0.1 * rng.normal() }
        let variance = (0..<cout).map { _ in 0.5 + rng.uniform() }
        return FoldedConv(weight: w, gamma: gamma, beta: beta, mean: mean, variance: variance,
                          inChannels: cin, outChannels: cout, kernel: 3, stride: 1, padding: 1)
    }

    func testWinogradMatchesDirectConvolution() {
        // Sizes that tile exactly, leave partial tiles, and are smaller than one tile.
        for (cin, cout, batch, h, w) in [(8, 16, 2, 8, 8), (5, 7, 3, 13, 9), (16, 4, 1, 3, 5), (4, 4, 2, 1, 1), (32, 32, 2, 14, 14)] {
            let conv = makeConv(cin: cin, cout: cout, seed: UInt64(cin * 100 + h))
            let wino = WinogradConv(conv)
            var rng = SplitMix64(seed: 99)
            let n = cin * batch * h * w
            let m = cout * batch * h * w
            let x = (0..<n).map { _ in rng.normal() }
            let residual = (0..<m).map { _ in rng.normal() }
            let scratchCount = batch * max(conv.columnsPerImage(h: h, w: w), wino.scratchPerImage(h: h, w: w))
            let scratch = FloatBuffer(count: scratchCount)
            for (useResidual, relu) in [(false, false), (true, true), (false, true)] {
                var direct = [Float](repeating: .nan, count: m)
                var fast = [Float](repeating: .nan, count: m)
                x.withUnsafeBufferPointer { xp in
                    residual.withUnsafeBufferPointer { rp in
                        let res = useResidual ? rp.baseAddress! : nil
                        direct.withUnsafeMutableBufferPointer { dp in
                            conv.forward(xp.baseAddress!, batch: batch, h: h, w: w, into: dp.baseAddress!, residual: res, relu: relu,
                                         scratch: scratch.pointer, scratchCount: scratchCount, threads: 1)
                        }
                        fast.withUnsafeMutableBufferPointer { fp in
                            // Both threads counts, and a scratch that forces one image per chunk.
                            wino.forward(xp.baseAddress!, batch: batch, h: h, w: w, into: fp.baseAddress!, residual: res, relu: relu,
                                         scratch: scratch.pointer, scratchCount: wino.scratchPerImage(h: h, w: w), threads: 2)
                        }
                    }
                }
                let scale = max(1, maxAbs(direct))
                XCTAssertLessThan(maxAbsDiff(direct, fast) / scale, 2e-5,
                                  "cin \(cin) cout \(cout) batch \(batch) \(h)x\(w) residual \(useResidual) relu \(relu)")
            }
        }
    }

    /// The whole network with and without Winograd, on a batch large enough to use it everywhere.
    func testNetworkWithWinogradMatchesDirect() throws {
        var c = ModelConfig()
        c.inputSize = 64
        c.stemWidth = 8
        c.stageWidths = [8, 8, 16, 16]
        c.stageBlocks = [1, 2, 1, 1]
        c.reducedDim = 16
        c.heads = 2
        let file = try WeightFile.synthetic(config: c, seed: 3)
        let fast = SliceNetwork(file, winograd: true)
        let direct = SliceNetwork(file, winograd: false)
        let images = 64   // layer4 is 2x2: one tile per image, 64 tiles in one call
        let a = fast.makeWorkspace(capacity: images), b = direct.makeWorkspace(capacity: images)
        var rng = SplitMix64(seed: 5)
        for i in 0..<(3 * images * 64 * 64) {
            let v = rng.normal()
            a.inputPointer[i] = v
            b.inputPointer[i] = v
        }
        let ra = fast.forward(batch: images, workspace: a, threads: 2)
        let rb = direct.forward(batch: images, workspace: b, threads: 1)
        XCTAssertLessThan(maxAbsDiff(ra.features, rb.features) / maxAbs(rb.features), 1e-5)
        XCTAssertLessThan(maxAbsDiff(ra.classLogits, rb.classLogits), 1e-4)
        XCTAssertLessThan(maxAbsDiff(ra.lesionMaps, rb.lesionMaps), 1e-5)
    }
}
