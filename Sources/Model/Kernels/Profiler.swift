import Dispatch
import Foundation

/// Wall-clock time per kernel family, collected only when enabled (`mlung-audit bench --profile`).
/// With several workers the times add up across threads (CPU time, not wall time).
public enum Profiler {
    nonisolated(unsafe) public static var enabled = false
    private static let lock = NSLock()
    nonisolated(unsafe) static var totals: [String: (nanoseconds: UInt64, calls: Int, flops: Double)] = [:]

    @inline(__always)
    static func measure<T>(_ label: String, flops: Double = 0, _ body: () -> T) -> T {
        guard enabled else { return body() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let r = body()
        let dt = DispatchTime.now().uptimeNanoseconds - t0
        lock.lock()
        var e = totals[label] ?? (0, 0, 0)
        e.nanoseconds += dt
        e.calls += 1
        e.flops += flops
        totals[label] = e
        lock.unlock()
        return r
    }

    public static func reset() {
        lock.lock()
        totals = [:]
        lock.unlock()
    }

    /// Lines `label  ms  share  GFLOP/s`, largest first.
    public static func report(images: Int) -> String {
        let all = totals.values.reduce(0) { $0 + $1.nanoseconds }
        return totals.sorted { $0.value.nanoseconds > $1.value.nanoseconds }.map { label, e in
            let ms = Double(e.nanoseconds) / 1e6 / Double(max(images, 1))
            let share = 100 * Double(e.nanoseconds) / Double(max(all, 1))
            let gflops = e.flops > 0 ? e.flops / Double(e.nanoseconds) : 0
            return label.padding(toLength: 28, withPad: " ", startingAt: 0)
                + String(format: "%8.2f ms/img %5.1f%% %7.1f GFLOP/s", ms, share, gflops)
        }.joined(separator: "\n")
    }
}
