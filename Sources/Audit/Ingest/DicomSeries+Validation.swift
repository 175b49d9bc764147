import Foundation

extension DicomSeries {
    /// Builds a series from its CT image instances: orders the slices along the normal and
    /// validates the geometry.
    ///
    /// - Parameters:
    ///   - instances: the qualifying instances (at least one) sharing `seriesInstanceUID`.
    ///   - excluded: files with this SeriesInstanceUID that were not kept, with the reason.
    ///   - unreadable: files attributed to this series that could not be read.
    public init(seriesInstanceUID: String, instances: [DicomInstance], excluded: [FileIssue] = [],
                unreadable: [FileIssue] = [], options: DiscoveryOptions = DiscoveryOptions()) {
        precondition(!instances.isEmpty, "a series needs at least one instance")
        var problems: [SeriesProblem] = []

        // The same SOP instance twice (a copied file): keep the first path.
        var seen = Set<String>()
        var unique: [DicomInstance] = []
        var duplicates: [String] = []
        for inst in instances.sorted(by: { $0.path < $1.path }) {
            if let uid = inst.sopInstanceUID {
                if seen.contains(uid) { duplicates.append(inst.path); continue }
                seen.insert(uid)
            }
            unique.append(inst)
        }
        if !duplicates.isEmpty {
            problems.append(SeriesProblem(.duplicateInstances,
                "\(duplicates.count) file(s) repeat an SOPInstanceUID already seen; ignored",
                blocking: false, paths: duplicates))
        }

        // Reference orientation: the most common one.
        func key(_ o: [Double]) -> [Double] { o.map { ($0 * 1e4).rounded() / 1e4 } }
        var orientationCounts: [[Double]: Int] = [:]
        for inst in unique { if let o = inst.imageOrientation { orientationCounts[key(o), default: 0] += 1 } }
        let reference = orientationCounts.max { a, b in a.value != b.value ? a.value < b.value : a.key.lexicographicallyPrecedes(b.key) }?.key
        var normal: [Double]? = nil
        if let o = reference {
            let n = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]]
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).squareRoot()
            if len > 1e-6 { normal = n.map { $0 / len } }
        }

        var slices: [Slice] = unique.map { inst in
            var pos: Double? = nil
            if let p = inst.imagePosition, let n = normal { pos = p[0] * n[0] + p[1] * n[1] + p[2] * n[2] }
            return Slice(path: inst.path, sopInstanceUID: inst.sopInstanceUID, instanceNumber: inst.instanceNumber,
                         position: pos, transferSyntaxUID: inst.transferSyntaxUID)
        }
        let missingGeometry = slices.filter { $0.position == nil }.map(\.path)
        slices.sort { a, b in
            switch (a.position, b.position) {
            case let (x?, y?) where x != y: return x < y
            case (nil, _?): return false
            case (_?, nil): return true
            default:
                if a.instanceNumber != b.instanceNumber { return (a.instanceNumber ?? Int.max) < (b.instanceNumber ?? Int.max) }
                return a.path < b.path
            }
        }
        if normal == nil || !missingGeometry.isEmpty {
            problems.append(SeriesProblem(.missingGeometry,
                normal == nil ? "no valid ImageOrientationPatient: slices cannot be ordered"
                              : "\(missingGeometry.count) slice(s) without ImagePositionPatient: slices cannot be ordered",
                blocking: true, paths: missingGeometry))
        }

        // Sizes.
        var sizes: [String: Int] = [:]
        for inst in unique { sizes["\(inst.rows ?? 0)x\(inst.columns ?? 0)", default: 0] += 1 }
        if sizes.count > 1 {
            let list = sizes.sorted { $0.value > $1.value }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
            problems.append(SeriesProblem(.mixedSizes, "mixed image sizes: \(list)", blocking: true))
        }

        // Orientations.
        if let ref = reference {
            let off = unique.filter { inst in
                guard let o = inst.imageOrientation else { return false }
                return zip(o, ref).contains { abs($0 - $1) > options.orientationTolerance }
            }.map(\.path)
            if !off.isEmpty {
                problems.append(SeriesProblem(.mixedOrientations,
                    "\(off.count) slice(s) have an ImageOrientationPatient different from the series' \(ref.map { String(format: "%.3g", $0) }.joined(separator: "\\"))",
                    blocking: true, paths: off))
            }
        }
        if let n = normal, abs(n[2]) < options.axialCosine {
            problems.append(SeriesProblem(.nonAxial,
                String(format: "not axial: slice normal (%.3f, %.3f, %.3f) is more than 30 degrees from the patient's z axis", n[0], n[1], n[2]),
                blocking: true))
        }

        // Positions: duplicates and gaps.
        let positions = slices.compactMap(\.position)
        var spacings: [Double] = []
        var duplicatePaths: [String] = []
        if positions.count == slices.count && positions.count >= 2 {
            for i in 1..<positions.count {
                let d = positions[i] - positions[i - 1]
                if d < options.duplicateTolerance { duplicatePaths.append(slices[i].path) } else { spacings.append(d) }
            }
        }
        if !duplicatePaths.isEmpty {
            problems.append(SeriesProblem(.duplicatePositions,
                "\(duplicatePaths.count) slice(s) share a position with another slice (two stacks in one series?)",
                blocking: true, paths: duplicatePaths))
        }
        var median: Double? = nil
        if !spacings.isEmpty {
            let sorted = spacings.sorted()
            median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        if let m = median {
            let gaps = spacings.filter { $0 > options.gapFactor * m }
            if !gaps.isEmpty {
                problems.append(SeriesProblem(.gaps,
                    String(format: "%d gap(s) over %.2gx the median spacing %.3g mm (largest %.3g mm): missing slices?",
                           gaps.count, options.gapFactor, m, gaps.max()!),
                    blocking: false))
            }
        }

        if slices.count < options.minimumSlices {
            problems.append(SeriesProblem(.tooFewSlices,
                "\(slices.count) slice(s), fewer than the \(options.minimumSlices) the model needs", blocking: true))
        }
        let undecodable = Dictionary(grouping: unique.filter { !$0.decodable }, by: \.transferSyntaxUID)
        for (uid, insts) in undecodable.sorted(by: { $0.key < $1.key }) {
            let name = insts[0].transferSyntaxName
            problems.append(SeriesProblem(.unsupportedTransferSyntax,
                "\(insts.count) slice(s) use transfer syntax \(name) (\(uid)), which DCMTK cannot decode here",
                blocking: true, paths: insts.map(\.path)))
        }
        let multiFrame = unique.filter { $0.numberOfFrames > 1 }.map(\.path)
        if !multiFrame.isEmpty {
            problems.append(SeriesProblem(.multiFrame, "\(multiFrame.count) multi-frame file(s) in a CT Image series",
                                          blocking: true, paths: multiFrame))
        }
        if !unreadable.isEmpty {
            problems.append(SeriesProblem(.unreadableFiles,
                "\(unreadable.count) unreadable file(s) skipped: \(unreadable[0].reason)",
                blocking: false, paths: unreadable.map(\.path)))
        }
        if !excluded.isEmpty {
            let reasons = Dictionary(grouping: excluded, by: \.reason).map { "\($0.value.count) \($0.key)" }.sorted()
            problems.append(SeriesProblem(.excludedObjects,
                "\(excluded.count) file(s) of this series excluded: \(reasons.joined(separator: "; "))",
                blocking: false, paths: excluded.map(\.path)))
        }

        let firstPath = slices.first?.path
        let first = unique.first { $0.path == firstPath } ?? unique[0]
        let metadata = SeriesMetadata(
            patientID: first.patientID, patientName: first.patientName, studyInstanceUID: first.studyInstanceUID,
            studyDate: first.studyDate, studyDescription: first.studyDescription,
            seriesInstanceUID: seriesInstanceUID, seriesNumber: first.seriesNumber,
            seriesDescription: first.seriesDescription, modality: first.modality, imageType: first.imageType,
            manufacturer: first.manufacturer, manufacturerModelName: first.manufacturerModelName,
            convolutionKernel: first.convolutionKernel, sliceThickness: first.sliceThickness,
            pixelSpacing: first.pixelSpacing, kvp: first.kvp, exposure: first.exposure,
            xRayTubeCurrent: first.xRayTubeCurrent, acquisitionDate: first.acquisitionDate,
            bodyPartExamined: first.bodyPartExamined,
            transferSyntaxes: Array(Set(unique.map(\.transferSyntaxUID))).sorted())

        var geometry: SeriesGeometry? = nil
        if let ref = reference, let n = normal, let rows = first.rows, let cols = first.columns {
            geometry = SeriesGeometry(rows: rows, columns: cols, orientation: ref, normal: n, medianSpacing: median,
                                      extent: (positions.last ?? 0) - (positions.first ?? 0))
        }
        self.init(seriesInstanceUID: seriesInstanceUID, metadata: metadata, slices: slices, geometry: geometry,
                  problems: problems, excluded: excluded)
    }
}
