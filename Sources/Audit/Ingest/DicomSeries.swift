import Foundation

/// A problem found while validating a series. Blocking problems keep the series from being
/// selected or read; the others are warnings shown to the user.
public struct SeriesProblem: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case mixedSizes, mixedOrientations, duplicatePositions, duplicateInstances, gaps, nonAxial
        case tooFewSlices, unreadableFiles, missingGeometry, unsupportedTransferSyntax, multiFrame
        case excludedObjects
    }

    public var kind: Kind
    public var message: String
    public var blocking: Bool
    /// Files concerned, when the problem is about particular files.
    public var paths: [String]

    public init(_ kind: Kind, _ message: String, blocking: Bool, paths: [String] = []) {
        self.kind = kind
        self.message = message
        self.blocking = blocking
        self.paths = paths
    }
}

/// A file that could not be read, or that discovery skipped, with the reason.
public struct FileIssue: Sendable, Codable, Equatable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// Metadata of a series that the audit records (taken from its first slice in order).
public struct SeriesMetadata: Sendable, Codable, Equatable {
    public var patientID: String?
    public var patientName: String?
    public var studyInstanceUID: String?
    public var studyDate: String?
    public var studyDescription: String?
    public var seriesInstanceUID: String
    public var seriesNumber: Int?
    public var seriesDescription: String?
    public var modality: String?
    public var imageType: [String]
    public var manufacturer: String?
    public var manufacturerModelName: String?
    public var convolutionKernel: String?
    public var sliceThickness: Double?
    public var pixelSpacing: [Double]?
    public var kvp: Double?
    public var exposure: Double?
    public var xRayTubeCurrent: Double?
    public var acquisitionDate: String?
    public var bodyPartExamined: String?
    /// Transfer syntax UIDs present in the series.
    public var transferSyntaxes: [String]
}

/// Where the slices of a series lie.
public struct SeriesGeometry: Sendable, Codable, Equatable {
    public var rows: Int
    public var columns: Int
    /// ImageOrientationPatient shared by the slices (row cosines, column cosines).
    public var orientation: [Double]
    /// Slice normal: row cosines x column cosines, unit length.
    public var normal: [Double]
    /// Median distance between consecutive slice positions along the normal (mm); nil for
    /// fewer than two slices.
    public var medianSpacing: Double?
    /// Distance from the first to the last slice position (mm).
    public var extent: Double
}

/// A CT image series found by discovery: its slices in order, metadata, geometry and problems.
public struct DicomSeries: Sendable, Codable, Equatable {
    /// One slice: a file and its position along the slice normal.
    public struct Slice: Sendable, Codable, Equatable {
        public var path: String
        public var sopInstanceUID: String?
        public var instanceNumber: Int?
        /// ImagePositionPatient projected on the slice normal (mm); nil when missing.
        public var position: Double?
        public var transferSyntaxUID: String
    }

    public var seriesInstanceUID: String
    public var metadata: SeriesMetadata
    /// Slices ordered by position along the normal, ascending (spec section 1).
    public var slices: [Slice]
    public var geometry: SeriesGeometry?
    public var problems: [SeriesProblem]
    /// Files with this SeriesInstanceUID that are not part of the volume (scouts, derived
    /// images, ...), with the reason.
    public var excluded: [FileIssue]

    /// No blocking problem: the series can be read and run.
    public var isUsable: Bool { !problems.contains { $0.blocking } }

    /// The blocking problems' messages.
    public var blockingMessages: [String] { problems.filter(\.blocking).map(\.message) }

    /// The directory holding most of the slices (for messages).
    public var directory: String {
        guard let first = slices.first else { return "" }
        return (first.path as NSString).deletingLastPathComponent
    }
}

/// A series that discovery did not keep, with the reason (the most common one among its files).
public struct SkippedSeries: Sendable, Codable, Equatable {
    public var seriesInstanceUID: String
    public var modality: String?
    public var sopClass: String
    public var seriesDescription: String?
    public var fileCount: Int
    public var reason: String
    /// A representative file.
    public var path: String
}
