import Foundation

/// Settings of the inference engine.
public struct EngineOptions: Sendable {
    /// CPU threads used in all (OpenBLAS and the engine's own loops).
    public var threads: Int
    /// Slices per forward pass; each slice is run once per window centre.
    public var batch: Int

    public init(threads: Int = 2, batch: Int = 8) {
        self.threads = max(1, threads)
        self.batch = max(1, batch)
    }
}

/// The window-averaged outputs of the slice network for a volume of `count` slices.
public struct SliceResults: Sendable {
    public var count: Int
    public var featureDim: Int
    public var mapSize: Int
    /// `[N, 2]` mean over windows of softmax(lesion logits).
    public var lesionProbs: [Float]
    /// `[N, 4]` mean over windows of softmax(class logits).
    public var classProbs: [Float]
    /// `[N, 4]` the per-slice four-class probabilities `q`.
    public var sliceProbs: [Float]
    /// `[N]` argmax of `q` (ties: lowest index).
    public var slicePredictions: [Int]
    /// `[N, D]` mean over windows of the slice features.
    public var features: [Float]
    /// `[N, H3, W3]` mean over windows of the lesion maps.
    public var lesionMaps: [Float]

    public init(count: Int, featureDim: Int, mapSize: Int, lesionProbs: [Float], classProbs: [Float], sliceProbs: [Float],
                slicePredictions: [Int], features: [Float], lesionMaps: [Float]) {
        self.count = count
        self.featureDim = featureDim
        self.mapSize = mapSize
        self.lesionProbs = lesionProbs
        self.classProbs = classProbs
        self.sliceProbs = sliceProbs
        self.slicePredictions = slicePredictions
        self.features = features
        self.lesionMaps = lesionMaps
    }
}

/// The patient-level outputs.
public struct PatientResult: Sendable, Equatable {
    /// softmax of the patient network's logits.
    public var probabilities: [Float]
    public var prediction: Int
    /// Non-parametric scores `s0..s3`.
    public var nonParametricScores: [Float]
    public var nonParametricPrediction: Int
}

/// MLung-Sys inference: both networks and the non-parametric assessment, loaded from one
/// weight file, with BatchNorm folded at load.
public final class MLungSys: @unchecked Sendable {
    public let weights: WeightFile
    public let sliceNetwork: SliceNetwork
    public let patientNetwork: PatientNetwork
    public var config: ModelConfig { weights.config }

    /// Builds both networks; `weights` keeps the file's identity and metadata, not its tensors.
    public init(weights: WeightFile) {
        sliceNetwork = SliceNetwork(weights)
        patientNetwork = PatientNetwork(weights)
        self.weights = weights.withoutTensors()
    }

    public convenience init(contentsOf url: URL) throws {
        self.init(weights: try WeightFile(contentsOf: url))
    }

    /// Checks an input volume `hu [N, S, S]` before any work; `path` names it in errors.
    public func validate(count n: Int, height: Int, width: Int, path: String) throws {
        let s = config.inputSize
        guard height == s, width == s else {
            throw ModelError.invalidInput(path: path, reason: "slices are \(height)x\(width), the model takes \(s)x\(s)")
        }
        let need = config.scales.max()!
        guard n >= need else {
            throw ModelError.invalidInput(path: path, reason: "series has \(n) slices; the patient network needs at least \(need) (max of scales)")
        }
    }

    /// Runs the slice network on every slice of `hu [N, S, S]` (cropped, resized, in HU), in
    /// batches, once per window centre, and averages over the windows.
    public func runSlices(hu: UnsafeBufferPointer<Float>, count n: Int, options: EngineOptions = EngineOptions(),
                          progress: ((Int) -> Void)? = nil) -> SliceResults {
        let s = config.inputSize, pixels = s * s
        precondition(hu.count == n * pixels)
        let windows = config.windowCenters
        let nw = windows.count
        let D = config.featureDim
        let h3 = config.layer3Size, mapPixels = h3 * h3
        let perPass = min(options.batch, max(n, 1))
        let imagesPerPass = perPass * nw
        let workers = min(options.threads, imagesPerPass)
        let workspaces = (0..<workers).map { k in
            sliceNetwork.makeWorkspace(capacity: (k + 1) * imagesPerPass / workers - k * imagesPerPass / workers)
        }
        var out = SliceResults(
            count: n, featureDim: D, mapSize: h3,
            lesionProbs: [Float](repeating: 0, count: n * 2), classProbs: [Float](repeating: 0, count: n * 4),
            sliceProbs: [Float](repeating: 0, count: n * 4), slicePredictions: [Int](repeating: 0, count: n),
            features: [Float](repeating: 0, count: n * D), lesionMaps: [Float](repeating: 0, count: n * mapPixels))
        let invW = 1 / Float(nw)
        let width = config.windowWidth
        let base = hu.baseAddress!
        var s0 = 0
        while s0 < n {
            let s1 = min(n, s0 + perPass)
            let images = (s1 - s0) * nw
            // Image k of the pass is slice s0 + k / nw under window k % nw.
            var r = sliceNetwork.run(images: images, workspaces: workspaces, threads: options.threads) { _, range, ws in
                for k in range {
                    Windowing.normalise(hu: base + (s0 + k / nw) * pixels, pixels: pixels, center: windows[k % nw], width: width,
                                        into: ws.inputPointer, image: k - range.lowerBound, batch: range.count)
                }
            }
            for i in s0..<s1 {
                for w in 0..<nw {
                    let img = (i - s0) * nw + w
                    r.lesionLogits.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress! + img * 2, count: 2) }
                    r.classLogits.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress! + img * 4, count: 4) }
                    for j in 0..<2 { out.lesionProbs[i * 2 + j] += r.lesionLogits[img * 2 + j] }
                    for j in 0..<4 { out.classProbs[i * 4 + j] += r.classLogits[img * 4 + j] }
                    for j in 0..<D { out.features[i * D + j] += r.features[img * D + j] }
                    for j in 0..<mapPixels { out.lesionMaps[i * mapPixels + j] += r.lesionMaps[img * mapPixels + j] }
                }
                for j in 0..<2 { out.lesionProbs[i * 2 + j] *= invW }
                for j in 0..<4 { out.classProbs[i * 4 + j] *= invW }
                for j in 0..<D { out.features[i * D + j] *= invW }
                for j in 0..<mapPixels { out.lesionMaps[i * mapPixels + j] *= invW }
                let q = SliceAssessment.fourClass(lesion: out.lesionProbs[(i * 2)..<(i * 2 + 2)],
                                                  classes: out.classProbs[(i * 4)..<(i * 4 + 4)])
                for j in 0..<4 { out.sliceProbs[i * 4 + j] = q[j] }
                out.slicePredictions[i] = SliceAssessment.argmax(q)
            }
            s0 = s1
            progress?(s1)
        }
        return out
    }

    /// The patient network and the non-parametric assessment on a volume's slice results.
    public func runPatient(_ slices: SliceResults, threads: Int = 2) -> PatientResult {
        BLASThreads.set(threads)
        defer { BLASThreads.set(1) }
        let probs = patientNetwork.probabilities(features: slices.features, count: slices.count)
        let np = SliceAssessment.nonParametric(sliceProbs: slices.sliceProbs, count: slices.count, tau: config.nonparamTau)
        return PatientResult(probabilities: probs, prediction: SliceAssessment.argmax(probs),
                             nonParametricScores: np.scores, nonParametricPrediction: np.prediction)
    }
}
