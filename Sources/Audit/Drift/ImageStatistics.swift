import Foundation

/// Image statistics of one CT slice in HU, the measured side of acquisition drift.
///
/// Regions (`rows` × `columns`, row-major HU; decoded HU is clamped to [−1024, 3071] and
/// padding reads −1024):
/// - **exterior**: the pixels ≤ −500 HU connected (4-neighbours) to the image border: the air
///   around the patient. Everything else is the **body** (lungs included).
/// - **air**: exterior pixels whose (2·3+1)² neighbourhood is all exterior, inside the circle
///   inscribed in the image shrunk by 4 pixels (outside it lies the scanner's padding).
/// - **tissue**: body pixels > −500 HU whose (2·3+1)² neighbourhood is all body.
///
/// Measures:
/// - `air`: median HU of the air region (outside-air calibration landmark, ideally −1000);
/// - `fat`: median HU of tissue pixels in [−190, −30] (at least 30 of them);
/// - `lung`: median HU of body pixels in [−1024, −500] (the lungs and airways; at least 30);
/// - `noise`: Immerkær's (1996) noise estimate made robust: the response L of the 3 × 3 mask
///   [[1, −2, 1], [−2, 4, −2], [1, −2, 1]] at tissue pixels whose 3 × 3 neighbourhood is tissue;
///   for white noise of SD σ, Var L = 36σ², so noise = 1.4826 · median |L| / 6 (HU);
/// - `edgeWidth`: the 10–90% rise distance (mm) of the skin edge. In each row, from either side,
///   the first body pixel c with HU > −500 is the edge; the air level is the mean of the 4
///   pixels 3–6 outside it, the tissue level the mean of the 4 pixels 3–6 inside; where the
///   step exceeds 400 HU, the positions where the profile first crosses 10% and 90% of the step
///   are interpolated linearly. The slice's value is the median over rows and sides.
public struct SliceImageStatistics: Codable, Equatable, Sendable {
    public var air: Double?
    public var fat: Double?
    public var lung: Double?
    public var noise: Double?
    public var edgeWidth: Double?

    static let erosion = 3

    public init(hu: UnsafeBufferPointer<Float>, rows: Int, columns: Int, pixelSpacing: Double) {
        let n = rows * columns
        precondition(hu.count == n, "slice has \(hu.count) values, expected \(n)")
        // Exterior flood fill from the border.
        var exterior = [UInt8](repeating: 0, count: n)
        var stack: [Int] = []
        func seed(_ i: Int) { if exterior[i] == 0 && hu[i] <= -500 { exterior[i] = 1; stack.append(i) } }
        for c in 0..<columns { seed(c); seed((rows - 1) * columns + c) }
        for r in 0..<rows { seed(r * columns); seed(r * columns + columns - 1) }
        while let i = stack.popLast() {
            let r = i / columns, c = i % columns
            if r > 0 { seed(i - columns) }
            if r < rows - 1 { seed(i + columns) }
            if c > 0 { seed(i - 1) }
            if c < columns - 1 { seed(i + 1) }
        }
        let body = exterior.map { $0 == 0 ? UInt8(1) : 0 }
        let airCore = Self.erode(exterior, rows: rows, columns: columns, radius: Self.erosion)
        let bodyCore = Self.erode(body, rows: rows, columns: columns, radius: Self.erosion)
        let cy = Double(rows - 1) / 2, cx = Double(columns - 1) / 2
        let radius = Double(min(rows, columns)) / 2 - 4
        var air: [Double] = [], fat: [Double] = [], lung: [Double] = []
        var tissue = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            let v = Double(hu[i])
            let r = Double(i / columns) - cy, c = Double(i % columns) - cx
            if airCore[i] != 0 && r * r + c * c <= radius * radius { air.append(v) }
            if body[i] != 0 && v <= -500 { lung.append(v) }
            if bodyCore[i] != 0 && v > -500 {
                tissue[i] = 1
                if v >= -190 && v <= -30 { fat.append(v) }
            }
        }
        self.air = Self.median(air, minimum: 30)
        self.fat = Self.median(fat, minimum: 30)
        self.lung = Self.median(lung, minimum: 30)
        var responses: [Double] = []
        if rows >= 3 && columns >= 3 {
            for r in 1..<(rows - 1) {
                for c in 1..<(columns - 1) {
                    var all = true
                    for dr in -1...1 { for dc in -1...1 where tissue[(r + dr) * columns + c + dc] == 0 { all = false } }
                    guard all else { continue }
                    let h = { (dr: Int, dc: Int) in Double(hu[(r + dr) * columns + c + dc]) }
                    let l = h(-1, -1) - 2 * h(-1, 0) + h(-1, 1) - 2 * h(0, -1) + 4 * h(0, 0) - 2 * h(0, 1)
                        + h(1, -1) - 2 * h(1, 0) + h(1, 1)
                    responses.append(abs(l))
                }
            }
        }
        noise = Self.median(responses, minimum: 30).map { 1.4826 * $0 / 6 }
        var widths: [Double] = []
        for r in 0..<rows {
            let base = r * columns
            for direction in [1, -1] {
                var c = direction == 1 ? 0 : columns - 1
                while c >= 0 && c < columns && !(body[base + c] != 0 && hu[base + c] > -500) { c += direction }
                guard c - 6 * direction >= 0, c - 6 * direction < columns, c + 6 * direction >= 0, c + 6 * direction < columns else { continue }
                let at = { (k: Int) in Double(hu[base + c + k * direction]) }
                let low = (3...6).map { at(-$0) }.reduce(0, +) / 4
                let high = (3...6).map { at($0) }.reduce(0, +) / 4
                guard high - low > 400 else { continue }
                func crossing(_ level: Double) -> Double? {
                    for k in -6..<6 {
                        let a = at(k), b = at(k + 1)
                        if a < level && b >= level { return Double(k) + (level - a) / (b - a) }
                    }
                    return nil
                }
                if let x10 = crossing(low + 0.1 * (high - low)), let x90 = crossing(low + 0.9 * (high - low)), x90 >= x10 {
                    widths.append((x90 - x10) * pixelSpacing)
                }
            }
        }
        edgeWidth = Self.median(widths, minimum: 3)
    }

    static func median(_ v: [Double], minimum: Int) -> Double? {
        guard v.count >= minimum else { return nil }
        return Bootstrap.quantile(sorted: v.sorted(), 0.5)
    }

    /// Binary erosion with a (2r+1)² square: a separable running minimum over rows then columns.
    static func erode(_ m: [UInt8], rows: Int, columns: Int, radius r: Int) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: m.count)
        for row in 0..<rows {
            for c in 0..<columns {
                var ok: UInt8 = 1
                for k in (c - r)...(c + r) where k < 0 || k >= columns || m[row * columns + k] == 0 { ok = 0; break }
                h[row * columns + c] = ok
            }
        }
        var out = [UInt8](repeating: 0, count: m.count)
        for row in 0..<rows {
            for c in 0..<columns {
                var ok: UInt8 = 1
                for k in (row - r)...(row + r) where k < 0 || k >= rows || h[k * columns + c] == 0 { ok = 0; break }
                out[row * columns + c] = ok
            }
        }
        return out
    }
}
