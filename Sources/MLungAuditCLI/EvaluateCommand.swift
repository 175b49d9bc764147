import ArgumentParser
import Audit
import Foundation

/// `mlung-audit evaluate`: judge a predictions CSV against its labels, optionally against a baseline.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Metrics with confidence intervals, calibration, subgroups and the comparison with a baseline.",
        discussion: """
        The CSV has a header with patient_id,label,p_healthy,p_covid19,p_h1n1,p_cap and any other \
        (metadata) columns; one row per patient. label is healthy, covid19, h1n1, cap or empty \
        (unlabelled patients are left out of the figures). The predicted class is the argmax. \
        A subgroup is a metadata column (site) or a numeric column with band edges (age:40,65). \
        Definitions: docs/statistics.md. Exit codes: 0 success, 64 bad usage, 65 bad input.
        """
    )

    @Option(help: ArgumentHelp("Predictions CSV of the candidate model.", valueName: "csv"))
    var predictions: String

    @Option(help: ArgumentHelp("Predictions CSV of the baseline on the same patients.", valueName: "csv"))
    var baselinePredictions: String?

    @Flag(help: "Write the JSON report (schema mlung-audit/evaluation/1) instead of text.")
    var json = false

    @Option(help: "Seed of the bootstrap generator.")
    var seed: UInt64 = StatisticsOptions.defaultSeed

    @Option(help: ArgumentHelp("Bootstrap resamples (0: no bootstrap).", valueName: "n"))
    var bootstrap: Int = StatisticsOptions.defaultResamples

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Metadata columns to split by (COLUMN or COLUMN:EDGE,EDGE,...).", valueName: "column"))
    var subgroup: [String] = []

    func validate() throws {
        guard bootstrap >= 0 && bootstrap <= 1_000_000 else {
            throw ValidationError("--bootstrap must be between 0 and 1000000")
        }
    }

    func run() throws {
        do {
            let options = StatisticsOptions(seed: seed, resamples: bootstrap)
            let specs = try subgroup.map { try SubgroupSpec(parsing: $0) }
            let candidate = try PredictionSet(contentsOfCSV: predictions)
            let baseline = try baselinePredictions.map { try PredictionSet(contentsOfCSV: $0) }
            let report = try EvaluationReport(candidate: candidate, baseline: baseline, subgroups: specs, options: options)
            if json {
                var data = try report.jsonData()
                data.append(UInt8(ascii: "\n"))
                FileHandle.standardOutput.write(data)
            } else {
                FileHandle.standardOutput.write(Data(report.text.utf8))
            }
        } catch let e as StatisticsError {
            FileHandle.standardError.write(Data("mlung-audit: error: \(e.description)\n".utf8))
            throw ExitCode(ExitCodes.badInput)
        }
    }
}
