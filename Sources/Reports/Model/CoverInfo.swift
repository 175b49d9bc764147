/// A model version as the report names it.
public struct ModelIdentity: Sendable, Equatable {
    public var name: String
    public var version: String
    /// SHA-256 of the weight file (hex).
    public var digest: String
    public init(name: String, version: String, digest: String) { self.name = name; self.version = version; self.digest = digest }

    /// "MLung-Sys demo-v2".
    public var label: String { "\(name) \(version)" }
    /// The first 12 hex digits, for tables.
    public var shortDigest: String { String(digest.prefix(12)) }
}

/// The cohort a run was made on.
public struct CohortInfo: Sendable {
    public var name: String
    public var description: String
    public var patients: Int
    public var studies: Int
    public var series: Int
    /// Per class: (class name, number of patients with that ground truth).
    public var classCounts: [(String, Int)]
    public var firstStudy: StudyDate?
    public var lastStudy: StudyDate?

    public init(name: String, description: String, patients: Int, studies: Int, series: Int,
                classCounts: [(String, Int)], firstStudy: StudyDate? = nil, lastStudy: StudyDate? = nil) {
        self.name = name; self.description = description; self.patients = patients; self.studies = studies
        self.series = series; self.classCounts = classCounts; self.firstStudy = firstStudy; self.lastStudy = lastStudy
    }
}

/// The outcome of one release gate.
public enum GateOutcome: String, Sendable {
    case pass, fail, warn
    /// The gate could not be judged (a figure undefined, an input missing): the nightly verdict's `error`.
    case error
    case notEvaluated = "not evaluated"

    var cellStyle: ReportTable.CellStyle {
        switch self {
        case .pass: return .pass; case .fail: return .fail; case .warn, .error: return .warn; case .notEvaluated: return .muted
        }
    }
}

/// One gate: its rule, what was observed, and the outcome.
public struct GateResult: Sendable {
    public var name: String
    public var criterion: String
    public var observed: String
    public var outcome: GateOutcome
    /// The cohort (and run) the gate was judged on, when the gates come from several cohorts.
    public var group: String?
    /// What the gate found, in words (e.g. the baseline and candidate values and the p-value).
    public var detail: String?
    public init(name: String, criterion: String, observed: String, outcome: GateOutcome, group: String? = nil, detail: String? = nil) {
        self.name = name; self.criterion = criterion; self.observed = observed; self.outcome = outcome
        self.group = group; self.detail = detail
    }
}

/// What the cover page states.
public struct CoverInfo: Sendable {
    public var candidate: ModelIdentity
    public var baseline: ModelIdentity?
    public var cohort: CohortInfo
    public var runID: String
    public var baselineRunID: String?
    public var toolVersion: String
    /// When the run finished, ISO 8601 (e.g. "2024-05-02T09:30:00Z"): the PDF's creation date.
    public var runFinished: String
    /// Site or organisation producing the report.
    public var site: String
    public var gates: [GateResult]
    /// Where the gates were judged, e.g. "nightly verdict verdict.json (mlung-audit/nightly/1), model ..."; nil for none.
    public var gateSource: String?

    public init(candidate: ModelIdentity, baseline: ModelIdentity?, cohort: CohortInfo, runID: String,
                baselineRunID: String?, toolVersion: String, runFinished: String, site: String, gates: [GateResult]) {
        self.candidate = candidate; self.baseline = baseline; self.cohort = cohort; self.runID = runID
        self.baselineRunID = baselineRunID; self.toolVersion = toolVersion; self.runFinished = runFinished
        self.site = site; self.gates = gates
    }

    /// Fail if any gate failed, else error if any could not be judged, else warn if any warned, else pass.
    public var verdict: GateOutcome {
        if gates.contains(where: { $0.outcome == .fail }) { return .fail }
        if gates.contains(where: { $0.outcome == .error }) { return .error }
        if gates.contains(where: { $0.outcome == .warn }) { return .warn }
        if gates.isEmpty { return .notEvaluated }
        return .pass
    }
}
