import Foundation

/// The HU voxels of one series, slices in series order: `hu[(k * rows + r) * columns + c]`.
public struct HUVolume: Sendable {
    public var seriesInstanceUID: String
    public var rows: Int
    public var columns: Int
    /// The slices that were decoded, in order (a subset of the series' slices when some
    /// files could not be decoded).
    public var slices: [DicomSeries.Slice]
    public var hu: [Float]
    /// Slices that failed to decode and were skipped.
    public var skipped: [FileIssue]

    public var count: Int { slices.count }
}

/// Decodes a series' pixels, one file at a time, never more than one series in memory.
public enum SeriesReader {
    /// Decodes each slice of a usable series in order and hands its HU (rows x columns,
    /// row-major) to `body` with its index among the decoded slices. A slice that fails to
    /// decode, or whose size differs from the series', is reported in the returned list and
    /// skipped; if none decodes, throws.
    @discardableResult
    public static func forEachSlice(of series: DicomSeries,
                                    _ body: (_ index: Int, _ slice: DicomSeries.Slice, _ hu: UnsafeBufferPointer<Float>) throws -> Void) throws -> [FileIssue] {
        guard series.isUsable, let geometry = series.geometry else {
            throw IngestError.series(path: series.directory, reason: "series \(series.seriesInstanceUID) is not usable: \(series.blockingMessages.joined(separator: "; "))")
        }
        let n = geometry.rows * geometry.columns
        var buffer = [Float](repeating: 0, count: n)
        var skipped: [FileIssue] = []
        var index = 0
        for slice in series.slices {
            do {
                let file = try DicomFile(path: slice.path)
                let info = try file.pixelInfo()
                guard info.rows == geometry.rows, info.columns == geometry.columns else {
                    throw IngestError.missingData(path: slice.path, reason: "image is \(info.rows)x\(info.columns), series is \(geometry.rows)x\(geometry.columns)")
                }
                try buffer.withUnsafeMutableBufferPointer { try file.decodeHU(frame: 0, into: $0) }
            } catch let e as IngestError {
                skipped.append(FileIssue(path: slice.path, reason: SeriesDiscovery.reason(e)))
                continue
            }
            try buffer.withUnsafeBufferPointer { try body(index, slice, $0) }
            index += 1
        }
        if index == 0 {
            throw IngestError.series(path: series.directory, reason: "no slice of series \(series.seriesInstanceUID) could be decoded: \(skipped.first?.reason ?? "no slices")")
        }
        return skipped
    }

    /// Reads a whole usable series into memory (see `forEachSlice`).
    public static func readVolume(_ series: DicomSeries) throws -> HUVolume {
        guard let g = series.geometry else {
            throw IngestError.series(path: series.directory, reason: "series \(series.seriesInstanceUID) has no geometry")
        }
        let n = g.rows * g.columns
        var hu: [Float] = []
        hu.reserveCapacity(n * series.slices.count)
        var slices: [DicomSeries.Slice] = []
        let skipped = try forEachSlice(of: series) { _, slice, buf in
            hu.append(contentsOf: buf)
            slices.append(slice)
        }
        return HUVolume(seriesInstanceUID: series.seriesInstanceUID, rows: g.rows, columns: g.columns,
                        slices: slices, hu: hu, skipped: skipped)
    }
}
