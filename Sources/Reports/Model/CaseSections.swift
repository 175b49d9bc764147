/// One subgroup's performance (e.g. Sex = female), candidate against baseline.
public struct SubgroupRow: Sendable {
    public var group: String
    public var level: String
    public var patients: Int
    public var candidate: Estimate
    public var baseline: Estimate?
    /// The subgroup falls short of the gate or of the whole cohort by more than allowed.
    public var flagged: Bool
    public init(group: String, level: String, patients: Int, candidate: Estimate, baseline: Estimate?, flagged: Bool = false) {
        self.group = group; self.level = level; self.patients = patients; self.candidate = candidate
        self.baseline = baseline; self.flagged = flagged
    }
}

/// A patient whose predicted class changed between the baseline and the candidate.
public struct FlipCase: Sendable {
    public enum Direction: String, Sendable { case fixed = "now correct", broken = "now wrong", changed = "still wrong" }
    public var patient: PatientIdentifier
    public var studyDate: StudyDate?
    public var truth: String
    public var baselinePrediction: String
    public var baselineProbability: Double
    public var candidatePrediction: String
    public var candidateProbability: Double

    public init(patient: PatientIdentifier, studyDate: StudyDate?, truth: String, baselinePrediction: String,
                baselineProbability: Double, candidatePrediction: String, candidateProbability: Double) {
        self.patient = patient; self.studyDate = studyDate; self.truth = truth
        self.baselinePrediction = baselinePrediction; self.baselineProbability = baselineProbability
        self.candidatePrediction = candidatePrediction; self.candidateProbability = candidateProbability
    }

    public var direction: Direction {
        if candidatePrediction == truth { return .fixed }
        if baselinePrediction == truth { return .broken }
        return .changed
    }
}

/// One failure mode and how often it fired.
public struct FailureModeRow: Sendable {
    public var mode: String
    public var description: String
    public var cases: Int
    public var share: Double
    /// Cases for the gallery, as patient identifiers (printed through the identifier policy).
    public var examples: [PatientIdentifier]
    public var severity: GateOutcome
    public init(mode: String, description: String, cases: Int, share: Double, examples: [PatientIdentifier], severity: GateOutcome) {
        self.mode = mode; self.description = description; self.cases = cases; self.share = share
        self.examples = examples; self.severity = severity
    }
}

/// An image feature compared between the reference cohort and a new one.
public struct DriftFeature: Sendable {
    public var name: String
    public var unit: String
    public var binEdges: [Double]
    public var referenceFractions: [Double]
    public var currentFractions: [Double]
    /// Population stability index.
    public var psi: Double
    /// Kolmogorov-Smirnov statistic and its p-value.
    public var ks: Double
    public var pValue: Double
    public var shifted: Bool
    public init(name: String, unit: String, binEdges: [Double], referenceFractions: [Double], currentFractions: [Double],
                psi: Double, ks: Double, pValue: Double, shifted: Bool) {
        self.name = name; self.unit = unit; self.binEdges = binEdges; self.referenceFractions = referenceFractions
        self.currentFractions = currentFractions; self.psi = psi; self.ks = ks; self.pValue = pValue; self.shifted = shifted
    }
}

/// The drift check of a new cohort against the reference.
public struct DriftSection: Sendable {
    public var referenceCohort: String
    public var currentCohort: String
    public var features: [DriftFeature]
    public var psiThreshold: Double
    /// The full drift analysis (`report --drift-reference`); when set, the section shows its
    /// verdict, factors and plots instead of `features`.
    public var analysis: DriftAnalysis?
    public init(referenceCohort: String, currentCohort: String, features: [DriftFeature], psiThreshold: Double,
                analysis: DriftAnalysis? = nil) {
        self.referenceCohort = referenceCohort; self.currentCohort = currentCohort
        self.features = features; self.psiThreshold = psiThreshold; self.analysis = analysis
    }
}

/// Every setting of the run and how to reproduce it.
public struct AppendixInfo: Sendable {
    public var settings: [(String, String)]
    public var reproductionCommand: String
    public var notes: [String]
    public init(settings: [(String, String)], reproductionCommand: String, notes: [String] = []) {
        self.settings = settings; self.reproductionCommand = reproductionCommand; self.notes = notes
    }
}
