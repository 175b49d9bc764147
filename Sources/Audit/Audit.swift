/// Cohorts, DICOM ingestion, preprocessing, audit runs, metrics, drift, failure modes and the store.
public enum AuditLibrary {
    /// The tool's version, written into every run and report.
    public static let toolVersion = "0.1.0"
}
