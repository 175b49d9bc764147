import Foundation
internal import CDCMTK

/// Image pixel module attributes of a DICOM file and how its pixel data is encoded.
public struct DicomPixelInfo: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    /// NumberOfFrames (1 when absent).
    public var frames: Int
    public var bitsAllocated: Int
    public var bitsStored: Int
    public var highBit: Int
    /// 0 unsigned, 1 two's complement.
    public var pixelRepresentation: Int
    public var samplesPerPixel: Int
    /// RescaleSlope (1 when absent) and RescaleIntercept (0 when absent).
    public var rescaleSlope: Double
    public var rescaleIntercept: Double
    /// PixelPaddingValue as stored, when present.
    public var paddingValue: Int32?
    /// The transfer syntax is encapsulated (compressed).
    public var encapsulated: Bool
    /// DCMTK can decode the transfer syntax here.
    public var decodable: Bool
}

/// One DICOM file opened through DCMTK. Owns the C handle and frees it on deinit.
///
/// Open with `headerOnly: true` for discovery: parsing stops before Pixel Data, which is much
/// faster on large files; such a file cannot decode pixels.
public final class DicomFile {
    /// The path the file was opened from.
    public let path: String
    /// Whether parsing stopped before the pixel data.
    public let headerOnly: Bool
    private let handle: OpaquePointer

    static let errorCapacity = 1024

    /// Opens and parses `path`. Throws `IngestError.unreadable` with DCMTK's reason.
    public init(path: String, headerOnly: Bool = false) throws {
        self.path = path
        self.headerOnly = headerOnly
        var err = [CChar](repeating: 0, count: Self.errorCapacity)
        guard let h = CDCMTK_file_open(path, headerOnly ? 1 : 0, &err, err.count) else {
            throw IngestError.unreadable(path: path, reason: Self.text(err))
        }
        handle = h
    }

    deinit { CDCMTK_file_free(handle) }

    /// DCMTK's version string.
    public static var dcmtkVersion: String { String(cString: CDCMTK_version()) }

    static func text(_ buffer: [CChar]) -> String {
        let s = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return s.isEmpty ? "unknown error" : s
    }

    /// A new globally unique DICOM UID (DCMTK's generator).
    public static func generateUID(root: String? = nil) -> String {
        var out = [CChar](repeating: 0, count: 100)
        let status: Int32
        if let root { status = CDCMTK_generate_uid(root, &out, out.count) }
        else { status = CDCMTK_generate_uid(nil, &out, out.count) }
        precondition(status == 0, "DCMTK UID generation failed")
        return out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    // MARK: Header

    /// The attribute's value as text (values joined by `\`), nil when absent. Group 0002 is
    /// read from the meta header.
    public func string(_ tag: DicomTag) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        var n = CDCMTK_file_get_string(handle, tag.group, tag.element, &buffer, buffer.count)
        if n < 0 { return nil }
        if n >= buffer.count {
            buffer = [CChar](repeating: 0, count: n + 1)
            n = CDCMTK_file_get_string(handle, tag.group, tag.element, &buffer, buffer.count)
            if n < 0 { return nil }
        }
        return buffer.withUnsafeBufferPointer { String(decoding: UnsafeRawBufferPointer($0).prefix(Int(n)), as: UTF8.self) }
    }

    /// The attribute's value, nil when absent or empty.
    public func nonEmptyString(_ tag: DicomTag) -> String? {
        guard let s = string(tag), !s.isEmpty else { return nil }
        return s
    }

    /// The attribute's values split at `\`, each trimmed; empty when absent.
    public func strings(_ tag: DicomTag) -> [String] {
        guard let s = string(tag), !s.isEmpty else { return [] }
        return s.split(separator: "\\", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
    }

    /// The attribute's numeric values (DS, IS, US, ...), nil when absent or any value is not a number.
    public func doubles(_ tag: DicomTag) -> [Double]? {
        let parts = strings(tag)
        if parts.isEmpty { return nil }
        var out: [Double] = []
        out.reserveCapacity(parts.count)
        for p in parts {
            guard let v = Double(p), v.isFinite else { return nil }
            out.append(v)
        }
        return out
    }

    /// The attribute's first numeric value.
    public func double(_ tag: DicomTag) -> Double? { doubles(tag)?.first }

    /// The attribute's first value as an integer (IS, US, ...).
    public func int(_ tag: DicomTag) -> Int? {
        guard let d = double(tag), d.rounded() == d, abs(d) < 1e15 else { return nil }
        return Int(d)
    }

    /// The transfer syntax the file is encoded in: UID and DCMTK's name for it.
    public var transferSyntax: (uid: String, name: String) {
        var uid = [CChar](repeating: 0, count: 128)
        var name = [CChar](repeating: 0, count: 256)
        _ = CDCMTK_file_transfer_syntax(handle, &uid, uid.count, &name, name.count)
        return (uid.withUnsafeBufferPointer { String(cString: $0.baseAddress!) },
                name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }

    /// The image pixel module. Throws when Rows, Columns or BitsAllocated are missing.
    public func pixelInfo() throws -> DicomPixelInfo {
        var info = CDCMTK_PixelInfo()
        var err = [CChar](repeating: 0, count: Self.errorCapacity)
        let status = CDCMTK_file_pixel_info(handle, &info, &err, err.count)
        if status != 0 { throw mapError(status, err) }
        return DicomPixelInfo(
            rows: Int(info.rows), columns: Int(info.columns), frames: Int(info.frames),
            bitsAllocated: Int(info.bits_allocated), bitsStored: Int(info.bits_stored),
            highBit: Int(info.high_bit), pixelRepresentation: Int(info.pixel_representation),
            samplesPerPixel: Int(info.samples_per_pixel),
            rescaleSlope: info.rescale_slope, rescaleIntercept: info.rescale_intercept,
            paddingValue: info.has_padding != 0 ? info.padding_value : nil,
            encapsulated: info.encapsulated != 0, decodable: info.decodable != 0)
    }

    // MARK: Pixels

    /// Decodes frame `frame` into HU, row-major `rows * columns` values in `out`:
    /// `hu = stored * RescaleSlope + RescaleIntercept` (in double, rounded once to float),
    /// PixelPaddingValue samples -> -1024, then clamped to [-1024, 3071]. Stored values are
    /// the low BitsStored bits, sign-extended when PixelRepresentation is 1.
    public func decodeHU(frame: Int = 0, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard frame >= 0, frame <= Int(UInt32.max) else {
            throw IngestError.invalidArgument(reason: "frame \(frame) out of range")
        }
        var err = [CChar](repeating: 0, count: Self.errorCapacity)
        let status = CDCMTK_file_decode_hu(handle, UInt32(frame), out.baseAddress, out.count, &err, err.count)
        if status != 0 { throw mapError(status, err) }
    }

    /// Decodes frame `frame` to HU (see `decodeHU(frame:into:)`).
    public func hu(frame: Int = 0) throws -> [Float] {
        let info = try pixelInfo()
        let n = info.rows * info.columns
        var out = [Float](repeating: 0, count: n)
        try out.withUnsafeMutableBufferPointer { try decodeHU(frame: frame, into: $0) }
        return out
    }

    /// The stored values of frame `frame` (masked to BitsStored, sign-extended), before the
    /// modality transform.
    public func storedValues(frame: Int = 0) throws -> [Int32] {
        let info = try pixelInfo()
        var out = [Int32](repeating: 0, count: info.rows * info.columns)
        var err = [CChar](repeating: 0, count: Self.errorCapacity)
        let status = out.withUnsafeMutableBufferPointer {
            CDCMTK_file_decode_stored(handle, UInt32(frame), $0.baseAddress, $0.count, &err, err.count)
        }
        if status != 0 { throw mapError(status, err) }
        return out
    }

    private func mapError(_ status: Int32, _ err: [CChar]) -> IngestError {
        let reason = Self.text(err)
        switch Int(status) {
        case Int(CDCMTK_ERR_UNSUPPORTED_SYNTAX):
            let ts = transferSyntax
            return .unsupportedTransferSyntax(path: path, syntax: ts.uid, reason: reason)
        case Int(CDCMTK_ERR_PIXEL_FORMAT):
            return .unsupportedPixelData(path: path, reason: reason)
        case Int(CDCMTK_ERR_MISSING):
            return .missingData(path: path, reason: reason)
        case Int(CDCMTK_ERR_ARGUMENT):
            return .invalidArgument(reason: "\(path): \(reason)")
        default:
            return .unreadable(path: path, reason: reason)
        }
    }
}
