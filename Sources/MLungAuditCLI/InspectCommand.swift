import ArgumentParser
import Audit
import Foundation
import Model

/// Maps ingestion and model errors to one line on stderr and the bad-input exit code.
/// Ingestion errors are reported like every other library error.
enum IngestCLI {
    static func reporting(_ body: () throws -> Void) throws { try CLIError.reporting(body) }
}

/// `mlung-audit inspect PATH`: every series under PATH with metadata, geometry and problems.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the DICOM series under a path, with metadata, geometry and problems.",
        discussion: """
        Reads headers only. CT image series are listed per study, with the series the
        selection rule picks marked [chosen]; other series are listed as skipped with the
        reason, and unreadable files with DCMTK's message. Exit code 0 even when problems are
        found; 65 when PATH does not exist.
        """
    )

    @Argument(help: "A directory (searched recursively) or a DICOM file.")
    var path: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "Fewest slices a usable series may have.")
    var minSlices: Int = 4

    @Flag(help: "Keep images whose ImageType says DERIVED or SECONDARY.")
    var allowDerived = false

    struct Report: Encodable {
        var dcmtkVersion: String
        var discovery: SeriesDiscovery
        /// StudyInstanceUID -> the SeriesInstanceUID the selection rule picks.
        var chosen: [String: String]
    }

    func run() throws {
        try IngestCLI.reporting {
            var options = DiscoveryOptions()
            options.minimumSlices = minSlices
            options.allowDerived = allowDerived
            let found = try SeriesDiscovery.scan([path], options: options)
            let chosen = SeriesSelection.chosenPerStudy(found.series)
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let data = try enc.encode(Report(dcmtkVersion: DicomFile.dcmtkVersion, discovery: found, chosen: chosen))
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            } else {
                print(Self.text(found, chosen: chosen), terminator: "")
            }
        }
    }

    static func number(_ v: Double?, _ unit: String) -> String? {
        guard let v else { return nil }
        return String(format: "%g", v) + unit
    }

    static func text(_ found: SeriesDiscovery, chosen: [String: String]) -> String {
        var out = "\(found.roots.joined(separator: ", ")): \(found.fileCount) file(s), \(found.series.count) CT series, "
            + "\(found.skipped.count) skipped series, \(found.unreadable.count) unreadable file(s)\n"
        var lastStudy: String? = nil
        for s in found.series {
            let m = s.metadata
            let study = m.studyInstanceUID ?? ""
            if study != lastStudy {
                out += "\nstudy \(study.isEmpty ? "(no StudyInstanceUID)" : study)  patient \(m.patientID ?? "?")  date \(m.studyDate ?? "?")\n"
                lastStudy = study
            }
            let mark = chosen[study] == s.seriesInstanceUID ? "  [chosen]" : (s.isUsable ? "" : "  [unusable]")
            out += "  series \(s.seriesInstanceUID)  #\(m.seriesNumber.map(String.init) ?? "?")  \"\(m.seriesDescription ?? "")\"\(mark)\n"
            var geo = "\(s.slices.count) slice(s)"
            if let g = s.geometry { geo += " \(g.rows)x\(g.columns)" }
            if let ps = m.pixelSpacing { geo += String(format: ", pixel %gx%g mm", ps[0], ps[1]) }
            if let t = number(m.sliceThickness, " mm") { geo += ", thickness \(t)" }
            if let step = number(s.geometry?.medianSpacing, " mm") { geo += ", step \(step)" }
            if let e = s.geometry?.extent { geo += String(format: ", extent %.1f mm", e) }
            out += "    \(geo)\n"
            let kernel = m.convolutionKernel.map { "kernel \($0) (\(SeriesSelection.kernelClass($0)))" }
            let acq = [m.manufacturer, m.manufacturerModelName, kernel, number(m.kvp, " kVp"), number(m.exposure, " mAs"),
                       number(m.xRayTubeCurrent, " mA"), m.acquisitionDate.map { "acquired \($0)" }, m.bodyPartExamined]
                .compactMap { $0 }
            if !acq.isEmpty { out += "    \(acq.joined(separator: ", "))\n" }
            out += "    transfer syntax \(m.transferSyntaxes.joined(separator: ", "))\n"
            for p in s.problems { out += "    \(p.blocking ? "problem" : "warning"): \(p.message)\n" }
        }
        if !found.skipped.isEmpty { out += "\nskipped series:\n" }
        for s in found.skipped {
            out += "  \(s.seriesInstanceUID) (\(s.modality ?? "?"), \(s.fileCount) file(s)): \(s.reason)\n"
        }
        if !found.unreadable.isEmpty { out += "\nunreadable files:\n" }
        for f in found.unreadable { out += "  \(f.path): \(f.reason)\n" }
        return out
    }
}
