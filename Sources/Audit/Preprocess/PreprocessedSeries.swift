import Foundation
import Model

/// A series after spec section 1 steps 1-7: resized HU slices, crop boxes and lung statistics.
public struct PreprocessedSeries: Sendable {
    public var seriesInstanceUID: String
    public var settings: PreprocessSettings
    /// The decoded slices, in order.
    public var slices: [DicomSeries.Slice]
    /// `[N, S, S]` row-major.
    public var hu: [Float]
    public var statistics: [LungStatistics]
    /// Slices that failed to decode and were skipped.
    public var skipped: [FileIssue]

    public var count: Int { slices.count }
    public var cropBoxes: [CropBox] { statistics.map(\.cropBox) }
    public var cropFailed: [Bool] { statistics.map(\.cropFailed) }

    /// Decodes and preprocesses `series` slice by slice: only one decoded slice is held at
    /// a time.
    public init(series: DicomSeries, settings: PreprocessSettings) throws {
        guard let g = series.geometry else {
            throw IngestError.series(path: series.directory, reason: "series \(series.seriesInstanceUID) has no geometry")
        }
        let pre = try SlicePreprocessor(settings: settings, rows: g.rows, columns: g.columns)
        let s2 = pre.outputCount
        var hu = [Float](repeating: 0, count: s2 * series.slices.count)
        var stats: [LungStatistics] = []
        var slices: [DicomSeries.Slice] = []
        let skipped = try hu.withUnsafeMutableBufferPointer { out in
            try SeriesReader.forEachSlice(of: series) { index, slice, buf in
                let dst = UnsafeMutableBufferPointer(rebasing: out[index * s2 ..< (index + 1) * s2])
                stats.append(pre.preprocess(buf, into: dst))
                slices.append(slice)
            }
        }
        hu.removeLast(s2 * (series.slices.count - slices.count))
        self.seriesInstanceUID = series.seriesInstanceUID
        self.settings = settings
        self.slices = slices
        self.hu = hu
        self.statistics = stats
        self.skipped = skipped
    }

    /// The safetensors output of `mlung-audit preprocess`: `hu` F32 [N,S,S], `crop_boxes`
    /// I32 [N,4] (inclusive row0, col0, row1, col1) and `crop_failed` U8 [N].
    public func safeTensors() -> SafeTensorsWriter {
        var w = SafeTensorsWriter()
        let s = settings.inputSize
        w.add("hu", shape: [count, s, s], .f32(hu))
        w.add("crop_boxes", shape: [count, 4], .i32(cropBoxes.flatMap { $0.asArray.map(Int32.init) }))
        w.add("crop_failed", shape: [count], .u8(cropFailed.map { $0 ? 1 : 0 }))
        w.metadata = ["series_instance_uid": seriesInstanceUID, "input_size": String(s)]
        return w
    }
}
