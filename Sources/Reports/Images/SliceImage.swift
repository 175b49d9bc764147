/// A display window on Hounsfield units: values from center − width/2 to center + width/2
/// map linearly to black...white.
public struct HUWindow: Sendable, Equatable {
    public var center: Double
    public var width: Double
    public init(center: Double, width: Double) { self.center = center; self.width = width }

    /// The usual lung window, L −600 / W 1500.
    public static let lung = HUWindow(center: -600, width: 1500)
    /// Mediastinal (soft-tissue) window, L 40 / W 400.
    public static let mediastinum = HUWindow(center: 40, width: 400)

    /// Grey level 0...255 for a HU value (NaN is black).
    @inline(__always) func grey(_ hu: Float) -> UInt32 {
        guard hu.isFinite else { return 0 }
        let t = (Double(hu) - (center - width / 2)) / width
        return UInt32(max(0, min(255, (t * 255).rounded())))
    }
}

/// A lesion (heat) map to lay over a slice, in 0...1, placed over a rectangle of the slice
/// given in the slice's pixel coordinates (e.g. the crop box the network saw).
public struct LesionOverlay: Sendable {
    public var width: Int
    public var height: Int
    /// Row-major, `width * height` values in 0...1.
    public var values: [Float]
    /// Where the map sits on the slice, in slice pixels; nil covers the whole slice.
    public var placement: Rect?
    /// Opacity at value 1.
    public var opacity: Double
    /// Values at or below this are fully transparent.
    public var threshold: Double

    public init(width: Int, height: Int, values: [Float], placement: Rect? = nil, opacity: Double = 0.65, threshold: Double = 0.2) {
        self.width = width; self.height = height; self.values = values; self.placement = placement
        self.opacity = opacity; self.threshold = threshold
    }
}

/// One CT slice in Hounsfield units, with an optional overlay and caption.
public struct SliceImage: Sendable {
    public var width: Int
    public var height: Int
    /// Row-major HU values, `width * height`.
    public var hu: [Float]
    public var caption: String?
    public var overlay: LesionOverlay?

    public init(width: Int, height: Int, hu: [Float], caption: String? = nil, overlay: LesionOverlay? = nil) {
        self.width = width; self.height = height; self.hu = hu; self.caption = caption; self.overlay = overlay
    }

    func validate() throws {
        guard width > 0, height > 0, hu.count == width * height else {
            throw ReportsError.invalidInput(what: "slice image", problem: "\(hu.count) values for \(width)x\(height)")
        }
        if let o = overlay, o.width <= 0 || o.height <= 0 || o.values.count != o.width * o.height {
            throw ReportsError.invalidInput(what: "lesion overlay", problem: "\(o.values.count) values for \(o.width)x\(o.height)")
        }
    }
}

/// Rasters made for the PDF. Cairo owns the pixel memory (NATIVE-PITFALLS: the PDF surface
/// reads images lazily), and rows are written through the surface's stride.
enum Raster {
    /// The slice in the window as RGB24 grey, box-downsampled so that neither side exceeds `maxSide`.
    static func slice(_ s: SliceImage, window: HUWindow, maxSide: Int) throws -> CairoSurface {
        try s.validate()
        let factor = max(1, (max(s.width, s.height) + maxSide - 1) / maxSide)
        let w = max(1, s.width / factor), h = max(1, s.height / factor)
        let surface = try CairoSurface.image(width: w, height: h, alpha: false)
        s.hu.withUnsafeBufferPointer { hu in
            surface.writePixels { y, row in
                for x in 0..<w {
                    var sum: UInt32 = 0
                    for dy in 0..<factor {
                        let base = (y * factor + dy) * s.width + x * factor
                        for dx in 0..<factor { sum += window.grey(hu[base + dx]) }
                    }
                    let g = sum / UInt32(factor * factor)
                    row[x] = (g << 16) | (g << 8) | g
                }
            }
        }
        return surface
    }

    /// The overlay's colour for a value: the upper part of the map, so that weak values are
    /// not drawn as black shadows on the lung.
    static func overlayColor(_ map: ColorMap, _ value: Double) -> Color { map.color(0.35 + 0.65 * min(1, max(0, value))) }

    /// The overlay as premultiplied ARGB32, bilinearly resampled to `outW` x `outH`, coloured
    /// by `map`, with alpha rising from 0 at the threshold to `opacity` at 1.
    static func overlay(_ o: LesionOverlay, outW: Int, outH: Int, map: ColorMap) throws -> CairoSurface {
        let surface = try CairoSurface.image(width: outW, height: outH, alpha: true)
        o.values.withUnsafeBufferPointer { v in
            surface.writePixels { y, row in
                let fy = (Double(y) + 0.5) * Double(o.height) / Double(outH) - 0.5
                let y0 = max(0, min(o.height - 1, Int(fy.rounded(.down)))), y1 = min(o.height - 1, y0 + 1)
                let ty = max(0, min(1, fy - Double(y0)))
                for x in 0..<outW {
                    let fx = (Double(x) + 0.5) * Double(o.width) / Double(outW) - 0.5
                    let x0 = max(0, min(o.width - 1, Int(fx.rounded(.down)))), x1 = min(o.width - 1, x0 + 1)
                    let tx = max(0, min(1, fx - Double(x0)))
                    func at(_ xx: Int, _ yy: Int) -> Double { let f = Double(v[yy * o.width + xx]); return f.isFinite ? f : 0 }
                    let value = (at(x0, y0) * (1 - tx) + at(x1, y0) * tx) * (1 - ty) + (at(x0, y1) * (1 - tx) + at(x1, y1) * tx) * ty
                    let a = value <= o.threshold ? 0 : min(1, (value - o.threshold) / max(1e-6, 1 - o.threshold)) * o.opacity
                    if a <= 0 { row[x] = 0; continue }
                    let c = overlayColor(map, value)
                    func pm(_ ch: Double) -> UInt32 { UInt32(max(0, min(255, (ch * a * 255).rounded()))) }
                    let alpha = UInt32(max(0, min(255, (a * 255).rounded())))
                    row[x] = (alpha << 24) | (pm(c.red) << 16) | (pm(c.green) << 8) | pm(c.blue)
                }
            }
        }
        return surface
    }
}
