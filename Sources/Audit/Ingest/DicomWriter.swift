import Foundation
internal import CDCMTK

/// Transfer syntaxes `DicomWriter` can produce (compressed ones through DCMTK's encoders,
/// always lossless).
public enum DicomSyntax: String, CaseIterable, Sendable, Codable {
    case explicitLittle = "explicit-little"
    case implicitLittle = "implicit-little"
    case explicitBig = "explicit-big"
    case deflated
    case jpegLossless = "jpeg-lossless"
    case jpegLSLossless = "jpeg-ls-lossless"
    case rle

    var cValue: CDCMTK_Syntax {
        switch self {
        case .explicitLittle: return CDCMTK_SYNTAX_EXPLICIT_LITTLE
        case .implicitLittle: return CDCMTK_SYNTAX_IMPLICIT_LITTLE
        case .explicitBig: return CDCMTK_SYNTAX_EXPLICIT_BIG
        case .deflated: return CDCMTK_SYNTAX_DEFLATED
        case .jpegLossless: return CDCMTK_SYNTAX_JPEG_LOSSLESS_SV1
        case .jpegLSLossless: return CDCMTK_SYNTAX_JPEGLS_LOSSLESS
        case .rle: return CDCMTK_SYNTAX_RLE
        }
    }

    /// The transfer syntax UID written to the meta header.
    public var uid: String {
        switch self {
        case .explicitLittle: return "1.2.840.10008.1.2.1"
        case .implicitLittle: return "1.2.840.10008.1.2"
        case .explicitBig: return "1.2.840.10008.1.2.2"
        case .deflated: return "1.2.840.10008.1.2.1.99"
        case .jpegLossless: return "1.2.840.10008.1.2.4.70"
        case .jpegLSLossless: return "1.2.840.10008.1.2.4.80"
        case .rle: return "1.2.840.10008.1.2.5"
        }
    }
}

/// A DICOM dataset under construction, written with DCMTK. Owns the C handle.
public final class DicomWriter {
    private let handle: OpaquePointer

    public init() throws {
        var err = [CChar](repeating: 0, count: DicomFile.errorCapacity)
        guard let h = CDCMTK_writer_open(&err, err.count) else {
            throw IngestError.writeFailed(path: "<memory>", reason: DicomFile.text(err))
        }
        handle = h
    }

    deinit { CDCMTK_writer_free(handle) }

    /// Sets a top-level attribute from text; the VR comes from DCMTK's dictionary, multiple
    /// values are separated by `\`.
    public func set(_ tag: DicomTag, _ value: String) throws {
        var err = [CChar](repeating: 0, count: DicomFile.errorCapacity)
        let status = CDCMTK_writer_set_string(handle, tag.group, tag.element, value, &err, err.count)
        if status != 0 { throw IngestError.invalidArgument(reason: DicomFile.text(err)) }
    }

    /// Sets a single-frame monochrome image with BitsAllocated 16 from stored values
    /// (row-major). Each value must fit `bitsStored` bits, signed or not.
    public func setPixels(rows: Int, columns: Int, bitsStored: Int = 16, signed: Bool = true,
                          stored: [Int32]) throws {
        guard rows > 0, columns > 0, rows <= 65535, columns <= 65535, (1...16).contains(bitsStored) else {
            throw IngestError.invalidArgument(reason: "bad image size \(rows)x\(columns) or BitsStored \(bitsStored)")
        }
        var err = [CChar](repeating: 0, count: DicomFile.errorCapacity)
        let status = stored.withUnsafeBufferPointer {
            CDCMTK_writer_set_pixels(handle, UInt32(rows), UInt32(columns), UInt16(bitsStored),
                                     signed ? 1 : 0, $0.baseAddress, $0.count, &err, err.count)
        }
        if status != 0 { throw IngestError.invalidArgument(reason: DicomFile.text(err)) }
    }

    /// Writes a DICOM file (meta header from SOPClassUID/SOPInstanceUID) in `syntax`.
    public func save(to path: String, syntax: DicomSyntax = .explicitLittle) throws {
        var err = [CChar](repeating: 0, count: DicomFile.errorCapacity)
        let status = CDCMTK_writer_save(handle, path, syntax.cValue, &err, err.count)
        if status != 0 { throw IngestError.writeFailed(path: path, reason: DicomFile.text(err)) }
    }
}
