import ArgumentParser
import Foundation
import Model

/// `mlung-audit model-run`: the engine on one preprocessed volume, for parity checks.
struct ModelRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-run",
        abstract: "Run MLung-Sys on one preprocessed volume (safetensors in, safetensors out).",
        discussion: """
        IN holds one tensor `hu` [N, S, S] float32: slices already cropped and resized to the
        model's input size, in HU. OUT receives exactly these float32 tensors: lesion_probs [N,2],
        class_probs [N,4], slice_probs [N,4], slice_features [N,D], lesion_maps [N,H3,W3],
        patient_probs [4], patient_nonparam_probs [4].
        """
    )

    @Option(help: "The MLung-Sys weight file (.safetensors).")
    var weights: String

    @Option(help: "Input safetensors file with the tensor `hu` [N, S, S].")
    var input: String

    @Option(help: "Output safetensors file (written atomically).")
    var output: String

    @Option(help: "CPU threads.")
    var threads: Int = 2

    @Option(help: "Slices per forward pass.")
    var batch: Int = 8

    func run() throws {
        try CLIError.reporting {
            let engine = try MLungSys(contentsOf: URL(fileURLWithPath: weights))
            let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: input))
            guard let entry = file.entries["hu"] else {
                throw ModelError.invalidInput(path: input, reason: "no tensor named 'hu'")
            }
            guard entry.shape.count == 3 else {
                throw ModelError.invalidInput(path: input, reason: "'hu' has rank \(entry.shape.count) (shape \(entry.shape)); expected [N, S, S]")
            }
            guard entry.dtype == "F32" else {
                throw ModelError.invalidInput(path: input, reason: "'hu' is \(entry.dtype); expected F32")
            }
            let n = entry.shape[0]
            try engine.validate(count: n, height: entry.shape[1], width: entry.shape[2], path: input)
            let hu = try file.floats("hu")
            if let bad = hu.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.invalidInput(path: input, reason: "'hu' holds a non-finite value at flat index \(bad)")
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let slices = hu.withUnsafeBufferPointer {
                engine.runSlices(hu: $0, count: n, options: EngineOptions(threads: threads, batch: batch))
            }
            let patient = engine.runPatient(slices, threads: threads)
            var w = SafeTensorsWriter()
            w.metadata = ["model_sha256": engine.weights.fileSHA256]
            w.add("lesion_probs", shape: [n, 2], .f32(slices.lesionProbs))
            w.add("class_probs", shape: [n, 4], .f32(slices.classProbs))
            w.add("slice_probs", shape: [n, 4], .f32(slices.sliceProbs))
            w.add("slice_features", shape: [n, slices.featureDim], .f32(slices.features))
            w.add("lesion_maps", shape: [n, slices.mapSize, slices.mapSize], .f32(slices.lesionMaps))
            w.add("patient_probs", shape: [4], .f32(patient.probabilities))
            w.add("patient_nonparam_probs", shape: [4], .f32(patient.nonParametricScores))
            try w.write(to: URL(fileURLWithPath: output))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            print(summary(engine: engine, slices: slices, patient: patient, seconds: seconds))
        }
    }
}

extension ModelRunCommand {
    /// A short human summary on stdout; the tensors are in the output file.
    func summary(engine: MLungSys, slices: SliceResults, patient: PatientResult, seconds: Double) -> String {
        let w = engine.weights
        let classes = w.classes
        func probs(_ p: [Float]) -> String {
            zip(classes, p).map { "\($0) \(String(format: "%.4f", $1))" }.joined(separator: "  ")
        }
        var counts = [Int](repeating: 0, count: 4)
        for p in slices.slicePredictions { counts[p] += 1 }
        return """
        model      \(w.modelName) \(w.modelVersion) (sha256 \(w.fileSHA256.prefix(12))...)
        slices     \(slices.count) in \(String(format: "%.2f", seconds)) s; predicted per slice: \(zip(classes, counts).map { "\($0) \($1)" }.joined(separator: ", "))
        learned    \(classes[patient.prediction])  (\(probs(patient.probabilities)))
        non-param  \(classes[patient.nonParametricPrediction])  (\(probs(patient.nonParametricScores)))
        wrote      \(output)
        """
    }
}
