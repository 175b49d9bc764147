/// Binary morphology and connected components on row-major `rows x cols` masks of 0/1 bytes.
/// Plain loops over buffers; outside pixels count as false (scipy's `border_value=0`).
enum Morphology {
    /// Window offsets of a k x k square: erosion looks at `[-a, b]`, dilation at `[-b, a]`
    /// (scipy's origin at `k / 2` and its reflected structure for dilation).
    @inline(__always)
    static func offsets(_ k: Int) -> (a: Int, b: Int) { (k / 2, k - 1 - k / 2) }

    /// AND (`all`) or OR of the bytes `src[from + o]` for `o` in `0..<width`, 8 bytes at a
    /// time, into `dst[to ..< to + count]`; the last partial word byte by byte.
    @inline(__always)
    static func combine(_ src: UnsafePointer<UInt8>, from: Int, stride: Int, width: Int, all: Bool,
                        _ dst: UnsafeMutablePointer<UInt8>, to: Int, count: Int) {
        let raw = UnsafeRawPointer(src)
        var x = 0
        while x + 8 <= count {
            var w = raw.loadUnaligned(fromByteOffset: from + x, as: UInt64.self)
            for o in 1..<max(width, 1) {
                let v = raw.loadUnaligned(fromByteOffset: from + x + o * stride, as: UInt64.self)
                w = all ? (w & v) : (w | v)
            }
            UnsafeMutableRawPointer(dst).storeBytes(of: w, toByteOffset: to + x, as: UInt64.self)
            x += 8
        }
        while x < count {
            var w = src[from + x]
            for o in 1..<max(width, 1) {
                let v = src[from + x + o * stride]
                w = all ? (w & v) : (w | v)
            }
            dst[to + x] = w
            x += 1
        }
    }

    /// Along each row: `dst[p] = 1` when the window `[p - before, p + after]` is all ones and
    /// inside the row (`all`), or when any in-row pixel of it is one (`!all`).
    static func horizontal(_ src: UnsafeBufferPointer<UInt8>, _ dst: UnsafeMutableBufferPointer<UInt8>, rows: Int, cols: Int,
                           before: Int, after: Int, all: Bool) {
        let s = src.baseAddress!, d = dst.baseAddress!
        let width = before + after + 1
        // Interior: p in [before, cols - 1 - after], the window lies inside the row.
        let lo = min(before, cols), hi = max(cols - after, lo)
        for r in 0..<rows {
            let base = r * cols
            if hi > lo { combine(s, from: base + lo - before, stride: 1, width: width, all: all, d, to: base + lo, count: hi - lo) }
            // Edges: the window leaves the row (false for erosion, clipped for dilation).
            func edge(_ p: Int) {
                if all { d[base + p] = 0; return }
                var v: UInt8 = 0
                for q in max(p - before, 0)...min(p + after, cols - 1) { v |= s[base + q] }
                d[base + p] = v
            }
            for p in 0..<lo { edge(p) }
            for p in hi..<cols { edge(p) }
        }
    }

    /// Along each column: the same with the window over rows, whole rows at a time.
    static func vertical(_ src: UnsafeBufferPointer<UInt8>, _ dst: UnsafeMutableBufferPointer<UInt8>, rows: Int, cols: Int,
                         before: Int, after: Int, all: Bool) {
        let s = src.baseAddress!, d = dst.baseAddress!
        for i in 0..<rows {
            let r0 = i - before, r1 = i + after
            if all && (r0 < 0 || r1 >= rows) {
                (d + i * cols).initialize(repeating: 0, count: cols)
                continue
            }
            let a = max(r0, 0), b = min(r1, rows - 1)
            combine(s, from: a * cols, stride: cols, width: b - a + 1, all: all, d, to: i * cols, count: cols)
        }
    }

    /// Opening of `mask` in place with a k x k square (erosion then dilation), outside false.
    /// `scratch` has `rows * cols` bytes.
    static func open(_ mask: UnsafeMutableBufferPointer<UInt8>, rows: Int, cols: Int, k: Int,
                     scratch: UnsafeMutableBufferPointer<UInt8>) {
        let (a, b) = offsets(k)
        let m = UnsafeBufferPointer(mask), s = UnsafeBufferPointer(scratch)
        horizontal(m, scratch, rows: rows, cols: cols, before: a, after: b, all: true)
        vertical(s, mask, rows: rows, cols: cols, before: a, after: b, all: true)
        horizontal(m, scratch, rows: rows, cols: cols, before: b, after: a, all: false)
        vertical(s, mask, rows: rows, cols: cols, before: b, after: a, all: false)
    }

    /// Keeps the 8-connected components of `mask` that touch no image border and have at
    /// least `minSize` pixels; clears the others in place.
    ///
    /// Run-based labelling: the runs of ones of each row are joined (union-find) with the
    /// runs of the row above that overlap them or touch them diagonally.
    static func keepInteriorComponents(_ mask: UnsafeMutableBufferPointer<UInt8>, rows: Int, cols: Int, minSize: Double,
                                       runs: inout RunBuffers) {
        runs.reset()
        var prevStart = 0, prevEnd = 0   // run index range of the previous row
        for r in 0..<rows {
            let base = r * cols
            let rowStart = runs.count
            var c = 0
            var p = prevStart
            while c < cols {
                if mask[base + c] == 0 { c += 1; continue }
                let start = c
                while c < cols && mask[base + c] != 0 { c += 1 }
                let end = c - 1
                let id = runs.append(row: r, start: start, end: end)
                // Previous-row runs with start <= end + 1 and end >= start - 1 touch this run.
                while p < prevEnd && runs.end[p] < start - 1 { p += 1 }
                var q = p
                while q < prevEnd && runs.start[q] <= end + 1 {
                    runs.union(id, q)
                    q += 1
                }
            }
            prevStart = rowStart
            prevEnd = runs.count
        }
        let n = runs.count
        if n == 0 { return }
        // Sizes and border contact per root.
        for i in 0..<n { runs.size[i] = 0; runs.border[i] = 0 }
        for i in 0..<n {
            let root = runs.find(i)
            runs.size[root] += runs.end[i] - runs.start[i] + 1
            if runs.row[i] == 0 || runs.row[i] == rows - 1 || runs.start[i] == 0 || runs.end[i] == cols - 1 {
                runs.border[root] = 1
            }
        }
        for i in 0..<n {
            let root = runs.find(i)
            if runs.border[root] != 0 || Double(runs.size[root]) < minSize {
                let base = runs.row[i] * cols
                for c in runs.start[i]...runs.end[i] { mask[base + c] = 0 }
            }
        }
    }

    /// Growable run storage with a union-find over run indices, reused across slices.
    struct RunBuffers {
        var row: [Int] = []
        var start: [Int] = []
        var end: [Int] = []
        var parent: [Int] = []
        var size: [Int] = []
        var border: [UInt8] = []
        var count = 0

        mutating func reset() { count = 0 }

        mutating func append(row r: Int, start s: Int, end e: Int) -> Int {
            if count == row.count {
                row.append(r); start.append(s); end.append(e); parent.append(count); size.append(0); border.append(0)
            } else {
                row[count] = r; start[count] = s; end[count] = e; parent[count] = count
            }
            count += 1
            return count - 1
        }

        mutating func find(_ i: Int) -> Int {
            var x = i
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }

        mutating func union(_ a: Int, _ b: Int) {
            let ra = find(a), rb = find(b)
            if ra == rb { return }
            if ra < rb { parent[rb] = ra } else { parent[ra] = rb }
        }
    }
}
