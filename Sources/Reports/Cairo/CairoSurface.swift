internal import CCairo

/// Collects the bytes a PDF surface writes, so the file is written in one piece at the end.
final class PDFByteSink {
    var bytes: [UInt8] = []
}

private func pdfSinkWrite(_ closure: UnsafeMutableRawPointer?, _ data: UnsafePointer<UInt8>?, _ length: UInt32) -> cairo_status_t {
    guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
    let sink = Unmanaged<PDFByteSink>.fromOpaque(closure).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    return CAIRO_STATUS_SUCCESS
}

/// Owns one `cairo_surface_t` (a PDF stream or an in-memory image) and destroys it in `deinit`.
final class CairoSurface {
    let raw: OpaquePointer
    /// Kept alive while cairo may still write into it (until `finish`).
    private let sink: PDFByteSink?

    private init(raw: OpaquePointer, sink: PDFByteSink?, operation: String) throws {
        self.raw = raw
        self.sink = sink
        try CairoSurface.check(cairo_surface_status(raw), operation)
    }

    deinit { cairo_surface_destroy(raw) }

    /// A PDF surface whose output goes to memory; `finish()` returns the bytes.
    static func pdf(width: Double, height: Double) throws -> CairoSurface {
        let sink = PDFByteSink()
        let raw = cairo_pdf_surface_create_for_stream(pdfSinkWrite, Unmanaged.passUnretained(sink).toOpaque(), width, height)!
        return try CairoSurface(raw: raw, sink: sink, operation: "cairo_pdf_surface_create_for_stream")
    }

    /// An image surface whose pixel memory cairo allocates and owns (see NATIVE-PITFALLS: the
    /// PDF surface reads image data lazily, so the pixels must live as long as the surface).
    static func image(width: Int, height: Int, alpha: Bool) throws -> CairoSurface {
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw ReportsError.invalidInput(what: "image size", problem: "\(width)x\(height) is outside 1...16384")
        }
        let raw = cairo_image_surface_create(alpha ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, Int32(width), Int32(height))!
        return try CairoSurface(raw: raw, sink: nil, operation: "cairo_image_surface_create")
    }

    /// Writes 32-bit pixels row by row: `body(row, pixels)` fills one row of `width` words
    /// (0x00RRGGBB for RGB24, premultiplied 0xAARRGGBB for ARGB32). Respects the stride.
    func writePixels(_ body: (Int, UnsafeMutableBufferPointer<UInt32>) -> Void) {
        cairo_surface_flush(raw)
        let width = Int(cairo_image_surface_get_width(raw))
        let height = Int(cairo_image_surface_get_height(raw))
        let stride = Int(cairo_image_surface_get_stride(raw))
        guard let data = cairo_image_surface_get_data(raw) else { return }
        for y in 0..<height {
            let row = UnsafeMutableRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            body(y, UnsafeMutableBufferPointer(start: row, count: width))
        }
        cairo_surface_mark_dirty(raw)
    }

    var imageWidth: Int { Int(cairo_image_surface_get_width(raw)) }
    var imageHeight: Int { Int(cairo_image_surface_get_height(raw)) }

    func setMetadata(_ key: cairo_pdf_metadata_t, _ value: String) {
        cairo_pdf_surface_set_metadata(raw, key, value)
    }

    func setPageSize(width: Double, height: Double) {
        cairo_pdf_surface_set_size(raw, width, height)
    }

    /// Adds a bookmark; returns its id for children.
    func addOutline(parent: Int32, title: String, page: Int, y: Double, bold: Bool) -> Int32 {
        let dest = "page=\(page) pos=[0 \(Format.fixed(y, digits: 1))]"
        let flags: cairo_pdf_outline_flags_t = bold ? CAIRO_PDF_OUTLINE_FLAG_BOLD : cairo_pdf_outline_flags_t(0)
        return cairo_pdf_surface_add_outline(raw, parent, title, dest, flags)
    }

    /// Finishes the surface and returns what the PDF stream received.
    func finish() throws -> [UInt8] {
        cairo_surface_finish(raw)
        try CairoSurface.check(cairo_surface_status(raw), "cairo_surface_finish")
        return sink?.bytes ?? []
    }

    static func check(_ status: cairo_status_t, _ operation: String) throws {
        guard status != CAIRO_STATUS_SUCCESS else { return }
        throw ReportsError.cairo(operation: operation, status: String(cString: cairo_status_to_string(status)))
    }
}
