import Foundation

/// Errors of the synthetic cohort generator and of the artifact and scanner operators.
public enum SynthError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A generation option is out of range or malformed (`--mix`, `--patients`, a profile name).
    case invalidOption(name: String, value: String, reason: String)
    /// An operator was handed a volume it cannot work on (wrong sizes, no heart found).
    case invalidVolume(reason: String)
    /// Writing the cohort (DICOM files, manifest, truth files) failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidOption(name, value, reason):
            return "option \(name) '\(value)': \(reason)"
        case let .invalidVolume(reason):
            return "volume: \(reason)"
        case let .writeFailed(path, reason):
            return "\(path): cannot write: \(reason)"
        }
    }
}
