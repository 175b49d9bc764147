import ArgumentParser
import Audit
import Foundation
import Yams

/// `mlung-audit flags`: failure-mode flags of a run (docs/flags.md).
struct FlagsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flags",
        abstract: "Flag the patients of a run whose result may be a known failure (pulsatile artifact, crop failure, ...).",
        discussion: """
        Computes the flags (once; stored in the audit store with their measurements) from the stored outputs and a
        re-read of each series, then lists the flagged patients with the measurements that fired each flag, and
        the accuracy with and without the patients flagged for a pulsatile artifact. A stored computation is reused
        when the configuration, baseline and reference are the same; --recompute forces a new one.
        """)

    @Option(name: .customLong("run"), help: "The run id.")
    var runID: Int

    @Option(help: "The audit store.")
    var db: String = "mlung-audit.sqlite"

    @Option(help: "Threshold overrides (JSON, or YAML when the name ends in .yaml/.yml); see templates/flags.yaml.")
    var config: String?

    @Option(help: "A prior run of the same cohort (e.g. the previous model version): adds version flips.")
    var baseline: Int?

    @Option(help: "A reference run (e.g. the reference scanner's cohort) whose median noise index is the noise reference; its flags must be computed.")
    var reference: Int?

    @Flag(help: "Compute again even if flags with the same settings are stored.")
    var recompute = false

    @Flag(help: "List every patient with all measurements, not only the flagged ones.")
    var all = false

    @Flag(help: "JSON output.")
    var json = false

    struct Output: Encodable {
        struct Metrics: Encodable {
            var patients: Int
            var accuracy: Double?
            var patientsWithoutArtifactFlags: Int
            var accuracyWithoutArtifactFlags: Double?
            var flagged: [String: Int]
        }
        var run: Int
        var computedAt: String
        var reused: Bool
        var baseline: Int?
        var reference: Int?
        var metrics: Metrics
        var patients: [PatientFlags]
    }

    func run() throws {
        try CLIError.reporting {
            do {
                try body()
            } catch let e as FlagError {
                throw CLIError.fail(e.description, ExitCodes.badInput)
            }
        }
    }

    func loadConfig() throws -> FlagConfig {
        guard let config else { return FlagConfig() }
        let lower = config.lowercased()
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw FlagError.config(path: config, reason: "cannot read the file")
            }
            let object: Any?
            do { object = try Yams.load(yaml: text) } catch { throw FlagError.config(path: config, reason: "not valid YAML: \(error)") }
            return try FlagConfig.load(overrides: Self.jsonCompatible(object ?? [String: Any]()), source: config)
        }
        return try FlagConfig.load(jsonFile: config)
    }

    /// Yams values as JSONSerialization values.
    static func jsonCompatible(_ v: Any) -> Any {
        if let d = v as? [AnyHashable: Any] {
            var out: [String: Any] = [:]
            for (k, x) in d { out["\(k)"] = jsonCompatible(x) }
            return out
        }
        if let a = v as? [Any] { return a.map(jsonCompatible) }
        if v is NSNull { return NSNull() }
        return v
    }

    func body() throws {
        guard FileManager.default.fileExists(atPath: db) else { throw StoreError(path: db, message: "no such audit store") }
        let settings = try loadConfig()
        let store = try AuditStore(path: db)
        guard try store.run(id: runID) != nil else { throw StoreError(path: db, message: "no run \(runID)") }
        if let b = baseline, try store.run(id: b) == nil { throw StoreError(path: db, message: "no baseline run \(b)") }
        var referenceNoise: Double?
        if let r = reference {
            guard try store.flagRun(r) != nil else {
                throw StoreError(path: db, message: "the flags of reference run \(r) are not computed: run `mlung-audit flags --run \(r)` first")
            }
            referenceNoise = try FlagEngine.referenceNoise(store: store, run: r)
        }
        var reused = false
        if let stored = try store.flagRun(runID), !recompute, stored.configJSON == settings.canonicalJSON,
           stored.baselineRunID == baseline, stored.referenceRunID == reference {
            reused = true
        } else {
            // Only the pulsatile flag uses the model: read the weight file only for it.
            let (model, unavailable) = settings.isEnabled(.pulsatileArtifact)
                ? try FlagEngine.model(store: store, run: runID) : (nil, nil)
            if let unavailable {
                printError("note: no counterfactuals for the pulsatile flag (healthy_without_heart, healthy_band_repaired not measured, not gated): \(unavailable)")
            }
            let patients = try FlagEngine.compute(store: store, run: runID, config: settings, baseline: baseline,
                                                  referenceNoise: referenceNoise, model: model) { pid, k, n in
                if !json { printError("[\(k)/\(n)] \(pid)") }
            }
            try store.saveFlags(run: runID, config: settings, baseline: baseline, reference: reference, patients: patients)
        }
        let record = try store.flagRun(runID)
        let patients = try store.loadFlags(run: runID)

        // Accuracy with and without the pulsatile-artifact cases.
        let artifact = Set(patients.filter { $0.has(.pulsatileArtifact) }.map(\.patientID))
        let set = try store.predictionSet(run: runID)
        let options = StatisticsOptions(resamples: 0)
        let all = try Evaluator.evaluate(set, options: options)
        let kept = try Evaluator.evaluate(set.filter { !artifact.contains($0.patientID) }, options: options)
        var counts: [String: Int] = [:]
        for p in patients { for f in p.findings { counts[f.flag.rawValue, default: 0] += 1 } }
        let metrics = Output.Metrics(patients: all.labelled, accuracy: all.accuracy.value,
                                     patientsWithoutArtifactFlags: kept.labelled, accuracyWithoutArtifactFlags: kept.accuracy.value,
                                     flagged: counts)
        if json {
            let out = Output(run: runID, computedAt: record?.computedAt ?? "", reused: reused, baseline: record?.baselineRunID,
                             reference: record?.referenceRunID, metrics: metrics,
                             patients: self.all ? patients : patients.filter { !$0.findings.isEmpty })
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted]
            e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try e.encode(out), as: UTF8.self))
            return
        }
        let flagged = patients.filter { !$0.findings.isEmpty }
        print("run \(runID): \(flagged.count) of \(patients.count) patients flagged (computed \(record?.computedAt ?? "?")\(reused ? ", stored" : ""))")
        let names = ["healthy", "covid19", "h1n1", "cap"]
        for p in (self.all ? patients : flagged) {
            let label = p.label.map { names.indices.contains($0) ? names[$0] : "\($0)" } ?? "unlabelled"
            let pred = p.predicted.map { names.indices.contains($0) ? names[$0] : "\($0)" } ?? "-"
            print("\(p.patientID)  label \(label), predicted \(pred)\(p.status == "ok" ? "" : " [\(p.status): \(p.error ?? "")]")")
            for f in p.findings { print("  \(f.summary)") }
            if self.all {
                for (flag, m) in p.measurements.sorted(by: { $0.key < $1.key }) {
                    print("    \(flag): " + m.map { "\($0.name) \(Self.number($0.value))" }.joined(separator: ", "))
                }
            }
        }
        func pct(_ x: Double?) -> String { x.map { String(format: "%.1f%%", 100 * $0) } ?? "n/a" }
        print("accuracy: \(pct(metrics.accuracy)) on \(metrics.patients) labelled patients; without the \(artifact.count) pulsatile-artifact flags: \(pct(metrics.accuracyWithoutArtifactFlags)) on \(metrics.patientsWithoutArtifactFlags)")
    }

    static func number(_ x: Double) -> String {
        if x.isNaN { return "n/a" }
        return abs(x) >= 100 ? String(format: "%.0f", x) : String(format: "%.3g", x)
    }
}
