/// Counts of labelled patients by true class (rows) and predicted class (columns).
public struct ConfusionMatrix: Encodable, Equatable, Sendable {
    /// `counts[truth][predicted]`, in `Diagnosis` order.
    public var counts: [[Int]]

    public init(_ patients: [PatientPrediction]) {
        let k = Diagnosis.allCases.count
        var counts = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for p in patients {
            guard let label = p.label else { continue }
            counts[label.rawValue][p.predicted.rawValue] += 1
        }
        self.counts = counts
    }

    public subscript(truth: Diagnosis, predicted: Diagnosis) -> Int { counts[truth.rawValue][predicted.rawValue] }

    public var total: Int { counts.joined().reduce(0, +) }
    public var correct: Int { Diagnosis.allCases.map { self[$0, $0] }.reduce(0, +) }
    /// Patients whose true class is `d`.
    public func positives(_ d: Diagnosis) -> Int { counts[d.rawValue].reduce(0, +) }
    /// Patients predicted as `d`.
    public func predictedAs(_ d: Diagnosis) -> Int { counts.map { $0[d.rawValue] }.reduce(0, +) }

    enum CodingKeys: String, CodingKey { case classes, rows, columns, counts }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Diagnosis.allCases.map(\.name), forKey: .classes)
        try c.encode("truth", forKey: .rows)
        try c.encode("predicted", forKey: .columns)
        try c.encode(counts, forKey: .counts)
    }
}
