import Foundation

extension AuditStore {
    /// The DICOM series run `runID` read for a patient, found again: through the cohort's
    /// manifest when it still names the patient (else the stored path, relative to the
    /// manifest's folder), discovered with the run's minimum slice count, selected as the run
    /// selected it, and checked against the stored content digest, so what is shown or
    /// measured is what the model saw. `consequence` ends the error when the files changed.
    func reopenSeries(runID: Int, patientID: String, rawPath: String, manifestPath: String, seriesUID: String, digest: String,
                      settings: RunSettings?, consequence: String? = nil) throws -> DicomSeries {
        let paths: [String]
        if let m = try? CohortManifest(contentsOf: manifestPath, checkPaths: true),
           let entry = m.entries.first(where: { $0.patientID == patientID }) {
            paths = entry.paths
        } else {
            paths = [CohortManifest.resolve(rawPath, base: URL(fileURLWithPath: manifestPath).deletingLastPathComponent().path)]
        }
        var discovery = DiscoveryOptions()
        discovery.minimumSlices = settings?.minimumSlices ?? discovery.minimumSlices
        let found = try SeriesDiscovery.scan(paths, options: discovery)
        let series = try SeriesSelection.choose(from: found.series, override: seriesUID, context: rawPath)
        guard try AuditRunner.contentDigest(series) == digest else {
            let why = "the series' files changed since run \(runID) read them (content digest differs)"
            throw IngestError.series(path: rawPath, reason: consequence.map { "\(why); \($0)" } ?? why)
        }
        return series
    }
}
