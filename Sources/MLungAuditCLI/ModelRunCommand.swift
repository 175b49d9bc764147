import ArgumentParser

struct ModelRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model-run")
    func run() throws {}
}
