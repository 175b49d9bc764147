import Foundation

/// Everything found under one or more paths: the CT image series, the series skipped with a
/// reason, and the files that could not be read.
///
/// Discovery reads headers only (parsing stops before Pixel Data), so scanning a cohort does
/// not touch pixel data; `SeriesReader` reads one series' pixels at a time afterwards.
public struct SeriesDiscovery: Sendable, Codable, Equatable {
    /// The scanned paths.
    public var roots: [String]
    /// CT image series, ordered by patient, study, series number and UID.
    public var series: [DicomSeries]
    /// Series with no CT image in them (other modalities, scouts, dose reports, ...).
    public var skipped: [SkippedSeries]
    /// Files that could not be parsed as DICOM, or that have no SeriesInstanceUID.
    public var unreadable: [FileIssue]
    /// Number of files examined.
    public var fileCount: Int

    /// How a file's header classifies it.
    public enum Classification: Equatable, Sendable {
        case ctImage
        case skipped(String)
    }

    /// Classifies one instance: is it a slice of an axial CT volume? The rules, in order:
    /// DICOMDIR and non-image SOP classes (SR, dose reports, presentation states,
    /// segmentations, RT, encapsulated documents, or no Rows/Columns) are "non-image";
    /// secondary captures are skipped; Modality must be CT; enhanced (multi-frame) CT is not
    /// supported; the SOP class must be CT Image Storage; ImageType with LOCALIZER (or SCOUT,
    /// TOPOGRAM) is a scout; ImageType DERIVED (value 1) or SECONDARY (value 2) is skipped
    /// unless `allowDerived`.
    public static func classify(_ inst: DicomInstance, options: DiscoveryOptions = DiscoveryOptions()) -> Classification {
        let sop = inst.sopClassUID ?? ""
        if SOPClass.secondaryCapture.contains(sop) {
            return .skipped("secondary capture (\(SOPClass.describe(sop)))")
        }
        if SOPClass.isNonImage(sop) || inst.rows == nil || inst.columns == nil {
            return .skipped("non-image object (\(SOPClass.describe(inst.sopClassUID)))")
        }
        let modality = inst.modality ?? ""
        if modality != "CT" {
            return .skipped("modality \(modality.isEmpty ? "missing" : modality), not CT")
        }
        if sop == SOPClass.enhancedCT || sop == SOPClass.legacyEnhancedCT {
            return .skipped("enhanced multi-frame CT (\(SOPClass.describe(sop))) is not supported")
        }
        if sop != SOPClass.ctImage {
            return .skipped("SOP class \(SOPClass.describe(inst.sopClassUID)) is not CT Image Storage")
        }
        let type = inst.imageType
        if type.contains(where: { $0 == "LOCALIZER" || $0 == "SCOUT" || $0 == "TOPOGRAM" }) {
            return .skipped("localizer/scout (ImageType \(type.joined(separator: "\\")))")
        }
        if !options.allowDerived && ((type.count > 0 && type[0] == "DERIVED") || (type.count > 1 && type[1] == "SECONDARY")) {
            return .skipped("derived or secondary image (ImageType \(type.joined(separator: "\\")))")
        }
        return .ctImage
    }

    /// All regular files under `paths` (files are taken as they are, directories walked
    /// recursively), hidden files and directories left out, sorted.
    public static func files(under paths: [String]) throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                throw IngestError.series(path: path, reason: "no such file or directory")
            }
            if !isDir.boolValue { out.append(path); continue }
            guard let e = fm.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: [.isRegularFileKey],
                                        options: [.skipsHiddenFiles]) else {
                throw IngestError.series(path: path, reason: "cannot list directory")
            }
            for case let url as URL in e {
                if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { out.append(url.path) }
            }
        }
        return Array(Set(out)).sorted()
    }

    /// Scans `paths`: reads every file's header, groups by SeriesInstanceUID, keeps CT image
    /// series and validates them. A file that cannot be read is reported and skipped; when
    /// all the readable files in its directory belong to one series, it is also counted as
    /// that series' `unreadableFiles` problem.
    public static func scan(_ paths: [String], options: DiscoveryOptions = DiscoveryOptions()) throws -> SeriesDiscovery {
        let files = try files(under: paths)
        var instances: [DicomInstance] = []
        var unreadable: [FileIssue] = []
        for path in files {
            do {
                let inst = try DicomInstance(path: path)
                if inst.seriesInstanceUID == nil || (inst.sopClassUID == nil && inst.modality == nil) {
                    unreadable.append(FileIssue(path: path, reason: "not a DICOM object (no SOPClassUID or SeriesInstanceUID)"))
                    continue
                }
                instances.append(inst)
            } catch let e as IngestError {
                unreadable.append(FileIssue(path: path, reason: Self.reason(e)))
            }
        }
        return assemble(roots: paths, fileCount: files.count, instances: instances, unreadable: unreadable, options: options)
    }

    static func reason(_ e: IngestError) -> String {
        switch e {
        case let .unreadable(_, reason), let .missingData(_, reason), let .unsupportedPixelData(_, reason),
             let .unsupportedTransferSyntax(_, _, reason), let .series(_, reason), let .writeFailed(_, reason):
            return reason
        default:
            return e.description
        }
    }

    /// Groups instances into series (see `scan`).
    public static func assemble(roots: [String], fileCount: Int, instances: [DicomInstance], unreadable: [FileIssue],
                                options: DiscoveryOptions = DiscoveryOptions()) -> SeriesDiscovery {
        let groups = Dictionary(grouping: instances) { $0.seriesInstanceUID ?? "" }
        // Directories whose readable files all belong to one series: unreadable files there are that series'
        // (used only if it turns out to be a CT series).
        var seriesByDirectory: [String: Set<String>] = [:]
        var classified: [String: [(DicomInstance, Classification)]] = [:]
        for (uid, insts) in groups {
            let c = insts.map { ($0, classify($0, options: options)) }
            classified[uid] = c
            for inst in insts {
                seriesByDirectory[(inst.path as NSString).deletingLastPathComponent, default: []].insert(uid)
            }
        }
        var unreadableBySeries: [String: [FileIssue]] = [:]
        for issue in unreadable {
            let dir = (issue.path as NSString).deletingLastPathComponent
            if let set = seriesByDirectory[dir], set.count == 1, let uid = set.first, !uid.isEmpty {
                unreadableBySeries[uid, default: []].append(issue)
            }
        }

        var series: [DicomSeries] = []
        var skipped: [SkippedSeries] = []
        for (uid, items) in classified {
            let kept = items.filter { $0.1 == .ctImage }.map(\.0)
            let excluded: [FileIssue] = items.compactMap { item in
                if case .skipped(let reason) = item.1 { return FileIssue(path: item.0.path, reason: reason) }
                return nil
            }
            if kept.isEmpty {
                let counts = Dictionary(grouping: excluded, by: \.reason)
                let reason = counts.max { a, b in a.value.count != b.value.count ? a.value.count < b.value.count : a.key > b.key }!.key
                let first = items.map(\.0).min { $0.path < $1.path }!
                skipped.append(SkippedSeries(seriesInstanceUID: uid, modality: first.modality,
                                             sopClass: SOPClass.describe(first.sopClassUID),
                                             seriesDescription: first.seriesDescription, fileCount: items.count,
                                             reason: reason, path: first.path))
            } else {
                series.append(DicomSeries(seriesInstanceUID: uid, instances: kept, excluded: excluded,
                                          unreadable: unreadableBySeries[uid] ?? [], options: options))
            }
        }
        series.sort { a, b in
            let ka = [a.metadata.patientID ?? "", a.metadata.studyInstanceUID ?? ""]
            let kb = [b.metadata.patientID ?? "", b.metadata.studyInstanceUID ?? ""]
            if ka != kb { return ka.lexicographicallyPrecedes(kb) }
            if a.metadata.seriesNumber != b.metadata.seriesNumber { return (a.metadata.seriesNumber ?? Int.max) < (b.metadata.seriesNumber ?? Int.max) }
            return a.seriesInstanceUID < b.seriesInstanceUID
        }
        skipped.sort { $0.path < $1.path }
        return SeriesDiscovery(roots: roots, series: series, skipped: skipped,
                               unreadable: unreadable.sorted { $0.path < $1.path }, fileCount: fileCount)
    }
}
