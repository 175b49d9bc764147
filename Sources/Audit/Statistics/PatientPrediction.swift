/// One patient's class probabilities from one model, with the ground truth when known.
public struct PatientPrediction: Sendable, Equatable {
    public var patientID: String
    /// The ground truth, nil when the patient is unlabelled.
    public var label: Diagnosis?
    /// One probability per class, in `Diagnosis` order.
    public var probabilities: [Double]
    /// Extra columns (site, scanner, sex, age, ...), by column name.
    public var metadata: [String: String]

    public init(patientID: String, label: Diagnosis?, probabilities: [Double], metadata: [String: String] = [:]) {
        precondition(probabilities.count == Diagnosis.allCases.count, "one probability per class")
        self.patientID = patientID
        self.label = label
        self.probabilities = probabilities
        self.metadata = metadata
    }

    /// The predicted class: the argmax of the probabilities, the lowest class index on a tie.
    public var predicted: Diagnosis {
        var best = 0
        for k in 1..<probabilities.count where probabilities[k] > probabilities[best] { best = k }
        return Diagnosis(rawValue: best)!
    }

    /// The top-class probability (the confidence used for calibration).
    public var confidence: Double { probabilities[predicted.rawValue] }

    /// Whether the prediction equals the label; nil when unlabelled.
    public var isCorrect: Bool? { label.map { $0 == predicted } }
}
