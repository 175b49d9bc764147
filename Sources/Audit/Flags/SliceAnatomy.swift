import Foundation

/// What one HU slice shows, found without a segmentation model: outside air, body, the spec's
/// lung mask split into the patient's right and left lung, the lung envelope, the spine's front
/// and the heart (failure-modes.md, "Pulsatile", step 1).
public struct SliceAnatomy: Sendable {
    static let none: UInt8 = 0, rightLung: UInt8 = 1, leftLung: UInt8 = 2

    let rows: Int
    let cols: Int
    /// Per pixel: 0, `rightLung` or `leftLung` (the spec's final lung mask).
    var lung: [UInt8]
    /// Pixels connected to the image border through air (HU < -400).
    var outside: [Bool]
    /// Per lung, its mask closed by `envelopeMM`: the lung with its vessels and dense disease
    /// (which the threshold mask leaves out).
    var envelope: [UInt8]
    /// The heart (largest soft-tissue region between the lungs, in front of the spine), if found.
    var heart: [Bool]
    public internal(set) var heartArea: Int
    /// Row of the spine's front edge (nil when no bone is found near the midline).
    var spineFrontRow: Int?
    /// Column of the body's centroid.
    var midColumn: Double
    /// Share of the image's anterior border row that is outside air: all of it when the field of
    /// view holds the body. Well under that (`FlagConfig.FieldOfView`), the chest wall reaches the
    /// image's front edge: the field of view lies inside the body, and what touches the image's
    /// sides through air is lung, not outside air. (The sides cannot tell: lung there is air too.)
    var anteriorAirShare: Double
    var lungArea: Int { lung.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    /// Analyses one slice. `leftIsHighColumn` / `posteriorIsHighRow` come from the DICOM orientation.
    init(hu: [Float], rows: Int, cols: Int, rowMM: Double, colMM: Double, settings: PreprocessSettings,
         leftIsHighColumn: Bool, posteriorIsHighRow: Bool, config: FlagConfig.Pulsatile) {
        self.rows = rows
        self.cols = cols
        let n = rows * cols
        // The spec's lung mask (docs/ingestion.md, steps 2-5).
        var mask = [UInt8](repeating: 0, count: n)
        var scratch = [UInt8](repeating: 0, count: n)
        var runs = Morphology.RunBuffers()
        let threshold = settings.lungThresholdHU
        for i in 0..<n { mask[i] = hu[i] < threshold ? 1 : 0 }
        mask.withUnsafeMutableBufferPointer { m in
            scratch.withUnsafeMutableBufferPointer { s in
                Morphology.open(m, rows: rows, cols: cols, k: settings.openingKernel, scratch: s)
                Morphology.keepInteriorComponents(m, rows: rows, cols: cols,
                                                  minSize: settings.minComponentFraction * Double(rows) * Double(cols), runs: &runs)
                Morphology.open(m, rows: rows, cols: cols, k: settings.openingKernel, scratch: s)
            }
        }
        // Outside air: flood fill from the border over HU < -400.
        var outside = [Bool](repeating: false, count: n)
        var stack: [Int] = []
        for r in 0..<rows { stack.append(r * cols); stack.append(r * cols + cols - 1) }
        for c in 0..<cols { stack.append(c); stack.append((rows - 1) * cols + c) }
        while let i = stack.popLast() {
            if outside[i] || hu[i] >= -400 { continue }
            outside[i] = true
            let r = i / cols, c = i % cols
            if r > 0 { stack.append(i - cols) }
            if r < rows - 1 { stack.append(i + cols) }
            if c > 0 { stack.append(i - 1) }
            if c < cols - 1 { stack.append(i + 1) }
        }
        self.outside = outside
        let front = posteriorIsHighRow ? 0 : rows - 1
        anteriorAirShare = Double((0..<cols).filter { outside[front * cols + $0] }.count) / Double(max(1, cols))
        var bodyCount = 0.0, bodySum = 0.0
        for i in 0..<n where !outside[i] { bodyCount += 1; bodySum += Double(i % cols) }
        midColumn = bodyCount > 0 ? bodySum / bodyCount : Double(cols) / 2

        // Lungs: the two largest 8-connected components, sided by their centroid column.
        let (labels, sizes) = Self.components(mask.map { $0 != 0 }, rows: rows, cols: cols, eight: true)
        var order = sizes.indices.sorted { sizes[$0].count > sizes[$1].count }
        order = Array(order.prefix(2))
        // A second component under a fifth of the first (trachea, a lung tip) means the lungs touch.
        if order.count == 2 && sizes[order[1]].count * 5 < sizes[order[0]].count { order = [order[0]] }
        var lung = [UInt8](repeating: 0, count: n)
        if order.count == 2 {
            let c0 = sizes[order[0]].columnSum / Double(max(1, sizes[order[0]].count))
            let c1 = sizes[order[1]].columnSum / Double(max(1, sizes[order[1]].count))
            let highIs0 = c0 > c1
            for i in 0..<n where labels[i] > 0 {
                let l = Int(labels[i]) - 1
                guard l == order[0] || l == order[1] else { continue }
                let isHigh = (l == order[0]) == highIs0
                lung[i] = (isHigh == leftIsHighColumn) ? Self.leftLung : Self.rightLung
            }
        } else if order.count == 1 {
            // One component (lungs touching, or one lung): split at the body's midline.
            for i in 0..<n where labels[i] > 0 && Int(labels[i]) - 1 == order[0] {
                let isHigh = Double(i % cols) >= midColumn
                lung[i] = (isHigh == leftIsHighColumn) ? Self.leftLung : Self.rightLung
            }
        }
        self.lung = lung

        // Envelope: each lung closed (dilated, then eroded) by a square of `envelopeMM`, which
        // fills vessels and dense lesions inside the lung without bridging to the mediastinum or
        // filling the concavity over the diaphragm.
        var envelope = [UInt8](repeating: 0, count: n)
        let k = max(1, Int((config.envelopeMM / ((rowMM + colMM) / 2)).rounded()))
        for side in [Self.rightLung, Self.leftLung] {
            let grown = Self.dilate(lung.map { $0 == side }, rows: rows, cols: cols, by: k)
            let closed = Self.dilate(grown.map { !$0 }, rows: rows, cols: cols, by: k)
            for i in 0..<n where !closed[i] && envelope[i] == 0 && !outside[i] { envelope[i] = side }
        }
        self.envelope = envelope

        // Spine front: the most anterior bone row near the midline in the posterior half of the body.
        var bodyRowLo = rows, bodyRowHi = -1
        for i in 0..<n where !outside[i] { bodyRowLo = min(bodyRowLo, i / cols); bodyRowHi = max(bodyRowHi, i / cols) }
        let half = max(1, Int(15 / colMM))
        let mid = Int(midColumn.rounded())
        var spine: Int?
        if bodyRowHi > bodyRowLo {
            let centre = (bodyRowLo + bodyRowHi) / 2
            let rowRange = posteriorIsHighRow ? Array(centre...bodyRowHi) : Array((bodyRowLo...centre).reversed())
            outer: for r in rowRange {
                var bone = 0
                for c in max(0, mid - half)...min(cols - 1, mid + half) where Double(hu[r * cols + c]) >= config.boneMinHU { bone += 1 }
                if bone >= max(3, half / 2) { spine = r; break outer }
            }
        }
        spineFrontRow = spine

        // Heart candidates: soft tissue on each row between the lungs' innermost extent, in front of the spine.
        var candidate = [Bool](repeating: false, count: n)
        let margin = Int(5 / rowMM)
        for r in 0..<rows {
            if let s = spine {
                if posteriorIsHighRow ? r > s - margin : r < s + margin { continue }
            }
            var first = -1, last = -1
            for c in 0..<cols where lung[r * cols + c] != 0 {
                if first < 0 { first = c }
                last = c
            }
            guard first >= 0, last > first else { continue }
            for c in first...last {
                let h = Double(hu[r * cols + c])
                if h >= config.softTissueMinHU && h <= config.softTissueMaxHU { candidate[r * cols + c] = true }
            }
        }
        let (hl, hs) = Self.components(candidate, rows: rows, cols: cols, eight: false)
        var heart = [Bool](repeating: false, count: n)
        var area = 0
        if let best = hs.indices.max(by: { hs[$0].count < hs[$1].count }),
           Double(hs[best].count) * rowMM * colMM >= config.heartMinAreaCM2 * 100 {
            let label = Int32(best + 1)
            for i in 0..<n where hl[i] == label { heart[i] = true }
            area = hs[best].count
        }
        self.heart = heart
        heartArea = area
    }

    struct ComponentSize { var count = 0; var columnSum = 0.0 }

    /// Connected components of `mask` (labels 1...; 0 = background) and their sizes.
    static func components(_ mask: [Bool], rows: Int, cols: Int, eight: Bool) -> ([Int32], [ComponentSize]) {
        var labels = [Int32](repeating: 0, count: mask.count)
        var sizes: [ComponentSize] = []
        var stack: [Int] = []
        for s in 0..<mask.count where mask[s] && labels[s] == 0 {
            let label = Int32(sizes.count + 1)
            var size = ComponentSize()
            labels[s] = label
            stack.append(s)
            while let i = stack.popLast() {
                size.count += 1
                size.columnSum += Double(i % cols)
                let r = i / cols, c = i % cols
                for dr in -1...1 { for dc in -1...1 where (dr != 0 || dc != 0) && (eight || dr == 0 || dc == 0) {
                    let rr = r + dr, cc = c + dc
                    guard rr >= 0, rr < rows, cc >= 0, cc < cols else { continue }
                    let j = rr * cols + cc
                    if mask[j] && labels[j] == 0 { labels[j] = label; stack.append(j) }
                } }
            }
            sizes.append(size)
        }
        return (labels, sizes)
    }

    /// Chamfer (3-4) distance in pixels from the `seeds`, everywhere; `Double.infinity` without seeds.
    static func distance(from seeds: [Bool], rows: Int, cols: Int) -> [Double] {
        let big = 1e9
        var d = seeds.map { $0 ? 0.0 : big }
        for r in 0..<rows { for c in 0..<cols {
            let i = r * cols + c
            var v = d[i]
            if c > 0 { v = min(v, d[i - 1] + 3) }
            if r > 0 {
                v = min(v, d[i - cols] + 3)
                if c > 0 { v = min(v, d[i - cols - 1] + 4) }
                if c < cols - 1 { v = min(v, d[i - cols + 1] + 4) }
            }
            d[i] = v
        } }
        for r in stride(from: rows - 1, through: 0, by: -1) { for c in stride(from: cols - 1, through: 0, by: -1) {
            let i = r * cols + c
            var v = d[i]
            if c < cols - 1 { v = min(v, d[i + 1] + 3) }
            if r < rows - 1 {
                v = min(v, d[i + cols] + 3)
                if c < cols - 1 { v = min(v, d[i + cols + 1] + 4) }
                if c > 0 { v = min(v, d[i + cols - 1] + 4) }
            }
            d[i] = v
        } }
        return d.map { $0 >= big ? .infinity : $0 / 3 }
    }

    /// `mask` grown by a square of half-side `k` pixels.
    static func dilate(_ mask: [Bool], rows: Int, cols: Int, by k: Int) -> [Bool] {
        guard k > 0 else { return mask }
        var h = [Bool](repeating: false, count: mask.count)
        for r in 0..<rows {
            var last = -k - 1
            for c in 0..<cols { if mask[r * cols + c] { last = c }; if c - last <= k { h[r * cols + c] = true } }
            last = cols + k + 1
            for c in stride(from: cols - 1, through: 0, by: -1) { if mask[r * cols + c] { last = c }; if last - c <= k { h[r * cols + c] = true } }
        }
        var v = [Bool](repeating: false, count: mask.count)
        for c in 0..<cols {
            var last = -k - 1
            for r in 0..<rows { if h[r * cols + c] { last = r }; if r - last <= k { v[r * cols + c] = true } }
            last = rows + k + 1
            for r in stride(from: rows - 1, through: 0, by: -1) { if h[r * cols + c] { last = r }; if last - r <= k { v[r * cols + c] = true } }
        }
        return v
    }
}
