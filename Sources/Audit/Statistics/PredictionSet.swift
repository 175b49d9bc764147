/// The predictions of one model (or one head of one run) on a cohort: the unit that
/// `Evaluator` and `Comparator` judge.
///
/// The standalone CSV reader (`PredictionSet(contentsOfCSV:)`) builds one; an audit run
/// will build one per patient head from the store.
public struct PredictionSet: Sendable, Equatable {
    /// Where the predictions come from (a file path, or a run and head), for messages.
    public var source: String
    /// Metadata column names, in file order.
    public var metadataColumns: [String]
    public var patients: [PatientPrediction]

    public init(source: String, metadataColumns: [String] = [], patients: [PatientPrediction]) {
        self.source = source
        self.metadataColumns = metadataColumns
        self.patients = patients
    }

    /// The labelled patients in the canonical order of the statistics: by patient id,
    /// compared as UTF-8 bytes. Results never depend on row order.
    public var labelledInCanonicalOrder: [PatientPrediction] {
        patients.filter { $0.label != nil }.sorted { PredictionSet.precedes($0.patientID, $1.patientID) }
    }

    /// Patient-id order: lexicographic over the UTF-8 bytes (Python's `sorted(ids, key=str.encode)`).
    public static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The patients whose `predicate` holds, as a new set from the same source.
    public func filter(_ predicate: (PatientPrediction) -> Bool) -> PredictionSet {
        PredictionSet(source: source, metadataColumns: metadataColumns, patients: patients.filter(predicate))
    }
}
