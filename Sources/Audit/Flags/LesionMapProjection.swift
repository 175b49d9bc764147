import Foundation

/// Maps a lesion map (`S x S` over the crop box, the `H3 x W3` grid) back into the slice's
/// original geometry.
enum LesionMapProjection {
    /// The map value at original pixel `(row, col)`: bilinear over the map with half-pixel
    /// centres (`y = (row - row0 + 0.5) * S / H - 0.5`, clamped to the map), the way the crop
    /// was resized; 0 outside the crop box.
    static func value(_ map: [Float], size s: Int, box: CropBox, row: Int, col: Int) -> Float {
        guard s > 0, map.count == s * s, row >= box.row0, row <= box.row1, col >= box.col0, col <= box.col1 else { return 0 }
        let y = min(max((Double(row - box.row0) + 0.5) * Double(s) / Double(box.height) - 0.5, 0), Double(s - 1))
        let x = min(max((Double(col - box.col0) + 0.5) * Double(s) / Double(box.width) - 0.5, 0), Double(s - 1))
        let y0 = Int(y), x0 = Int(x)
        let y1 = min(y0 + 1, s - 1), x1 = min(x0 + 1, s - 1)
        let fy = Float(y - Double(y0)), fx = Float(x - Double(x0))
        let top = map[y0 * s + x0] * (1 - fx) + map[y0 * s + x1] * fx
        let bottom = map[y1 * s + x0] * (1 - fx) + map[y1 * s + x1] * fx
        return top * (1 - fy) + bottom * fy
    }

    /// The whole slice (`rows * cols`), 0 outside the crop box.
    static func project(_ map: [Float], size: Int, box: CropBox, rows: Int, cols: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        guard size > 0, map.count == size * size else { return out }
        for r in max(0, box.row0)...min(rows - 1, box.row1) {
            for c in max(0, box.col0)...min(cols - 1, box.col1) {
                out[r * cols + c] = value(map, size: size, box: box, row: r, col: c)
            }
        }
        return out
    }
}
