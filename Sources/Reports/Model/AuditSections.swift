/// The drift analysis of the report's run against a reference run (`report --drift-reference`),
/// as values: the verdict, its factors in plain words, every factor's test, and the data of
/// the plots. Filled from `Audit`'s `DriftReport` (FromAudit/DriftSection+Audit.swift).
public struct DriftAnalysis: Sendable {
    /// One compared quantity.
    public struct Factor: Sendable {
        public var id: String
        /// `metadata`, `image`, `features`, `outputs`, `performance`.
        public var group: String
        public var name: String
        /// "KS (exact)", "chi-square", "MMD (permutation)", ...; "none" when not tested.
        public var test: String
        /// "KS D", "total variation", "MMD²", "accuracy drop".
        public var effectName: String
        public var effect: Double?
        public var minimumEffect: Double
        public var p: Double?
        public var pAdjusted: Double?
        /// `drift`, `negligible`, `inconclusive`, `stable`, `insufficient`.
        public var verdict: String
        /// "noise index 33.1 HU vs 15.2 HU (x2.2)".
        public var description: String

        public init(id: String, group: String, name: String, test: String, effectName: String, effect: Double?,
                    minimumEffect: Double, p: Double?, pAdjusted: Double?, verdict: String, description: String) {
            self.id = id; self.group = group; self.name = name; self.test = test; self.effectName = effectName
            self.effect = effect; self.minimumEffect = minimumEffect; self.p = p; self.pAdjusted = pAdjusted
            self.verdict = verdict; self.description = description
        }
    }

    /// A plot of the reference against the candidate.
    public enum Plot: Sendable {
        /// Empirical cumulative distributions of one numeric factor (one value per patient).
        case ecdf(id: String, name: String, unit: String, reference: [Double], candidate: [Double], verdict: String, effect: String)
        /// Shares per category of one categorical factor (e.g. the predicted-class mix).
        case categories(id: String, name: String, categories: [String], reference: [Int], candidate: [Int], verdict: String, effect: String)

        public var id: String {
            switch self { case .ecdf(let id, _, _, _, _, _, _), .categories(let id, _, _, _, _, _, _): return id }
        }
    }

    /// `no_drift`, `input_drift`, `output_drift`.
    public var overall: String
    /// "drift that reaches the model's outputs".
    public var overallWords: String
    /// The drifting factors, most severe first, in plain words.
    public var topFactors: [String]
    public var factors: [Factor]
    public var plots: [Plot]
    /// Accuracy and confidence of both runs, and the label-free estimate (key, value).
    public var performance: [(String, String)]
    public var multipleTesting: String
    public var alpha: Double
    public var notes: [String]
    /// "run 3 (scanner-b, 12 patients)".
    public var referenceRun: String
    public var candidateRun: String

    public init(overall: String, overallWords: String, topFactors: [String], factors: [Factor], plots: [Plot],
                performance: [(String, String)], multipleTesting: String, alpha: Double, notes: [String],
                referenceRun: String, candidateRun: String) {
        self.overall = overall; self.overallWords = overallWords; self.topFactors = topFactors; self.factors = factors
        self.plots = plots; self.performance = performance; self.multipleTesting = multipleTesting; self.alpha = alpha
        self.notes = notes; self.referenceRun = referenceRun; self.candidateRun = candidateRun
    }

    /// The callout kind of the overall verdict: no drift passes, input drift warns, output drift fails.
    var kind: String {
        switch overall {
        case "no_drift": return "pass"
        case "input_drift": return "warn"
        default: return "fail"
        }
    }
}

/// The failure-mode flags stored for the report's run (`mlung-audit flags`), as values.
public struct FlagsSection: Sendable {
    /// One flag: how many patients it fired on, by level and by ground truth.
    public struct FlagRow: Sendable {
        public var flag: String
        public var description: String
        public var patients: Int
        /// (level, patients), e.g. ("probable", 2), ("suspected", 1); ("flag", n) for one-level flags.
        public var levels: [(String, Int)]
        public var healthy: Int
        public var sick: Int
        public var unlabelled: Int
        public init(flag: String, description: String, patients: Int, levels: [(String, Int)], healthy: Int, sick: Int, unlabelled: Int) {
            self.flag = flag; self.description = description; self.patients = patients; self.levels = levels
            self.healthy = healthy; self.sick = sick; self.unlabelled = unlabelled
        }
    }

    /// One flag that fired on one patient, with the measurements that fired it.
    public struct FlaggedPatient: Sendable {
        public var patient: PatientIdentifier
        public var truth: String
        public var predicted: String
        public var flag: String
        public var level: String
        /// Each reason: a measurement against its threshold.
        public var reasons: [String]
        /// "slices 4-6" (1-based), or empty.
        public var slices: String
        public init(patient: PatientIdentifier, truth: String, predicted: String, flag: String, level: String, reasons: [String], slices: String) {
            self.patient = patient; self.truth = truth; self.predicted = predicted; self.flag = flag; self.level = level
            self.reasons = reasons; self.slices = slices
        }
    }

    /// False when the run has no stored flags: the section then gives `computeCommand`.
    public var computed: Bool
    public var computeCommand: String
    public var computedAt: String
    public var toolVersion: String
    /// "baseline run 1 (version flips); noise reference run 2".
    public var settings: String
    /// Patients whose flags were computed, and those judged on stored outputs only.
    public var patientsJudged: Int
    public var storeOnly: Int
    public var flaggedPatients: Int
    public var rows: [FlagRow]
    /// Accuracy (the report's head) on the labelled patients, and without those flagged `pulsatile_artifact`.
    public var head: String
    public var accuracy: Estimate?
    public var accuracyPatients: Int
    public var accuracyWithoutPulsatile: Estimate?
    public var accuracyWithoutPulsatilePatients: Int
    public var pulsatilePatients: Int
    public var patients: [FlaggedPatient]
    /// The patient table lists at most this many rows (the rest: `flags --json`).
    public var maximumRows: Int

    public init(computed: Bool, computeCommand: String, computedAt: String = "", toolVersion: String = "", settings: String = "",
                patientsJudged: Int = 0, storeOnly: Int = 0, flaggedPatients: Int = 0, rows: [FlagRow] = [], head: String = "",
                accuracy: Estimate? = nil, accuracyPatients: Int = 0, accuracyWithoutPulsatile: Estimate? = nil,
                accuracyWithoutPulsatilePatients: Int = 0, pulsatilePatients: Int = 0, patients: [FlaggedPatient] = [],
                maximumRows: Int = 400) {
        self.computed = computed; self.computeCommand = computeCommand; self.computedAt = computedAt; self.toolVersion = toolVersion
        self.settings = settings; self.patientsJudged = patientsJudged; self.storeOnly = storeOnly; self.flaggedPatients = flaggedPatients
        self.rows = rows; self.head = head; self.accuracy = accuracy; self.accuracyPatients = accuracyPatients
        self.accuracyWithoutPulsatile = accuracyWithoutPulsatile; self.accuracyWithoutPulsatilePatients = accuracyWithoutPulsatilePatients
        self.pulsatilePatients = pulsatilePatients; self.patients = patients; self.maximumRows = maximumRows
    }
}
