import Foundation

/// One patient's flags in a run: every detector's measurements and the flags that fired.
public struct PatientFlags: Sendable, Codable, Equatable {
    public var patientID: String
    /// Manifest label and the run's answer (Diagnosis raw values).
    public var label: Int?
    public var predicted: Int?
    /// `ok`, or `store-only` when the DICOM could not be re-read (image flags not computed).
    public var status: String
    public var error: String?
    /// Measurements by flag name.
    public var measurements: [String: [FlagMeasurement]]
    public var findings: [FlagFinding]

    public init(patientID: String, label: Int?, predicted: Int?, status: String, error: String?,
                measurements: [String: [FlagMeasurement]], findings: [FlagFinding]) {
        self.patientID = patientID
        self.label = label
        self.predicted = predicted
        self.status = status
        self.error = error
        self.measurements = measurements
        self.findings = findings
    }

    public func has(_ flag: FlagKind) -> Bool { findings.contains { $0.flag == flag } }
    public func finding(_ flag: FlagKind) -> FlagFinding? { findings.first { $0.flag == flag } }
}
