/// A row of CT slices in a window, each with its caption and optional lesion overlay, and a
/// colour bar for the overlay (for the gallery and for example cases in the report).
public struct SliceStrip: Sendable, FigureBody {
    public var title: String?
    public var slices: [SliceImage]
    public var window: HUWindow
    public var overlayMap: ColorMap
    /// Largest raster side embedded in the PDF (larger slices are box-downsampled).
    public var maxPixels: Int
    public var overlayLabel: String
    /// Draw the overlay's colour bar (its width is kept either way, so rows line up).
    public var colorBar: Bool
    public var aspect: Double

    public init(title: String? = nil, slices: [SliceImage], window: HUWindow = .lung, overlayMap: ColorMap = .inferno,
                maxPixels: Int = 256, overlayLabel: String = "lesion probability", colorBar: Bool = true, aspect: Double? = nil) {
        self.title = title; self.slices = slices; self.window = window; self.overlayMap = overlayMap
        self.maxPixels = maxPixels; self.overlayLabel = overlayLabel; self.colorBar = colorBar
        self.aspect = aspect ?? max(1.0, Double(max(slices.count, 1)) * 0.95)
    }

    var summary: String { "slices(\(slices.count))" }

    func draw(_ cx: CairoContext, in rect: Rect) throws {
        guard !slices.isEmpty else { return }
        let hasOverlay = slices.contains { $0.overlay != nil }
        var top = rect.minY
        if let title {
            cx.text(title, x: rect.minX, baseline: rect.minY + 9, font: PlotFrame.titleFont, color: Palette.ink)
            top += 14
        }
        let captionHeight = slices.contains { $0.caption != nil } ? 12.0 : 0
        let barWidth = hasOverlay ? 40.0 : 0
        let gap = 6.0
        let cellWidth = (rect.width - barWidth - gap * Double(slices.count - 1)) / Double(slices.count)
        let cellHeight = rect.maxY - top - captionHeight
        var imageBottom = top
        for (k, s) in slices.enumerated() {
            let cell = Rect(x: rect.minX + Double(k) * (cellWidth + gap), y: top, width: cellWidth, height: cellHeight)
            let box = cell.fitting(aspect: Double(s.width) / Double(s.height))
            let placed = Rect(x: box.minX, y: top, width: box.width, height: box.height)
            let image = try Raster.slice(s, window: window, maxSide: maxPixels)
            cx.draw(image: image, in: placed, smooth: true)
            if let o = s.overlay {
                let p = o.placement ?? Rect(x: 0, y: 0, width: Double(s.width), height: Double(s.height))
                let sx = placed.width / Double(s.width), sy = placed.height / Double(s.height)
                let target = Rect(x: placed.minX + p.minX * sx, y: placed.minY + p.minY * sy, width: p.width * sx, height: p.height * sy)
                let outW = max(2, min(maxPixels, Int(p.width.rounded()))), outH = max(2, min(maxPixels, Int(p.height.rounded())))
                let over = try Raster.overlay(o, outW: outW, outH: outH, map: overlayMap)
                cx.withState {
                    cx.clip(placed)
                    cx.draw(image: over, in: target, smooth: true)
                }
                if o.placement != nil {
                    cx.setDash([2, 2])
                    cx.strokeRect(target, Color(grey: 1, alpha: 0.6), width: 0.5)
                    cx.setDash([])
                }
            }
            cx.strokeRect(placed, Palette.mutedInk, width: 0.4)
            if let caption = s.caption {
                // Smaller type when the caption is wider than its cell (down to 5 pt), so it never runs off the strip.
                let room = cellWidth + gap - 2
                let natural = cx.width(caption, Font(.sans, 6.8))
                let size = natural > room ? max(5.0, 6.8 * room / natural) : 6.8
                cx.text(caption, x: placed.midX, baseline: placed.maxY + 9, font: Font(.sans, size), color: Palette.ink, anchor: .center)
            }
            imageBottom = max(imageBottom, placed.maxY)
        }
        if hasOverlay && colorBar {
            let bar = Rect(x: rect.maxX - barWidth + 8, y: top, width: 7, height: max(20, imageBottom - top))
            ColorBar.draw(cx, color: { Raster.overlayColor(overlayMap, $0) }, in: bar, ticks: [0, 0.5, 1], label: { Format.fixed($0, digits: 1) }, title: nil)
            cx.withState {
                cx.translate(bar.maxX + 22, bar.midY)
                cx.rotate(-Double.pi / 2)
                cx.text(overlayLabel, x: 0, baseline: 0, font: Font(.sans, 6.4), color: Palette.mutedInk, anchor: .center)
            }
        }
    }
}
