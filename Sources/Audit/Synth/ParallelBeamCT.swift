import Foundation

/// A parallel-beam CT geometry on an n x n pixel grid (unit pixels, centre at (n-1)/2):
/// `views` angles evenly over a full turn, `detectors` bins of one pixel.
///
/// - projection (pixel-driven): each pixel's value is split linearly between the two bins
///   around s = x cos(theta) + y sin(theta);
/// - filtered back-projection: each view convolved with the discrete Ram-Lak ramp
///   h[0] = 1/4, h[odd m] = -1/(m^2 pi^2), h[even m] = 0 (Kak & Slaney 3.3), then
///   f(x, y) = (dtheta / 2) * sum over views of q_theta(x cos(theta) + y sin(theta)),
///   linear interpolation, dtheta = 2 pi / views (the 1/2 because a full turn measures every
///   line twice).
public struct ParallelBeamCT: Sendable {
    public let n: Int
    public let views: Int
    public let detectors: Int
    let cosT: [Double], sinT: [Double]
    let ramp: [Float]

    public init(size n: Int, views: Int) {
        self.n = n
        self.views = views
        detectors = Int((Double(n) * 2.0.squareRoot()).rounded(.up)) + 3
        cosT = (0..<views).map { cos(2 * .pi * Double($0) / Double(views)) }
        sinT = (0..<views).map { sin(2 * .pi * Double($0) / Double(views)) }
        var h = [Float](repeating: 0, count: 2 * detectors - 1)
        for m in -(detectors - 1)...(detectors - 1) {
            let v: Double = m == 0 ? 0.25 : (m % 2 == 0 ? 0 : -1 / (Double(m * m) * .pi * .pi))
            h[m + detectors - 1] = Float(v)
        }
        ramp = h
    }

    /// Angle of view `i` (radians).
    public func angle(_ i: Int) -> Double { 2 * .pi * Double(i) / Double(views) }

    /// Adds the projection of `image` (n x n, row-major: row = y, column = x) at view `view`
    /// to `out` (`detectors` bins).
    public func project(_ image: UnsafeBufferPointer<Float>, view: Int, into out: UnsafeMutableBufferPointer<Float>) {
        let c = Float(cosT[view]), s = Float(sinT[view])
        let mid = Float(n - 1) / 2, dmid = Float(detectors - 1) / 2
        for r in 0..<n {
            let y = Float(r) - mid
            let base = dmid + y * s
            for col in 0..<n {
                let v = image[r * n + col]
                if v == 0 { continue }
                let t = base + (Float(col) - mid) * c
                let i0 = Int(t)
                let w = t - Float(i0)
                out[i0] += v * (1 - w)
                out[i0 + 1] += v * w
            }
        }
    }

    /// Filtered back-projection of a sinogram (`views` x `detectors`, row-major) into an
    /// n x n image.
    public func reconstruct(_ sinogram: [Float]) -> [Float] {
        let d = detectors
        var filtered = [Float](repeating: 0, count: views * d)
        ramp.withUnsafeBufferPointer { h in
            sinogram.withUnsafeBufferPointer { p in
                filtered.withUnsafeMutableBufferPointer { q in
                    for v in 0..<views {
                        let row = v * d
                        var any = false
                        for j in 0..<d where p[row + j] != 0 { any = true; break }
                        if !any { continue }
                        for j in 0..<d {
                            var acc: Float = 0
                            for m in 0..<d {
                                let x = p[row + m]
                                if x != 0 { acc += x * h[j - m + d - 1] }
                            }
                            q[row + j] = acc
                        }
                    }
                }
            }
        }
        var image = [Float](repeating: 0, count: n * n)
        let mid = Float(n - 1) / 2, dmid = Float(d - 1) / 2
        let scale = Float(.pi / Double(views))
        filtered.withUnsafeBufferPointer { q in
            image.withUnsafeMutableBufferPointer { img in
                for v in 0..<views {
                    let row = v * d
                    let c = Float(cosT[v]), s = Float(sinT[v])
                    for r in 0..<n {
                        let base = dmid + (Float(r) - mid) * s
                        for col in 0..<n {
                            let t = base + (Float(col) - mid) * c
                            let i0 = Int(t)
                            let w = t - Float(i0)
                            img[r * n + col] += q[row + i0] * (1 - w) + q[row + i0 + 1] * w
                        }
                    }
                }
                for i in 0..<(n * n) { img[i] *= scale }
            }
        }
        return image
    }
}

/// Exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher 2012) of a 2D
/// mask: for every pixel, the squared distance in pixels to the nearest pixel where
/// `mask` is true (a large value when there is none).
func squaredDistanceTransform(_ mask: [Bool], rows: Int, columns: Int) -> [Float] {
    let inf: Float = 1e12
    var f = mask.map { $0 ? Float(0) : inf }
    func pass(_ g: inout [Float], count: Int, stride: Int, start: Int) {
        var v = [Int](repeating: 0, count: count)
        var z = [Float](repeating: 0, count: count + 1)
        var d = [Float](repeating: 0, count: count)
        var k = 0
        v[0] = 0; z[0] = -inf; z[1] = inf
        func at(_ q: Int) -> Float { g[start + q * stride] }
        for q in 1..<max(count, 1) {
            var s: Float
            repeat {
                let p = v[k]
                s = ((at(q) + Float(q * q)) - (at(p) + Float(p * p))) / Float(2 * q - 2 * p)
                if s <= z[k] { k -= 1 } else { break }
            } while k >= 0
            k += 1
            v[k] = q; z[k] = s; z[k + 1] = inf
        }
        k = 0
        for q in 0..<count {
            while z[k + 1] < Float(q) { k += 1 }
            let p = v[k]
            d[q] = Float((q - p) * (q - p)) + at(p)
        }
        for q in 0..<count { g[start + q * stride] = min(d[q], inf) }
    }
    for c in 0..<columns { pass(&f, count: rows, stride: columns, start: c) }
    for r in 0..<rows { pass(&f, count: columns, stride: 1, start: r * columns) }
    return f
}
