import ArgumentParser
import Foundation
import Model

/// `mlung-audit bench`: times the slice network's forward pass (one window) and prints one
/// JSON line per batch size. The peer comparison lives in tools/bench_engine.sh.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the slice network (ms per slice) on random or given weights.")

    @Option(help: "Weight file; default: random weights of the full-size default configuration.")
    var weights: String?

    @Option(help: "CPU threads.")
    var threads: Int = 2

    @Option(parsing: .upToNextOption, help: "Batch sizes (images per forward pass).")
    var batch: [Int] = [1, 32]

    @Option(help: "Timed repetitions per batch size (the median is printed).")
    var repeats: Int = 5

    @Option(help: "Images to run per repetition, at least the batch size.")
    var images: Int = 32

    func run() throws {
        try CLIError.reporting {
            let file = try weights.map { try WeightFile(contentsOf: URL(fileURLWithPath: $0)) }
                ?? WeightFile.synthetic(config: ModelConfig())
            let net = SliceNetwork(file)
            let s = file.config.inputSize
            BLASThreads.set(threads)
            for b in batch {
                let ws = net.makeWorkspace(capacity: b)
                var rng = SplitMix64(seed: 7)
                let x = ws.inputPointer
                for i in 0..<(3 * b * s * s) { x[i] = rng.normal() }
                let passes = max(1, (max(images, b) + b - 1) / b)
                _ = net.forward(batch: b, workspace: ws, threads: threads)   // warm-up
                var times: [Double] = []
                for _ in 0..<repeats {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<passes { _ = net.forward(batch: b, workspace: ws, threads: threads) }
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    times.append(Double(t1 - t0) / 1e6 / Double(passes * b))
                }
                times.sort()
                let median = times[times.count / 2]
                let line = "{\"peer\": \"mlung-audit\", \"batch\": \(b), \"threads\": \(threads), \"ms_per_slice\": \(String(format: "%.2f", median))}\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        }
    }
}
