import Foundation

/// The slice-level network of spec section 2: a ResNet-50 backbone with configurable widths,
/// a lesion head on layer3's pooled features, the cosine attention map, coordinate maps, and
/// layer4 + class head on the `C3 + 4` channel concatenation.
public final class SliceNetwork: @unchecked Sendable {
    /// One bottleneck block with BatchNorm folded into its convolutions.
    struct Bottleneck {
        let conv1: FoldedConv
        let conv2: FoldedConv
        let conv3: FoldedConv
        let downsample: FoldedConv?
    }

    /// Raw outputs of one forward pass over `B` normalised images, image-major.
    public struct Output {
        /// `[B, 2]` lesion logits (0 = no lesion, 1 = lesion).
        public var lesionLogits: [Float]
        /// `[B, 4]` class logits.
        public var classLogits: [Float]
        /// `[B, D]` slice features `concat[g3, g4]`.
        public var features: [Float]
        /// `[B, H3*W3]` lesion maps from the lesion prototype.
        public var lesionMaps: [Float]
    }

    public let config: ModelConfig
    let stem: FoldedConv
    let stages: [[Bottleneck]]
    let lesionWeight: [Float]   // [2, C3]
    let lesionBias: [Float]     // [2]
    let classWeight: [Float]    // [4, C4]
    let classBias: [Float]      // [4]
    let lesionWeightNorms: [Float]

    /// `winograd`: run 3x3 stride-1 convolutions as Winograd F(4x4, 3x3) (default); `false`
    /// keeps every convolution as im2col + GEMM (the direct form).
    public init(_ file: WeightFile, winograd: Bool = true) {
        let c = file.config
        config = c
        func conv(_ prefix: String, bn: String, cin: Int, cout: Int, k: Int, stride: Int) -> FoldedConv {
            FoldedConv(weight: file.tensor("\(prefix).weight"),
                       gamma: file.tensor("\(bn).weight"), beta: file.tensor("\(bn).bias"),
                       mean: file.tensor("\(bn).running_mean"), variance: file.tensor("\(bn).running_var"),
                       inChannels: cin, outChannels: cout, kernel: k, stride: stride, padding: k / 2)
        }
        stem = conv("backbone.conv1", bn: "backbone.bn1", cin: 3, cout: c.stemWidth, k: 7, stride: 2)
        stages = Architecture.blocks(c).map { stage in
            stage.map { b in
                Bottleneck(
                    conv1: conv("\(b.prefix).conv1", bn: "\(b.prefix).bn1", cin: b.inChannels, cout: b.width, k: 1, stride: 1),
                    conv2: conv("\(b.prefix).conv2", bn: "\(b.prefix).bn2", cin: b.width, cout: b.width, k: 3, stride: b.stride),
                    conv3: conv("\(b.prefix).conv3", bn: "\(b.prefix).bn3", cin: b.width, cout: b.outChannels, k: 1, stride: 1),
                    downsample: b.hasDownsample
                        ? conv("\(b.prefix).downsample.0", bn: "\(b.prefix).downsample.1", cin: b.inChannels, cout: b.outChannels, k: 1, stride: b.stride)
                        : nil)
            }
        }
        if winograd {
            for stage in stages { for b in stage { b.conv2.enableWinograd() } }
        }
        let lw = file.tensor("lesion_head.weight")
        lesionWeight = lw
        lesionBias = file.tensor("lesion_head.bias")
        classWeight = file.tensor("class_head.weight")
        classBias = file.tensor("class_head.bias")
        let c3 = c.c3
        lesionWeightNorms = (0..<2).map { j in
            var s: Float = 0
            for i in 0..<c3 { s += lw[j * c3 + i] * lw[j * c3 + i] }
            return s.squareRoot()
        }
    }

    /// Activation and scratch sizes (floats per image) that a forward pass needs.
    struct Plan {
        var main = 0        // block inputs/outputs, stem output, pool output
        var t1 = 0          // conv1 outputs
        var t2 = 0          // conv2 outputs
        var shortcut = 0    // downsample outputs
        var concat = 0      // layer4 input [C3 + 4, H3, W3]
        var columns = 0     // im2col of the largest convolution
        var h3 = 0
        var h4 = 0
    }

    func plan() -> Plan {
        var p = Plan()
        var s = config.inputSize
        p.columns = stem.columnsPerImage(h: s, w: s)
        s = stem.outputSize(s)
        p.main = config.stemWidth * s * s
        s = (s - 1) / 2 + 1
        for (i, stage) in stages.enumerated() {
            if i == 3 {
                p.h3 = s
                p.concat = (config.c3 + 4) * s * s
            }
            for b in stage {
                p.main = max(p.main, b.conv1.inChannels * s * s)
                p.t1 = max(p.t1, b.conv1.outChannels * s * s)
                p.columns = max(p.columns, b.conv2.columnsPerImage(h: s, w: s))
                if let d = b.downsample { p.columns = max(p.columns, d.columnsPerImage(h: s, w: s)) }
                let o = b.conv2.outputSize(s)
                p.t2 = max(p.t2, b.conv2.outChannels * o * o)
                p.shortcut = max(p.shortcut, b.conv3.outChannels * o * o)
                p.main = max(p.main, b.conv3.outChannels * o * o)
                s = o
            }
        }
        p.h4 = s
        return p
    }

    /// Reusable buffers for forward passes of up to `capacity` images.
    public final class Workspace: @unchecked Sendable {
        public let capacity: Int
        let input: FloatBuffer
        let a: FloatBuffer, b: FloatBuffer
        let t1: FloatBuffer, t2: FloatBuffer, shortcut: FloatBuffer
        let concat: FloatBuffer
        let columns: FloatBuffer
        let plan: Plan

        init(network: SliceNetwork, capacity: Int, maxColumnFloats: Int = 16 << 20) {
            self.capacity = capacity
            let p = network.plan()
            plan = p
            let s = network.config.inputSize
            input = FloatBuffer(count: 3 * capacity * s * s)
            a = FloatBuffer(count: capacity * p.main)
            b = FloatBuffer(count: capacity * p.main)
            t1 = FloatBuffer(count: capacity * p.t1)
            t2 = FloatBuffer(count: capacity * p.t2)
            shortcut = FloatBuffer(count: capacity * p.shortcut)
            concat = FloatBuffer(count: capacity * p.concat)
            columns = FloatBuffer(count: max(p.columns, min(capacity * p.columns, maxColumnFloats)))
        }

        /// The normalised input `[3, B, S, S]` (CNHW) of the next forward pass.
        public var inputPointer: UnsafeMutablePointer<Float> { input.pointer }
    }

    public func makeWorkspace(capacity: Int) -> Workspace { Workspace(network: self, capacity: capacity) }

    /// Runs the network on `images` normalised images, split across `workspaces.count` workers
    /// (at most `threads`, at most one per image): each worker runs its contiguous share
    /// single-threaded, which keeps both cores busy without hand-offs. With one worker (one
    /// image), each GEMM and loop is split across `threads` threads. OpenBLAS itself always
    /// runs single-threaded, so its idle workers never spin against the engine's. `fill(worker, imageRange, workspace)` writes the
    /// share's input (`[3, n, S, S]`) into the workspace. Outputs are merged in image order.
    public func run(images: Int, workspaces: [Workspace], threads: Int,
                    fill: (Int, Range<Int>, Workspace) -> Void) -> Output {
        let workers = min(workspaces.count, images, max(1, threads))
        // OpenBLAS stays single-threaded: the engine runs its own threads (workers, or split GEMMs).
        BLASThreads.set(1)
        if workers <= 1 {
            fill(0, 0..<images, workspaces[0])
            return forward(batch: images, workspace: workspaces[0], threads: threads)
        }
        // One slot per worker, each written by its worker only.
        let outputs = UnsafeMutableBufferPointer<Output?>.allocate(capacity: workers)
        outputs.initialize(repeating: nil)
        defer {
            outputs.deinitialize()
            outputs.deallocate()
        }
        withoutActuallyEscaping(fill) { fill in
            nonisolated(unsafe) let fill = fill
            nonisolated(unsafe) let slots = outputs
            DispatchQueue.concurrentPerform(iterations: workers) { k in
                let range = (k * images / workers)..<((k + 1) * images / workers)
                fill(k, range, workspaces[k])
                slots[k] = forward(batch: range.count, workspace: workspaces[k], threads: 1)
            }
        }
        var merged = Output(lesionLogits: [], classLogits: [], features: [], lesionMaps: [])
        for case let o? in outputs {
            merged.lesionLogits += o.lesionLogits
            merged.classLogits += o.classLogits
            merged.features += o.features
            merged.lesionMaps += o.lesionMaps
        }
        return merged
    }

    /// Runs the network on the `batch` normalised images in `ws.input` (`[3, B, S, S]`).
    public func forward(batch: Int, workspace ws: Workspace, threads: Int) -> Output {
        precondition(batch >= 1 && batch <= ws.capacity)
        let cols = ws.columns.pointer, colCount = ws.columns.count
        var s = config.inputSize
        // Stem: conv1 + bn1 + relu, then max pool.
        stem.forward(ws.input.pointer, batch: batch, h: s, w: s, into: ws.b.pointer, residual: nil, relu: true,
                     scratch: cols, scratchCount: colCount, threads: threads)
        s = stem.outputSize(s)
        Profiler.measure("maxpool") {
            maxPool3x3s2(ws.b.pointer, planes: config.stemWidth * batch, h: s, w: s, into: ws.a.pointer, threads: threads)
        }
        s = (s - 1) / 2 + 1

        var x = ws.a.pointer, spare = ws.b.pointer
        var layer3 = Layer3Result()
        for (i, stage) in stages.enumerated() {
            if i == 3 {
                layer3 = Profiler.measure("lesion head+attention") {
                    attentionAndCoordinates(f3: x, batch: batch, size: s, workspace: ws)
                }
            }
            for (j, block) in stage.enumerated() {
                let isLastOfLayer3 = i == 2 && j == stage.count - 1
                let out = isLastOfLayer3 ? ws.concat.pointer : spare
                s = bottleneck(block, x: x, batch: batch, size: s, into: out, workspace: ws, threads: threads)
                if isLastOfLayer3 {
                    spare = x
                    x = ws.concat.pointer
                } else {
                    swap(&x, &spare)
                }
            }
        }
        return Profiler.measure("class head") { heads(f4: x, layer3: layer3, batch: batch, workspace: ws) }
    }

    /// What the lesion head computes from layer3, image-major.
    private struct Layer3Result {
        var g3: [Float] = []
        var lesionLogits: [Float] = []
        var lesionMaps: [Float] = []
    }

    /// One bottleneck: `relu(conv3(relu(conv2(relu(conv1(x))))) + shortcut(x))`. Returns the output size.
    private func bottleneck(_ b: Bottleneck, x: UnsafeMutablePointer<Float>, batch: Int, size s: Int,
                            into out: UnsafeMutablePointer<Float>, workspace ws: Workspace, threads: Int) -> Int {
        let cols = ws.columns.pointer, colCount = ws.columns.count
        b.conv1.forward(x, batch: batch, h: s, w: s, into: ws.t1.pointer, residual: nil, relu: true,
                        scratch: cols, scratchCount: colCount, threads: threads)
        b.conv2.forward(ws.t1.pointer, batch: batch, h: s, w: s, into: ws.t2.pointer, residual: nil, relu: true,
                        scratch: cols, scratchCount: colCount, threads: threads)
        let o = b.conv2.outputSize(s)
        var shortcut = UnsafePointer(x)
        if let d = b.downsample {
            d.forward(x, batch: batch, h: s, w: s, into: ws.shortcut.pointer, residual: nil, relu: false,
                      scratch: cols, scratchCount: colCount, threads: threads)
            shortcut = UnsafePointer(ws.shortcut.pointer)
        }
        b.conv3.forward(ws.t2.pointer, batch: batch, h: o, w: o, into: out, residual: shortcut, relu: true,
                        scratch: cols, scratchCount: colCount, threads: threads)
        return o
    }

    /// Pools `F3` (rows `0..<C3` of the concat buffer), runs the lesion head, and fills rows
    /// `C3..<C3+4` with the attention map `A` and the coordinate maps `X, Y, R`.
    private func attentionAndCoordinates(f3: UnsafeMutablePointer<Float>, batch: Int, size s: Int,
                                         workspace ws: Workspace) -> Layer3Result {
        let c3 = config.c3
        let plane = s * s
        let columns = batch * plane
        precondition(f3 == ws.concat.pointer)
        var g3 = [Float](repeating: 0, count: batch * c3)
        globalAveragePool(f3, channels: c3, batch: batch, plane: plane, into: &g3)
        var logits = [Float](repeating: 0, count: batch * 2)
        for b in 0..<batch {
            for j in 0..<2 {
                var acc: Float = 0
                for i in 0..<c3 { acc += lesionWeight[j * c3 + i] * g3[b * c3 + i] }
                logits[b * 2 + j] = acc + lesionBias[j]
            }
        }
        // Dot products of both prototypes with every position, and the positions' norms.
        var dots = [Float](repeating: 0, count: 2 * columns)
        lesionWeight.withUnsafeBufferPointer { w in
            sgemm(m: 2, n: columns, k: c3, a: w.baseAddress!, lda: c3, b: f3, ldb: columns, c: &dots, ldc: columns)
        }
        var norms = [Float](repeating: 0, count: columns)
        for c in 0..<c3 {
            let row = f3 + c * columns
            for j in 0..<columns { norms[j] += row[j] * row[j] }
        }
        var maps = [Float](repeating: 0, count: columns)
        let aRow = f3 + c3 * columns
        for b in 0..<batch {
            let chat = logits[b * 2 + 1] > logits[b * 2] ? 1 : 0
            for p in 0..<plane {
                let j = b * plane + p
                let n = norms[j].squareRoot()
                aRow[j] = (dots[chat * columns + j] / max(lesionWeightNorms[chat] * n, 1e-8) + 1) / 2
                maps[j] = (dots[columns + j] / max(lesionWeightNorms[1] * n, 1e-8) + 1) / 2
            }
        }
        let xRow = aRow + columns, yRow = xRow + columns, rRow = yRow + columns
        let denominator = Float(s - 1)
        for b in 0..<batch {
            for i in 0..<s {
                for j in 0..<s {
                    let X = -1 + 2 * Float(j) / denominator
                    let Y = -1 + 2 * Float(i) / denominator
                    let k = b * plane + i * s + j
                    xRow[k] = X
                    yRow[k] = Y
                    rRow[k] = (X * X + Y * Y).squareRoot() / Float(2).squareRoot()
                }
            }
        }
        return Layer3Result(g3: g3, lesionLogits: logits, lesionMaps: maps)
    }

    private func heads(f4: UnsafeMutablePointer<Float>, layer3 l3: Layer3Result, batch: Int, workspace ws: Workspace) -> Output {
        let c3 = config.c3, c4 = config.c4
        let plane = ws.plan.h4 * ws.plan.h4
        var g4 = [Float](repeating: 0, count: batch * c4)
        globalAveragePool(f4, channels: c4, batch: batch, plane: plane, into: &g4)
        var logits = [Float](repeating: 0, count: batch * 4)
        for b in 0..<batch {
            for j in 0..<4 {
                var acc: Float = 0
                for i in 0..<c4 { acc += classWeight[j * c4 + i] * g4[b * c4 + i] }
                logits[b * 4 + j] = acc + classBias[j]
            }
        }
        let d = c3 + c4
        var features = [Float](repeating: 0, count: batch * d)
        for b in 0..<batch {
            for i in 0..<c3 { features[b * d + i] = l3.g3[b * c3 + i] }
            for i in 0..<c4 { features[b * d + c3 + i] = g4[b * c4 + i] }
        }
        return Output(lesionLogits: l3.lesionLogits, classLogits: logits, features: features, lesionMaps: l3.lesionMaps)
    }
}
