import ArgumentParser
import Audit
import Foundation
import Model

/// `mlung-audit preprocess`: spec section 1 on one series, for parity checks.
struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Preprocess one CT series as MLung-Sys does (DICOM in, safetensors out).",
        discussion: """
        Decodes the series at PATH (the one the selection rule picks when several qualify,
        or --series-uid) slice by slice and writes OUT with `hu` [N,S,S] float32 (cropped,
        resized HU), `crop_boxes` [N,4] int32 (inclusive row0, col0, row1, col1) and
        `crop_failed` [N] uint8, using the preprocessing settings of the weight file's config.
        Slices that fail to decode are reported on stderr and left out.
        """
    )

    @Option(help: "A directory holding the series (searched recursively) or one DICOM file.")
    var series: String

    @Option(help: "The MLung-Sys weight file whose config gives the preprocessing settings.")
    var weights: String

    @Option(help: "Output safetensors file (written atomically).")
    var output: String

    @Option(help: "Use this SeriesInstanceUID instead of the selection rule.")
    var seriesUid: String?

    func run() throws {
        try IngestCLI.reporting {
            let model = try WeightFile(contentsOf: URL(fileURLWithPath: weights))
            var options = DiscoveryOptions()
            options.minimumSlices = model.config.scales.max() ?? 1
            let found = try SeriesDiscovery.scan([series], options: options)
            let chosen = try SeriesSelection.choose(from: found.series, override: seriesUid, context: series)
            let result = try PreprocessedSeries(series: chosen, settings: PreprocessSettings(model.config))
            for issue in result.skipped {
                FileHandle.standardError.write(Data("mlung-audit: warning: \(issue.path): skipped: \(issue.reason)\n".utf8))
            }
            try result.safeTensors().write(to: URL(fileURLWithPath: output))
            let failed = result.cropFailed.filter { $0 }.count
            print("\(output): \(result.count) slice(s) of series \(chosen.seriesInstanceUID), \(result.settings.inputSize)x\(result.settings.inputSize), \(failed) crop failure(s)")
        }
    }
}
