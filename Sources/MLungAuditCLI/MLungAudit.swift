import ArgumentParser

@main
struct MLungAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlung-audit",
        abstract: "Rerun, audit and report on the MLung-Sys CT pneumonia-screening model.",
        subcommands: [
            RunCommand.self,
            RunsCommand.self,
            ExportCommand.self,
            ImportPredictionsCommand.self,
            ModelRunCommand.self,
            BenchCommand.self,
            EvaluateCommand.self,
            NightlyCommand.self,
            InspectCommand.self,
            PreprocessCommand.self,
            SynthCommand.self,
            ReportCommand.self,
            GalleryCommand.self,
            DriftCommand.self,
            FlagsCommand.self,
        ]
    )
}
