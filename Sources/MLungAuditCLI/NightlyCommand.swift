import ArgumentParser
import Audit
import Foundation
import Yams

/// `mlung-audit nightly --config FILE`: the nightly regression audit with its pass/fail gate.
struct NightlyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nightly",
        abstract: "Rerun the candidate model on the configured cohorts and judge the regression gates.",
        discussion: """
        The YAML configuration is documented in templates/nightly.yaml (relative paths are \\
        relative to the file). The JSON verdict goes to the configured `verdict` file and to \\
        stdout. Exit codes: 0 every gate passed; 3 a gate failed; 4 a gate could not be judged \\
        (e.g. no baseline); 65 bad configuration or input; 74 store error.
        """)

    @Option(help: "The nightly configuration (YAML).")
    var config: String

    static let gateFailed: Int32 = 3
    static let gateError: Int32 = 4

    func run() throws {
        var verdict: NightlyVerdict?
        do {
            try runAudit(&verdict)
        } catch let e as StatisticsError {
            throw CLIError.fail(e.description, ExitCodes.badInput)
        }
        switch verdict?.status {
        case .fail?: throw ExitCode(Self.gateFailed)
        case .error?: throw ExitCode(Self.gateError)
        default: break
        }
    }

    func runAudit(_ verdict: inout NightlyVerdict?) throws {
        try CLIError.reporting {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw IngestError.unreadable(path: config, reason: "cannot read the configuration")
            }
            var parsed: NightlyConfig
            do {
                parsed = try YAMLDecoder().decode(NightlyConfig.self, from: text)
            } catch {
                throw IngestError.invalidArgument(reason: "\(config): invalid nightly configuration: \(decodingErrorText(error))")
            }
            parsed.resolvePaths(relativeTo: config)
            let v = try NightlyAudit.run(parsed) { printError($0) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            let data = try encoder.encode(v)
            if let path = parsed.verdict {
                do {
                    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
                } catch {
                    throw IngestError.writeFailed(path: path, reason: (error as NSError).localizedDescription)
                }
            }
            print(String(decoding: data, as: UTF8.self))
            verdict = v
        }
    }
}
