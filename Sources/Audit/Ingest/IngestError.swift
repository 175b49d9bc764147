import Foundation

/// Every error thrown while reading DICOM files, discovering series, reading manifests and
/// preprocessing, with the offending path (and line, column, tag or series where it helps).
public enum IngestError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or parsed as DICOM (I/O error, not DICOM, truncated).
    case unreadable(path: String, reason: String)
    /// The file's transfer syntax has no decoder here (e.g. JPEG 2000 in the free DCMTK).
    case unsupportedTransferSyntax(path: String, syntax: String, reason: String)
    /// Pixel data that is present but not a monochrome 8/16-bit image this tool can use.
    case unsupportedPixelData(path: String, reason: String)
    /// A required attribute or the pixel data is missing or malformed.
    case missingData(path: String, reason: String)
    /// Writing a DICOM (or other output) file failed.
    case writeFailed(path: String, reason: String)
    /// A cohort manifest error at a line and column (1-based; column is the header name).
    case manifest(path: String, line: Int, column: String?, reason: String)
    /// A series could not be found, selected or used.
    case series(path: String, reason: String)
    /// A caller passed a value the library cannot work with.
    case invalidArgument(reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .unsupportedTransferSyntax(path, _, reason):
            return "\(path): unsupported transfer syntax: \(reason)"
        case let .unsupportedPixelData(path, reason):
            return "\(path): unsupported pixel data: \(reason)"
        case let .missingData(path, reason):
            return "\(path): \(reason)"
        case let .writeFailed(path, reason):
            return "\(path): cannot write: \(reason)"
        case let .manifest(path, line, column, reason):
            if let column { return "\(path):\(line): column '\(column)': \(reason)" }
            return "\(path):\(line): \(reason)"
        case let .series(path, reason):
            return "\(path): \(reason)"
        case let .invalidArgument(reason):
            return "invalid argument: \(reason)"
        }
    }
}
