internal import CCairo

/// The report's font faces, selected through fontconfig names (DejaVu, embedded as subsets).
public enum FontFace: Sendable, Equatable {
    case sans, sansBold, sansOblique, mono, monoBold

    var family: String {
        switch self {
        case .sans, .sansBold, .sansOblique: return "DejaVu Sans"
        case .mono, .monoBold: return "DejaVu Sans Mono"
        }
    }
    var weight: cairo_font_weight_t {
        self == .sansBold || self == .monoBold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL
    }
    var slant: cairo_font_slant_t { self == .sansOblique ? CAIRO_FONT_SLANT_OBLIQUE : CAIRO_FONT_SLANT_NORMAL }
}

/// A face and a size in points.
public struct Font: Sendable, Equatable {
    public var face: FontFace
    public var size: Double
    public init(_ face: FontFace, _ size: Double) { self.face = face; self.size = size }
}

/// Horizontal placement of a text run relative to its anchor x.
public enum TextAnchor: Sendable { case left, center, right }

/// Owns a `cairo_t` and keeps its surface alive; thin, typed drawing helpers.
///
/// Coordinates are PDF points with y downwards. Metric hinting is off, so text measured here
/// measures the same in every viewer.
final class CairoContext {
    let surface: CairoSurface
    let raw: OpaquePointer
    private var currentFont: Font?

    init(surface: CairoSurface) throws {
        self.surface = surface
        raw = cairo_create(surface.raw)!
        try CairoSurface.check(cairo_status(raw), "cairo_create")
        let options = cairo_font_options_create()
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_set_font_options(raw, options)
        cairo_font_options_destroy(options)
    }

    deinit { cairo_destroy(raw) }

    func status() throws { try CairoSurface.check(cairo_status(raw), "drawing") }

    // MARK: state

    func save() { cairo_save(raw) }
    func restore() { cairo_restore(raw); currentFont = nil }
    func withState(_ body: () throws -> Void) rethrows { save(); defer { restore() }; try body() }
    func translate(_ x: Double, _ y: Double) { cairo_translate(raw, x, y) }
    func scale(_ x: Double, _ y: Double) { cairo_scale(raw, x, y) }
    func rotate(_ radians: Double) { cairo_rotate(raw, radians) }
    func clip(_ r: Rect) { cairo_rectangle(raw, r.x, r.y, r.width, r.height); cairo_clip(raw) }
    func showPage() { cairo_show_page(raw); currentFont = nil }

    // MARK: paths and paint

    func setColor(_ c: Color) { cairo_set_source_rgba(raw, c.red, c.green, c.blue, c.alpha) }
    func setLineWidth(_ w: Double) { cairo_set_line_width(raw, w) }
    func setDash(_ pattern: [Double]) { pattern.withUnsafeBufferPointer { cairo_set_dash(raw, $0.baseAddress, Int32($0.count), 0) } }
    func setRoundJoins() { cairo_set_line_join(raw, CAIRO_LINE_JOIN_ROUND); cairo_set_line_cap(raw, CAIRO_LINE_CAP_ROUND) }
    func setButtCaps() { cairo_set_line_join(raw, CAIRO_LINE_JOIN_MITER); cairo_set_line_cap(raw, CAIRO_LINE_CAP_BUTT) }
    func moveTo(_ x: Double, _ y: Double) { cairo_move_to(raw, x, y) }
    func lineTo(_ x: Double, _ y: Double) { cairo_line_to(raw, x, y) }
    func closePath() { cairo_close_path(raw) }
    func newPath() { cairo_new_path(raw) }
    func rectangle(_ r: Rect) { cairo_rectangle(raw, r.x, r.y, r.width, r.height) }
    func arc(center: Point, radius: Double) { cairo_arc(raw, center.x, center.y, radius, 0, 2 * Double.pi) }
    func fill() { cairo_fill(raw) }
    func fillPreserve() { cairo_fill_preserve(raw) }
    func stroke() { cairo_stroke(raw) }

    func fill(_ r: Rect, _ c: Color) { setColor(c); rectangle(r); fill() }

    func strokeRect(_ r: Rect, _ c: Color, width: Double) {
        setColor(c); setLineWidth(width); rectangle(r); stroke()
    }

    /// A straight line, snapped so that hairlines stay crisp.
    func line(from a: Point, to b: Point, color: Color, width: Double, dash: [Double] = []) {
        setColor(c: color, width: width, dash: dash)
        moveTo(a.x, a.y); lineTo(b.x, b.y); stroke()
        if !dash.isEmpty { setDash([]) }
    }

    private func setColor(c: Color, width: Double, dash: [Double]) {
        setColor(c); setLineWidth(width); setDash(dash)
    }

    /// A rectangle with rounded corners as the current path.
    func roundedRectangle(_ r: Rect, radius: Double) {
        let rad = min(radius, r.width / 2, r.height / 2)
        newPath()
        cairo_arc(raw, r.maxX - rad, r.minY + rad, rad, -Double.pi / 2, 0)
        cairo_arc(raw, r.maxX - rad, r.maxY - rad, rad, 0, Double.pi / 2)
        cairo_arc(raw, r.minX + rad, r.maxY - rad, rad, Double.pi / 2, Double.pi)
        cairo_arc(raw, r.minX + rad, r.minY + rad, rad, Double.pi, 3 * Double.pi / 2)
        closePath()
    }

    // MARK: text

    func setFont(_ font: Font) {
        guard font != currentFont else { return }
        cairo_select_font_face(raw, font.face.family, font.face.slant, font.face.weight)
        cairo_set_font_size(raw, font.size)
        currentFont = font
    }

    /// Advance width of `text` in `font`.
    func width(_ text: String, _ font: Font) -> Double {
        guard !text.isEmpty else { return 0 }
        setFont(font)
        var ext = cairo_text_extents_t()
        cairo_text_extents(raw, text, &ext)
        return ext.x_advance
    }

    /// Ascent and descent of `font` (positive numbers).
    func metrics(_ font: Font) -> (ascent: Double, descent: Double) {
        setFont(font)
        var ext = cairo_font_extents_t()
        cairo_font_extents(raw, &ext)
        return (ext.ascent, ext.descent)
    }

    /// Draws `text` with its baseline at `y`, placed at `x` according to `anchor`.
    func text(_ text: String, x: Double, baseline y: Double, font: Font, color: Color, anchor: TextAnchor = .left) {
        guard !text.isEmpty else { return }
        setFont(font)
        var left = x
        switch anchor {
        case .left: break
        case .center: left = x - width(text, font) / 2
        case .right: left = x - width(text, font)
        }
        setColor(color)
        cairo_move_to(raw, left, y)
        cairo_show_text(raw, text)
        cairo_new_path(raw)
    }

    /// Draws `text` centred vertically on `y` (cap-height centred, for labels next to marks).
    func text(_ text: String, x: Double, centerY y: Double, font: Font, color: Color, anchor: TextAnchor = .left) {
        self.text(text, x: x, baseline: y + font.size * 0.36, font: font, color: color, anchor: anchor)
    }

    // MARK: images

    /// Paints an image surface into `rect`, stretched to fill it.
    func draw(image: CairoSurface, in rect: Rect, smooth: Bool) {
        withState {
            translate(rect.x, rect.y)
            scale(rect.width / Double(image.imageWidth), rect.height / Double(image.imageHeight))
            cairo_set_source_surface(raw, image.raw, 0, 0)
            cairo_pattern_set_filter(cairo_get_source(raw), smooth ? CAIRO_FILTER_GOOD : CAIRO_FILTER_NEAREST)
            cairo_pattern_set_extend(cairo_get_source(raw), CAIRO_EXTEND_PAD)
            cairo_rectangle(raw, 0, 0, Double(image.imageWidth), Double(image.imageHeight))
            cairo_fill(raw)
        }
    }
}
