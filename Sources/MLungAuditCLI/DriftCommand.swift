import ArgumentParser
import Audit
import Foundation
import Yams

/// `mlung-audit drift`: is a candidate run's data still data the model understands?
struct DriftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Compare a candidate run with a reference run: acquisition, images, outputs, features, accuracy.",
        discussion: """
        Both runs come from the audit store (--db); the candidate may be unlabelled. Every factor \
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
    var candidate: Int

    @Option(help: "The audit store.")
    var db: String = "mlung-audit.sqlite"

    @Option(help: ArgumentHelp("Threshold overrides (YAML or JSON).", valueName: "file"))
    var config: String?

    @Flag(help: "Write the JSON report (schema mlung-audit/drift/1) instead of text.")
    var json = false

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
                for id in [reference, candidate] where try store.run(id: id) == nil {
                    throw IngestError.invalidArgument(reason: "\(db): no run \(id)")
                }
                report = try DriftAnalyzer.analyze(store: store, reference: reference, candidate: candidate, config: settings)
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
