import Foundation
public import Audit

/// How audit values read in a report: class names, models, dates, and failure reasons with
/// identifiers removed.
enum AuditDisplay {
    /// "COVID-19" for `.covid19`: the names a radiologist reads.
    static func name(_ d: Diagnosis) -> String {
        switch d {
        case .healthy: return "Healthy"
        case .covid19: return "COVID-19"
        case .h1n1: return "H1N1"
        case .cap: return "CAP"
        }
    }

    static func name(_ index: Int) -> String { Diagnosis(rawValue: index).map(name) ?? "class \(index)" }

    static let classNames = Diagnosis.allCases.map(name)

    /// The model of a run as the report names it; an imported deployment log has no weights.
    static func identity(_ r: AuditStore.ReportRun) -> ModelIdentity {
        guard let m = r.model else {
            return ModelIdentity(name: "Deployment log", version: r.run.label, digest: "none (imported predictions, run \(r.run.id))")
        }
        return ModelIdentity(name: m.name, version: m.version, digest: m.sha256)
    }

    /// An ISO 8601 time from the store ("2024-05-02T09:30:00.123Z") to whole seconds
    /// ("2024-05-02T09:30:00Z"), the form the PDF's creation date takes.
    static func timestamp(_ s: String) -> String {
        guard s.count >= 19 else { return s }
        return String(s.prefix(19)) + "Z"
    }

    /// A DICOM study date, or nil.
    static func studyDate(_ p: AuditStore.ReportPatient) -> StudyDate? {
        (p.series?.studyDate ?? p.series?.acquisitionDate).flatMap { StudyDate($0) }
    }

    /// A failure reason safe to print under `policy`: with pseudonyms, every cohort patient id
    /// becomes its pseudonym, the cohort folder becomes "<cohort>", and DICOM UIDs become "<UID>".
    static func scrub(_ text: String, policy: IdentifierPolicy, patientIDs: [String], cohortFolder: String) -> String {
        guard policy.isPseudonymised else { return text }
        var out = text
        if !cohortFolder.isEmpty && cohortFolder != "/" { out = out.replacingOccurrences(of: cohortFolder, with: "<cohort>") }
        // Longest ids first, so that "P1" does not eat into "P12".
        for id in patientIDs.filter({ !$0.isEmpty }).sorted(by: { $0.count > $1.count }) {
            out = out.replacingOccurrences(of: id, with: policy.display(PatientIdentifier(id)))
        }
        if let uid = try? NSRegularExpression(pattern: "[0-9]+(\\.[0-9]+){3,}") {
            out = uid.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "<UID>")
        }
        return out
    }
}
