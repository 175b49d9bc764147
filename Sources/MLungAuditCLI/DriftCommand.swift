import ArgumentParser
import Audit
import Foundation
import Model
import Yams

/// `mlung-audit drift`: is a candidate run's data still data the model understands?
struct DriftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Compare a candidate run with a reference run: acquisition, images, outputs, features, accuracy.",
        discussion: """
        Both runs come from the audit store (--db); the candidate may be unlabelled. With \
        --candidate-manifest M --model W instead of --candidate, the model is first run on the \
        new cohort into the store (like `run`: resumable; a finished run of the same model, \
        manifest, label and settings is reused), then compared. Every factor \
        gets a test, an effect size, a Holm-adjusted p-value and a verdict; the report ends with \
        the overall verdict and the top contributing factors. --config overrides thresholds \
        (YAML or JSON; example: templates/drift.yaml). Details: docs/drift.md. \
        Exit codes: 0 no drift, 10 drift in the inputs only, 11 drift that reaches the model's \
        outputs, 64 bad usage, 65 bad input (config, runs), 74 store error.
        """
    )

    /// Documented exit codes of the verdicts (docs/drift.md).
    static let inputDrift: Int32 = 10
    static let outputDrift: Int32 = 11

    @Option(help: ArgumentHelp("The reference run (validated data).", valueName: "run"))
    var reference: Int

    @Option(help: ArgumentHelp("The candidate run (new scanner, site or protocol).", valueName: "run"))
    var candidate: Int?

    @Option(help: ArgumentHelp("Instead of --candidate: a cohort manifest to run --model on first (resumable).", valueName: "manifest"))
    var candidateManifest: String?

    @Option(help: ArgumentHelp("With --candidate-manifest: the weight file to run.", valueName: "weights"))
    var model: String?

    @Option(help: "With --candidate-manifest: the run's label (as `run --label`).")
    var label: String = "audit"

    @Option(help: "With --candidate-manifest: CPU threads of the run.")
    var threads: Int = 2

    @Option(help: "With --candidate-manifest: slices per forward pass.")
    var batch: Int = 8

    @Option(help: "The audit store.")
    var db: String = "mlung-audit.sqlite"

    @Option(help: ArgumentHelp("Threshold overrides (YAML or JSON).", valueName: "file"))
    var config: String?

    @Flag(help: "Write the JSON report (schema mlung-audit/drift/1) instead of text.")
    var json = false

    func validate() throws {
        switch (candidate, candidateManifest) {
        case (nil, nil): throw ValidationError("give --candidate RUN or --candidate-manifest FILE with --model WEIGHTS")
        case (.some, .some): throw ValidationError("--candidate and --candidate-manifest exclude each other")
        case (nil, .some): if model == nil { throw ValidationError("--candidate-manifest needs --model WEIGHTS") }
        case (.some, nil): if model != nil { throw ValidationError("--model goes with --candidate-manifest") }
        }
        guard threads >= 1, batch >= 1 else { throw ValidationError("--threads and --batch must be at least 1") }
    }

    /// Runs `model` on the candidate manifest into the store (the `run` machinery), or reuses
    /// the newest finished run of the same model, manifest, label and settings. Returns the
    /// run id and its failed patients.
    func runCandidate(manifestPath: String, weights: String, store: AuditStore) throws -> (run: Int, failed: [String: String]) {
        let engine = try MLungSys(contentsOf: URL(fileURLWithPath: weights))
        let manifest = try CohortManifest(contentsOf: manifestPath)
        let runner = AuditRunner(store: store, engine: engine, manifest: manifest,
                                 options: EngineOptions(threads: threads, batch: batch), label: label)
        let progress = ProgressReporter(total: manifest.entries.count)
        let outcome = try DriftCandidateRun.runOrReuse(runner) { progress.handle($0) }
        if let summary = outcome.summary {
            progress.finish()
            printError("candidate: run \(summary.runID): \(summary.succeeded) ok, \(summary.failed) failed, \(summary.reused) reused slice outputs (store \(db))")
        } else {
            printError("candidate: reusing finished run \(outcome.runID) (label \(label)) of \(manifestPath)")
        }
        return (outcome.runID, outcome.failures)
    }

    func run() throws {
        var report: DriftReport?
        try CLIError.reporting {
            do {
                var settings = DriftConfig()
                if let config {
                    guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                        throw IngestError.unreadable(path: config, reason: "cannot read the drift configuration")
                    }
                    do {
                        settings = try YAMLDecoder().decode(DriftConfig.self, from: text)
                    } catch {
                        throw IngestError.invalidArgument(reason: "\(config): invalid drift configuration: \(error)")
                    }
                }
                guard FileManager.default.fileExists(atPath: db) else { throw StoreError(path: db, message: "no such audit store") }
                let store = try AuditStore(path: db)
                guard try store.run(id: reference) != nil else { throw IngestError.invalidArgument(reason: "\(db): no run \(reference)") }
                let outcome: (run: Int, failed: [String: String])
                if let candidate {
                    guard try store.run(id: candidate) != nil else { throw IngestError.invalidArgument(reason: "\(db): no run \(candidate)") }
                    outcome = (candidate, [:])
                } else {
                    outcome = try runCandidate(manifestPath: candidateManifest!, weights: model!, store: store)
                }
                let (candidateRun, failed) = outcome
                report = try DriftAnalyzer.analyze(store: store, reference: reference, candidate: candidateRun, config: settings)
                if !failed.isEmpty {
                    printError("candidate run \(candidateRun): \(failed.count) patient(s) failed and are left out: " + failed.keys.sorted().joined(separator: ", "))
                    report?.notes.append("candidate run \(candidateRun): \(failed.count) patient(s) failed and are left out (" + failed.keys.sorted().joined(separator: ", ") + ")")
                }
            } catch let e as DriftError {
                throw IngestError.invalidArgument(reason: e.description)
            } catch let e as StatisticsError {
                throw IngestError.invalidArgument(reason: e.description)
            }
        }
        guard let report else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            var data = try encoder.encode(report)
            data.append(UInt8(ascii: "\n"))
            FileHandle.standardOutput.write(data)
        } else {
            FileHandle.standardOutput.write(Data(report.text.utf8))
        }
        switch report.overall {
        case .noDrift: return
        case .inputDrift: throw ExitCode(Self.inputDrift)
        case .outputDrift: throw ExitCode(Self.outputDrift)
        }
    }
}
