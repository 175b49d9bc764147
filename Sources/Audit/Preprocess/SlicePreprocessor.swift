/// An inclusive crop box `[row0, col0, row1, col1]` (spec section 1 step 6).
public struct CropBox: Sendable, Codable, Equatable, CustomStringConvertible {
    public var row0: Int
    public var col0: Int
    public var row1: Int
    public var col1: Int

    public init(row0: Int, col0: Int, row1: Int, col1: Int) {
        self.row0 = row0
        self.col0 = col0
        self.row1 = row1
        self.col1 = col1
    }

    public var asArray: [Int] { [row0, col0, row1, col1] }
    public var height: Int { row1 - row0 + 1 }
    public var width: Int { col1 - col0 + 1 }
    public var description: String { "[\(row0), \(col0), \(row1), \(col1)]" }
}

/// What the lung mask of one slice looked like: the failure-mode flags use it.
public struct LungStatistics: Sendable, Codable, Equatable {
    /// Pixels of the final mask (after the second opening).
    public var lungArea: Int
    /// Mask pixels in image columns `0 ..< cols / 2` (the patient's right lung in the usual
    /// radiological display) and in `cols / 2 ..< cols`.
    public var leftHalfArea: Int
    public var rightHalfArea: Int
    /// Fraction of the slice covered by the mask.
    public var lungFraction: Double
    public var cropBox: CropBox
    /// No mask pixel remained: the box is the whole image.
    public var cropFailed: Bool
}

/// Spec section 1, steps 2-7, on one HU slice. Holds scratch buffers sized for one slice
/// shape; reuse one instance per thread for a series.
public final class SlicePreprocessor {
    public let settings: PreprocessSettings
    public let rows: Int
    public let columns: Int
    private var mask: [UInt8]
    private var scratch: [UInt8]
    private var runs = Morphology.RunBuffers()

    public init(settings: PreprocessSettings, rows: Int, columns: Int) throws {
        try settings.validate()
        guard rows >= 1, columns >= 1 else { throw IngestError.invalidArgument(reason: "slice size \(rows)x\(columns)") }
        self.settings = settings
        self.rows = rows
        self.columns = columns
        let n = rows * columns
        mask = [UInt8](repeating: 0, count: n)
        scratch = [UInt8](repeating: 0, count: n)
    }

    /// Number of output values per slice, `inputSize * inputSize`.
    public var outputCount: Int { settings.inputSize * settings.inputSize }

    /// Computes the final lung mask of `hu` (steps 2-5) into the internal buffer and returns
    /// the statistics and crop box (step 6).
    public func lungStatistics(_ hu: UnsafeBufferPointer<Float>) -> LungStatistics {
        precondition(hu.count == rows * columns, "slice has \(hu.count) values, expected \(rows * columns)")
        let rows = self.rows, cols = self.columns, n = rows * cols
        let threshold = settings.lungThresholdHU, k = settings.openingKernel
        let minSize = settings.minComponentFraction * Double(rows) * Double(cols)
        return mask.withUnsafeMutableBufferPointer { m in
            scratch.withUnsafeMutableBufferPointer { s in
                for i in 0..<n {
                    // Step 1's clamp is a no-op on decoder output; the comparison is unaffected by it.
                    m[i] = hu[i] < threshold ? 1 : 0
                }
                Morphology.open(m, rows: rows, cols: cols, k: k, scratch: s)
                Morphology.keepInteriorComponents(m, rows: rows, cols: cols, minSize: minSize, runs: &runs)
                Morphology.open(m, rows: rows, cols: cols, k: k, scratch: s)
                return Self.statistics(UnsafeBufferPointer(m), rows: rows, cols: cols, margin: settings.cropMargin)
            }
        }
    }

    static func statistics(_ m: UnsafeBufferPointer<UInt8>, rows: Int, cols: Int, margin: Int) -> LungStatistics {
        var minR = Int.max, maxR = -1, minC = Int.max, maxC = -1
        var left = 0, right = 0
        let half = cols / 2
        for r in 0..<rows {
            let base = r * cols
            var rowCount = 0
            for c in 0..<cols where m[base + c] != 0 {
                rowCount += 1
                if c < minC { minC = c }
                if c > maxC { maxC = c }
                if c < half { left += 1 } else { right += 1 }
            }
            if rowCount > 0 {
                if r < minR { minR = r }
                maxR = r
            }
        }
        let area = left + right
        let box: CropBox
        if area == 0 {
            box = CropBox(row0: 0, col0: 0, row1: rows - 1, col1: cols - 1)
        } else {
            box = CropBox(row0: max(minR - margin, 0), col0: max(minC - margin, 0),
                          row1: min(maxR + margin, rows - 1), col1: min(maxC + margin, cols - 1))
        }
        return LungStatistics(lungArea: area, leftHalfArea: left, rightHalfArea: right,
                              lungFraction: Double(area) / Double(rows * cols), cropBox: box, cropFailed: area == 0)
    }

    /// Steps 2-7: lung mask, crop box, and the cropped HU resized to `S x S` into `out`
    /// (`S * S` values, row-major). Returns the statistics.
    @discardableResult
    public func preprocess(_ hu: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) -> LungStatistics {
        precondition(out.count >= outputCount, "output holds \(out.count) values, need \(outputCount)")
        let stats = lungStatistics(hu)
        let b = stats.cropBox
        BilinearResize.resize(hu, srcCols: columns, row0: b.row0, col0: b.col0, row1: b.row1, col1: b.col1,
                              outSize: settings.inputSize, into: out)
        return stats
    }

    /// Steps 2-7 on an array; returns the resized slice and the statistics.
    public func preprocess(_ hu: [Float]) throws -> (resized: [Float], statistics: LungStatistics) {
        guard hu.count == rows * columns else {
            throw IngestError.invalidArgument(reason: "slice has \(hu.count) values, expected \(rows)x\(columns)")
        }
        var out = [Float](repeating: 0, count: outputCount)
        let stats = hu.withUnsafeBufferPointer { h in out.withUnsafeMutableBufferPointer { preprocess(h, into: $0) } }
        return (out, stats)
    }
}
