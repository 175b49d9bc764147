import ArgumentParser
import Audit
import Foundation
import Reports

/// `mlung-audit gallery`: one PDF page per case of a stored run, with its CT slices and lesion maps.
struct GalleryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery",
        abstract: "Render the failure-case gallery of a stored run: CT slices with lesion maps, both heads, the truth.",
        discussion: """
        Each case's slices are re-read from the DICOM series the run used (found through the \
        cohort manifest and checked against the stored content digest); the stored lesion maps are \
        placed back through each slice's crop box. --filter picks the cases by the learned head's \
        answer: fp (healthy called sick), fn (sick called healthy), wrong-disease, flips (diagnosis \
        differs from --baseline), flagged (any failure-mode flag stored by `mlung-audit flags`), or \
        all; several joined by commas must all hold (e.g. fp,flagged). Each case lists its stored \
        flags with the measurements that fired them. Pseudonyms unless --show-identifiers. The same run and \
        options give a byte-identical PDF. Exit codes: 0 success, 64 bad usage, 65 bad input \
        (DICOM changed or missing, templates), 74 store error.
        """
    )

    @Option(name: .customLong("run"), help: ArgumentHelp("The run whose cases to show.", valueName: "run"))
    var runID: Int

    @Option(help: "The audit store.")
    var db: String = "mlung-audit.sqlite"

    @Option(help: "Which cases: fp, fn, wrong-disease, flips, flagged or all; several joined by commas must all hold (fp,flagged).")
    var filter: String = "all"

    @Option(help: ArgumentHelp("A baseline run (required by --filter flips; otherwise marks changed diagnoses).", valueName: "run"))
    var baseline: Int?

    @Option(help: ArgumentHelp("Where to write the PDF.", valueName: "file.pdf"))
    var out: String

    @Flag(help: "Print real patient ids and study dates instead of pseudonyms (the PDF is then a clinical record).")
    var showIdentifiers = false

    @Option(help: ArgumentHelp("Show every k-th slice (default: about 8 slices per case).", valueName: "k"))
    var every: Int?

    @Option(help: ArgumentHelp("Template folder holding report/ and gallery/.", valueName: "dir"))
    var templates: String?

    /// `--filter` as its parts ("fp,flagged" -> [.fp, .flagged]); nil when a part is unknown.
    var filters: [GalleryFilter]? {
        let parts = filter.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let parsed = parts.compactMap(GalleryFilter.init(rawValue:))
        return parsed.count == parts.count && !parsed.isEmpty ? parsed : nil
    }

    func validate() throws {
        guard let fs = filters else {
            throw ValidationError("--filter must be one of \(GalleryFilter.allCases.map(\.rawValue).joined(separator: ", ")), or several joined by commas")
        }
        guard !fs.contains(.flips) || baseline != nil else { throw ValidationError("--filter flips needs --baseline RUN") }
        guard every.map({ $0 >= 1 }) ?? true else { throw ValidationError("--every must be at least 1") }
        guard baseline != runID else { throw ValidationError("--baseline must name another run than --run") }
    }

    func run() throws {
        try CLIError.reporting {
            try ReportsCLI.reporting {
                let store = try ReportsCLI.openStore(db)
                // Only the patients' answers are needed: no bootstrap.
                let data = try store.reportData(run: runID, baseline: baseline, head: .learned,
                                                options: StatisticsOptions(resamples: 0))
                let policy = try ReportsCLI.policy(store: store, showIdentifiers: showIdentifiers)
                let counts = Dictionary(data.candidate.patients.map { ($0.patientID, $0.sliceCount ?? 0) }, uniquingKeysWith: { a, _ in a })
                let fs = filters ?? [.all]
                let stored = try store.flagRun(runID) != nil ? try store.loadFlags(run: runID) : nil
                if fs.contains(.flagged) && stored == nil {
                    throw CLIError.fail("run \(runID) has no stored failure-mode flags: compute them first with "
                        + "`mlung-audit flags --run \(runID) --db \(ShellQuote.quote(db))`", ExitCodes.badInput)
                }
                let gallery = try GalleryModel(audit: data, filters: fs, flags: stored) { pid in
                    let k = every ?? max(1, ((counts[pid] ?? 1) + 7) / 8)
                    return try store.gallerySlices(run: runID, patientID: pid, every: k)
                }
                let doc = try gallery.render(templates: try ReportTemplates.locate(explicit: templates), policy: policy)
                try doc.write(to: out)
                print("wrote \(out): \(gallery.cases.count) cases, \(doc.pageCount) pages (run \(runID), --filter \(filter), "
                      + (showIdentifiers ? "WITH patient identifiers" : "pseudonymised") + ")")
            }
        }
    }
}
