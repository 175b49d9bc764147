/// The tensor names and shapes that an MLung-Sys configuration implies (spec sections 2, 3, 5).
public enum Architecture {
    /// Stride of each stage's first block.
    public static let stageStrides = [1, 2, 2, 2]
    /// Four classes: healthy, COVID-19, H1N1, CAP.
    public static let classCount = 4

    /// One bottleneck block's geometry.
    public struct Block: Sendable {
        public var prefix: String
        public var inChannels: Int
        public var width: Int
        public var outChannels: Int
        public var stride: Int
        public var hasDownsample: Bool
    }

    /// The bottleneck blocks of stages 1-4 in order; layer4's first block takes `C3 + 4` channels.
    public static func blocks(_ c: ModelConfig) -> [[Block]] {
        var stages: [[Block]] = []
        var inChannels = c.stemWidth
        for stage in 0..<4 {
            if stage == 3 { inChannels += 4 }
            let width = c.stageWidths[stage]
            let out = c.expansion * width
            var blocks: [Block] = []
            for b in 0..<c.stageBlocks[stage] {
                let stride = b == 0 ? stageStrides[stage] : 1
                blocks.append(Block(
                    prefix: "backbone.layer\(stage + 1).\(b)", inChannels: inChannels, width: width,
                    outChannels: out, stride: stride, hasDownsample: b == 0 && (stride != 1 || inChannels != out)))
                inChannels = out
            }
            stages.append(blocks)
        }
        return stages
    }

    /// Every tensor name with its shape, in the order the network uses them.
    public static func expectedShapes(_ c: ModelConfig) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        func bn(_ p: String, _ n: Int) {
            for s in ["weight", "bias", "running_mean", "running_var"] { out.append(("\(p).\(s)", [n])) }
        }
        out.append(("backbone.conv1.weight", [c.stemWidth, 3, 7, 7]))
        bn("backbone.bn1", c.stemWidth)
        for stage in blocks(c) {
            for b in stage {
                out.append(("\(b.prefix).conv1.weight", [b.width, b.inChannels, 1, 1]))
                bn("\(b.prefix).bn1", b.width)
                out.append(("\(b.prefix).conv2.weight", [b.width, b.width, 3, 3]))
                bn("\(b.prefix).bn2", b.width)
                out.append(("\(b.prefix).conv3.weight", [b.outChannels, b.width, 1, 1]))
                bn("\(b.prefix).bn3", b.outChannels)
                if b.hasDownsample {
                    out.append(("\(b.prefix).downsample.0.weight", [b.outChannels, b.inChannels, 1, 1]))
                    bn("\(b.prefix).downsample.1", b.outChannels)
                }
            }
        }
        out.append(("lesion_head.weight", [2, c.c3]))
        out.append(("lesion_head.bias", [2]))
        out.append(("class_head.weight", [classCount, c.c4]))
        out.append(("class_head.bias", [classCount]))
        let d = c.reducedDim, D = c.featureDim
        for l in 0..<c.refineLayers {
            for p in ["q", "k", "v"] {
                out.append(("patient.refine.\(l).\(p).weight", [d, D]))
                out.append(("patient.refine.\(l).\(p).bias", [d]))
            }
            out.append(("patient.refine.\(l).o.weight", [D, d]))
            out.append(("patient.refine.\(l).o.bias", [D]))
        }
        out.append(("patient.aggregate.query", [1, d]))
        for p in ["k", "v"] {
            out.append(("patient.aggregate.\(p).weight", [d, D]))
            out.append(("patient.aggregate.\(p).bias", [d]))
        }
        out.append(("patient.fuse.weight", [d, d * c.scales.reduce(0, +)]))
        out.append(("patient.fuse.bias", [d]))
        out.append(("patient.classifier.weight", [classCount, d]))
        out.append(("patient.classifier.bias", [classCount]))
        return out
    }
}
