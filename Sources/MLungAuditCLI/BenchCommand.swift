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

    @Flag(help: "Print the time per kernel family after each batch size.")
    var profile = false

    func run() throws {
        try CLIError.reporting {
            let file = try weights.map { try WeightFile(contentsOf: URL(fileURLWithPath: $0)) }
                ?? WeightFile.synthetic(config: ModelConfig())
            let net = SliceNetwork(file)
            let s = file.config.inputSize
            BLASThreads.set(threads)
            for b in batch {
                // Each worker gets its share of the batch; one worker when the batch is 1.
                let workers = min(threads, b)
                let workspaces = (0..<workers).map { k in
                    net.makeWorkspace(capacity: (k + 1) * b / workers - k * b / workers)
                }
                for (k, ws) in workspaces.enumerated() {
                    var rng = SplitMix64(seed: 7 + UInt64(k))
                    let x = ws.inputPointer
                    for i in 0..<(3 * ws.capacity * s * s) { x[i] = rng.normal() }
                }
                let passes = max(1, (max(images, b) + b - 1) / b)
                let forward = { _ = net.run(images: b, workspaces: workspaces, threads: threads) { _, _, _ in } }
                forward()   // warm-up
                Profiler.enabled = profile
                Profiler.reset()
                var times: [Double] = []
                for _ in 0..<repeats {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<passes { forward() }
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    times.append(Double(t1 - t0) / 1e6 / Double(passes * b))
                }
                times.sort()
                let median = times[times.count / 2]
                let line = "{\"peer\": \"mlung-audit\", \"batch\": \(b), \"threads\": \(threads), \"ms_per_slice\": \(String(format: "%.2f", median))}\n"
                FileHandle.standardOutput.write(Data(line.utf8))
                if profile {
                    FileHandle.standardError.write(Data((Profiler.report(images: repeats * passes * b) + "\n").utf8))
                }
            }
        }
    }
}
