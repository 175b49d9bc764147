import ArgumentParser
import Audit
import Foundation
import Model

/// `mlung-audit run`: rerun a model on a cohort and keep every output in the audit store.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Rerun a model on every patient of a cohort and store all outputs.",
        discussion: """
        Each patient is committed in one transaction. An interrupted run (Ctrl-C, kill -9, power
        loss) resumes where it stopped when the same command is run again, or with --resume RUN;
        no patient is redone or duplicated. A patient whose series is bad is recorded as failed
        with its reason and the run goes on (exit code 66 at the end). Slice outputs are reused
        across runs whose slice network, preprocessing and series are the same.
        """)

    @Option(help: "The cohort manifest (CSV: patient_id,path[,series_uid][,label][,...]).")
    var cohort: String

    @Option(help: "The MLung-Sys weight file.")
    var model: String

    @Option(help: "The audit store (SQLite).")
    var db: String = "mlung-audit.sqlite"

    @Option(help: "A name for the run (runs with the same model, cohort, label and settings resume each other).")
    var label: String = "audit"

    @Option(help: "CPU threads.")
    var threads: Int = 2

    @Option(help: "Slices per forward pass.")
    var batch: Int = 8

    @Option(help: "Resume this run id.")
    var resume: Int?

    @Flag(help: "Start a new run even if an unfinished one with the same settings exists.")
    var new = false

    @Flag(help: "Print a JSON summary on stdout.")
    var json = false

    func run() throws {
        try CLIError.reporting {
            let engine = try MLungSys(contentsOf: URL(fileURLWithPath: model))
            let manifest = try CohortManifest(contentsOf: cohort)
            let store = try AuditStore(path: db)
            let runner = AuditRunner(store: store, engine: engine, manifest: manifest,
                                     options: EngineOptions(threads: threads, batch: batch), label: label)
            runner.resumeRunID = resume
            runner.forceNew = new
            let progress = ProgressReporter(total: manifest.entries.count)
            let summary = try runner.run { progress.handle($0) }
            progress.finish()
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try e.encode(summary), as: UTF8.self))
            } else {
                print("run \(summary.runID): \(summary.succeeded) ok, \(summary.failed) failed, \(summary.reused) reused slice outputs, "
                      + "\(summary.slices) slices in \(String(format: "%.1f", summary.seconds)) s (store \(db))")
                for (patient, reason) in summary.failures.sorted(by: { $0.key < $1.key }) {
                    print("  failed \(patient): \(reason)")
                }
            }
            if !summary.failures.isEmpty { throw ExitCode(ExitCodes.patientsFailed) }
        }
    }
}

/// Progress on stderr: a redrawn bar on a terminal, plain log lines otherwise.
final class ProgressReporter {
    let total: Int
    let interactive = isatty(2) != 0
    var done = 0
    var slices = 0
    let started = Date()

    init(total: Int) { self.total = total }

    func handle(_ event: RunEvent) {
        switch event {
        case let .started(run, resumed, total, alreadyDone):
            done = alreadyDone
            printError("run \(run)\(resumed ? " (resumed)" : ""): \(total) patients, \(alreadyDone) already done")
        case let .patientDone(patientID, ok, reused, n, message):
            done += 1
            slices += n
            let elapsed = Date().timeIntervalSince(started)
            let rate = elapsed > 0 ? Double(slices) / elapsed : 0
            if interactive {
                let width = 30
                let filled = total > 0 ? width * done / total : width
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                let remaining = total - done
                let perPatient = done > 0 ? elapsed / Double(max(1, done)) : 0
                let eta = Int(perPatient * Double(remaining))
                FileHandle.standardError.write(Data(String(format: "\r[%@] %d/%d patients  %.1f slices/s  ETA %d:%02d ",
                                                           bar, done, total, rate, eta / 60, eta % 60).utf8))
                if !ok { FileHandle.standardError.write(Data("\n  \(patientID) failed: \(message ?? "")\n".utf8)) }
            } else {
                let status = ok ? (reused ? "ok (slice outputs reused)" : "ok") : "FAILED: \(message ?? "")"
                printError("[\(done)/\(total)] \(patientID): \(status), \(n) slices, \(String(format: "%.1f", rate)) slices/s")
            }
        }
    }

    func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
