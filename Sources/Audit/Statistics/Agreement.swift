/// How closely two prediction sets agree on the same patients, labelled or not: for a rerun
/// against a deployment log, or two model versions.
public struct Agreement: Encodable, Equatable, Sendable {
    /// One class probability of one patient in both sets.
    public struct ProbabilityDifference: Encodable, Equatable, Sendable {
        public var patientID: String
        public var diagnosis: Diagnosis
        public var baseline: Double
        public var candidate: Double
        /// |candidate − baseline|.
        public var absoluteDifference: Double

        enum CodingKeys: String, CodingKey {
            case patientID = "patient_id", diagnosis = "class", baseline, candidate, absoluteDifference = "absolute_difference"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(patientID, forKey: .patientID)
            try c.encode(diagnosis.name, forKey: .diagnosis)
            try c.encode(baseline, forKey: .baseline)
            try c.encode(candidate, forKey: .candidate)
            try c.encode(absoluteDifference, forKey: .absoluteDifference)
        }
    }

    /// A patient whose predicted class differs between the sets.
    public struct Disagreement: Encodable, Equatable, Sendable {
        public var patientID: String
        public var label: Diagnosis?
        public var baselinePredicted: Diagnosis
        public var candidatePredicted: Diagnosis
        public var baselineProbabilities: [Double]
        public var candidateProbabilities: [Double]

        enum CodingKeys: String, CodingKey {
            case patientID = "patient_id", label, baselinePredicted = "baseline_predicted"
            case candidatePredicted = "candidate_predicted", baselineProbabilities = "baseline_probabilities"
            case candidateProbabilities = "candidate_probabilities"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(patientID, forKey: .patientID)
            try c.encode(label?.name, forKey: .label)
            try c.encode(baselinePredicted.name, forKey: .baselinePredicted)
            try c.encode(candidatePredicted.name, forKey: .candidatePredicted)
            try c.encode(baselineProbabilities, forKey: .baselineProbabilities)
            try c.encode(candidateProbabilities, forKey: .candidateProbabilities)
        }
    }

    public var patients: Int
    /// Patients with the same predicted class in both sets.
    public var samePrediction: Int
    /// Cohen's kappa of the two predicted classes; nil when chance agreement is 1 (one class only).
    public var kappa: Double?
    /// The largest |candidate − baseline| over all patients and classes (the first, by
    /// patient id then class, when several are equal); nil without patients.
    public var largestDifference: ProbabilityDifference?
    /// Mean over patients and classes of |candidate − baseline|.
    public var meanAbsoluteDifference: Double?
    /// Patients with different predicted classes, by patient id.
    public var disagreeing: [Disagreement]

    /// Pairs (baseline, candidate) of the same patient, in canonical order.
    init(pairs: [(PatientPrediction, PatientPrediction)]) {
        patients = pairs.count
        let k = Diagnosis.allCases.count
        var same = 0, sumAbs = 0.0
        var largest: ProbabilityDifference? = nil
        var disagreeing: [Disagreement] = []
        var countsA = [Double](repeating: 0, count: k), countsB = [Double](repeating: 0, count: k)
        for (a, b) in pairs {
            countsA[a.predicted.rawValue] += 1
            countsB[b.predicted.rawValue] += 1
            if a.predicted == b.predicted {
                same += 1
            } else {
                disagreeing.append(Disagreement(patientID: a.patientID, label: a.label ?? b.label, baselinePredicted: a.predicted,
                                                candidatePredicted: b.predicted, baselineProbabilities: a.probabilities,
                                                candidateProbabilities: b.probabilities))
            }
            for c in 0..<k {
                let d = abs(b.probabilities[c] - a.probabilities[c])
                sumAbs += d
                if largest == nil || d > largest!.absoluteDifference {
                    largest = ProbabilityDifference(patientID: a.patientID, diagnosis: Diagnosis(rawValue: c)!,
                                                    baseline: a.probabilities[c], candidate: b.probabilities[c], absoluteDifference: d)
                }
            }
        }
        samePrediction = same
        self.disagreeing = disagreeing
        largestDifference = largest
        meanAbsoluteDifference = pairs.isEmpty ? nil : sumAbs / Double(pairs.count * k)
        if pairs.isEmpty {
            kappa = nil
        } else {
            let n = Double(pairs.count)
            let observed = Double(same) / n
            let chance = (0..<k).map { countsA[$0] / n * (countsB[$0] / n) }.reduce(0, +)
            kappa = chance < 1 ? (observed - chance) / (1 - chance) : nil
        }
    }

    enum CodingKeys: String, CodingKey {
        case patients, samePrediction = "same_prediction", kappa, largestDifference = "largest_difference"
        case meanAbsoluteDifference = "mean_absolute_difference", disagreeing
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(patients, forKey: .patients)
        try c.encode(samePrediction, forKey: .samePrediction)
        try c.encode(kappa, forKey: .kappa)
        try c.encode(largestDifference, forKey: .largestDifference)
        try c.encode(meanAbsoluteDifference, forKey: .meanAbsoluteDifference)
        try c.encode(disagreeing, forKey: .disagreeing)
    }
}
