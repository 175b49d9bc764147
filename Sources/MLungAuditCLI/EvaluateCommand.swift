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
        Instead of CSVs, --run R [--baseline B] judges runs of the audit store (--db), with the \
        labels and metadata of their cohort manifest; --head picks the learned patient network or \
        the non-parametric assessment. With --run, --slice-labels FILE adds slice-level figures: \
        a CSV with patient_id, slice_index (0 = lowest slice, as the run orders them) or \
        sop_instance_uid or instance_number, lesion (1/0) and optionally class and z_mm (checked \
        against the stored slice positions); the synthetic generator's slices.csv works as it is. \
        Definitions: docs/statistics.md. Exit codes: 0 success, 64 bad usage, 65 bad input, 74 store error.
        """
    )

    @Option(help: ArgumentHelp("Predictions CSV of the candidate model.", valueName: "csv"))
    var predictions: String?

    @Option(name: .customLong("run"), help: ArgumentHelp("A run of the audit store to judge (instead of --predictions).", valueName: "run"))
    var runID: Int?

    @Option(help: ArgumentHelp("The baseline run, for --run.", valueName: "run"))
    var baseline: Int?

    @Option(help: "The audit store, for --run.")
    var db: String = "mlung-audit.sqlite"

    @Option(help: "The patient head judged for --run: learned or nonparametric.")
    var head: String = "learned"

    @Option(help: ArgumentHelp("Slice labels (CSV) for slice-level figures of --run.", valueName: "csv"))
    var sliceLabels: String?

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
        guard (predictions == nil) != (runID == nil) else {
            throw ValidationError("give either --predictions CSV or --run RUN")
        }
        guard baseline == nil || runID != nil, baselinePredictions == nil || predictions != nil else {
            throw ValidationError("--baseline goes with --run, --baseline-predictions with --predictions")
        }
        guard sliceLabels == nil || runID != nil else {
            throw ValidationError("--slice-labels goes with --run")
        }
        guard AuditStore.Head(rawValue: head) != nil else {
            throw ValidationError("--head must be learned or nonparametric")
        }
    }

    /// The candidate and baseline prediction sets, from CSV files or from the audit store.
    func predictionSets() throws -> (PredictionSet, PredictionSet?) {
        if let predictions {
            return (try PredictionSet(contentsOfCSV: predictions), try baselinePredictions.map { try PredictionSet(contentsOfCSV: $0) })
        }
        guard FileManager.default.fileExists(atPath: db) else { throw StoreError(path: db, message: "no such audit store") }
        let store = try AuditStore(path: db)
        let h = AuditStore.Head(rawValue: head) ?? .learned
        let candidate = try store.predictionSet(run: runID!, head: h)
        // The baseline is judged on its own head of the same kind when it has one (imported logs have only one).
        let baselineHead = try baseline.flatMap { try store.run(id: $0) }?.kind == "imported" ? .learned : h
        return (candidate, try baseline.map { try store.predictionSet(run: $0, head: baselineHead) })
    }

    /// The slice-level figures of --run against --slice-labels.
    func sliceEvaluation(options: StatisticsOptions) throws -> SliceEvaluation? {
        guard let sliceLabels, let runID else { return nil }
        let labels = try SliceLabelSet(contentsOfCSV: sliceLabels)
        var outputs: [String: [StoredSliceOutput]] = [:]
        var store: AuditStore?
        try CLIError.reporting {
            let s = try AuditStore(path: db)
            outputs = try s.sliceOutputs(run: runID)
            store = s
        }
        var joined: (slices: [SlicePrediction], notes: [String])?
        try CLIError.reporting {
            joined = try SliceJoin.join(labels, outputs: outputs) { try store!.instanceNumbers(run: runID, patientID: $0) }
        }
        guard let joined else { return nil }
        return try SliceEvaluator.evaluate(joined.slices, source: "\(db)#run\(runID)", labels: sliceLabels, join: labels.keyColumn,
                                           notes: joined.notes, options: options)
    }

    func run() throws {
        do {
            let options = StatisticsOptions(seed: seed, resamples: bootstrap)
            let specs = try subgroup.map { try SubgroupSpec(parsing: $0) }
            var sets: (PredictionSet, PredictionSet?)?
            try CLIError.reporting { sets = try predictionSets() }
            guard let (candidate, baseline) = sets else { return }
            var report = try EvaluationReport(candidate: candidate, baseline: baseline, subgroups: specs, options: options)
            report.slices = try sliceEvaluation(options: options)
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
