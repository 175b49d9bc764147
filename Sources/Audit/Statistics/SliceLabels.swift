import Foundation

/// How a slice-label row names its slice.
public enum SliceKey: Hashable, Sendable, CustomStringConvertible {
    /// The slice's index in the run's order: ascending position along the slice normal,
    /// slice 0 the lowest (the order of `slice_outputs.slice_index` and of the synthetic
    /// generator's `slices.csv`).
    case index(Int)
    /// The DICOM SOP Instance UID (stored with every slice output).
    case sopInstanceUID(String)
    /// The DICOM Instance Number (read back from the series' headers).
    case instanceNumber(Int)

    public var description: String {
        switch self {
        case let .index(i): return "slice_index \(i)"
        case let .sopInstanceUID(u): return "sop_instance_uid \(u)"
        case let .instanceNumber(n): return "instance_number \(n)"
        }
    }
}

/// One row of a slice-label file.
public struct SliceLabel: Sendable, Equatable {
    public var patientID: String
    public var key: SliceKey
    /// Whether the slice shows a lesion; nil when the row leaves it empty.
    public var lesion: Bool?
    /// The slice's class (healthy for a slice without lesion, else the patient's disease); nil when absent.
    public var diagnosis: Diagnosis?
    /// The slice's position in mm along the slice normal (`z_mm`), when the file gives it: the
    /// join checks it against the stored position.
    public var z: Double?
    /// The line of the row (1-based), for messages.
    public var line: Int

    public init(patientID: String, key: SliceKey, lesion: Bool?, diagnosis: Diagnosis? = nil, z: Double? = nil, line: Int = 0) {
        self.patientID = patientID
        self.key = key
        self.lesion = lesion
        self.diagnosis = diagnosis
        self.z = z
        self.line = line
    }
}

/// A slice-label CSV (`evaluate --run R --slice-labels FILE`, or a nightly cohort's
/// `slice_labels`): ground truth per slice.
///
/// Columns (header required; names case-insensitive, any order; other columns ignored, so the
/// synthetic generator's `slices.csv` is read as it is):
/// - `patient_id` (required);
/// - the slice: `slice_index` (0-based, ascending position, as the run stores slices), or
///   `sop_instance_uid`, or `instance_number`; the first of these present is the join key;
/// - `lesion` (required): `1`/`0`, `yes`/`no`, `true`/`false`, or empty (no lesion label);
/// - `class` (optional): `healthy`, `covid19`, `h1n1`, `cap` or empty;
/// - `z_mm` (optional): the slice position in mm, checked against the stored position.
public struct SliceLabelSet: Sendable, Equatable {
    public static let keyColumns = ["slice_index", "sop_instance_uid", "instance_number"]

    public var path: String
    /// The column that names the slice.
    public var keyColumn: String
    public var labels: [SliceLabel]
    /// Whether the file has a `class` column.
    public var hasClass: Bool

    public init(path: String, keyColumn: String, labels: [SliceLabel], hasClass: Bool) {
        self.path = path
        self.keyColumn = keyColumn
        self.labels = labels
        self.hasClass = hasClass
    }

    public init(contentsOfCSV path: String) throws {
        try self.init(csv: try CSVRecords.readText(path), path: path)
    }

    public init(csv text: String, path: String) throws {
        let records = try CSVRecords.parse(text, path: path)
        guard let header = records.first else {
            throw StatisticsError.malformedCSV(path: path, line: 1, column: nil,
                                               reason: "empty file: expected a header with patient_id,slice_index,lesion")
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() where !n.isEmpty {
            if index[n] != nil {
                throw StatisticsError.malformedCSV(path: path, line: header.line, column: n, reason: "duplicate column name")
            }
            index[n] = i
        }
        for required in ["patient_id", "lesion"] where index[required] == nil {
            throw StatisticsError.malformedCSV(path: path, line: header.line, column: required,
                                               reason: "missing required column (header is: \(names.joined(separator: ",")))")
        }
        guard let keyColumn = Self.keyColumns.first(where: { index[$0] != nil }) else {
            throw StatisticsError.malformedCSV(path: path, line: header.line, column: "slice_index",
                                               reason: "no slice column: give slice_index, sop_instance_uid or instance_number")
        }
        var labels: [SliceLabel] = []
        var seen: [String: [SliceKey: Int]] = [:]
        for record in records.dropFirst() {
            let fields = record.fields, line = record.line
            if fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard fields.count == names.count else {
                throw StatisticsError.malformedCSV(path: path, line: line, column: nil,
                                                   reason: "\(fields.count) fields, the header has \(names.count)")
            }
            func value(_ name: String) -> String? { index[name].map { fields[$0].trimmingCharacters(in: .whitespaces) } }
            func fail(_ column: String, _ reason: String) -> StatisticsError {
                .malformedCSV(path: path, line: line, column: column, reason: reason)
            }
            let patient = value("patient_id")!
            if patient.isEmpty { throw fail("patient_id", "empty patient id") }
            let raw = value(keyColumn)!
            let key: SliceKey
            switch keyColumn {
            case "slice_index":
                guard let i = Int(raw), i >= 0 else { throw fail(keyColumn, "'\(raw)' is not a slice index (an integer >= 0)") }
                key = .index(i)
            case "instance_number":
                guard let n = Int(raw) else { throw fail(keyColumn, "'\(raw)' is not an integer") }
                key = .instanceNumber(n)
            default:
                guard !raw.isEmpty else { throw fail(keyColumn, "empty SOP Instance UID") }
                key = .sopInstanceUID(raw)
            }
            if let first = seen[patient]?[key] {
                throw fail(keyColumn, "duplicate slice: patient '\(patient)' \(key) (first on line \(first))")
            }
            seen[patient, default: [:]][key] = line
            let lesionText = value("lesion")!.lowercased()
            let lesion: Bool?
            switch lesionText {
            case "": lesion = nil
            case "1", "yes", "true", "y": lesion = true
            case "0", "no", "false", "n": lesion = false
            default: throw fail("lesion", "'\(lesionText)' is not 1/0, yes/no or true/false")
            }
            var diagnosis: Diagnosis?
            if let c = value("class"), !c.isEmpty {
                guard let d = Diagnosis(name: c) else { throw fail("class", "unknown class '\(c)' (healthy, covid19, h1n1, cap)") }
                diagnosis = d
            }
            var z: Double?
            if let t = value("z_mm"), !t.isEmpty {
                guard let x = Double(t), x.isFinite else { throw fail("z_mm", "'\(t)' is not a finite number") }
                z = x
            }
            labels.append(SliceLabel(patientID: patient, key: key, lesion: lesion, diagnosis: diagnosis, z: z, line: line))
        }
        self.init(path: path, keyColumn: keyColumn, labels: labels, hasClass: index["class"] != nil)
    }
}

/// One stored slice output of a run, as the statistics need it.
public struct StoredSliceOutput: Sendable, Equatable {
    /// Index in the run's slice order (ascending position).
    public var sliceIndex: Int
    /// Position in mm along the slice normal.
    public var position: Double?
    public var sopInstanceUID: String?
    /// The lesion head's window-averaged softmax: (no lesion, lesion).
    public var lesionProbabilities: [Double]
    /// The slice's four-class probabilities q (healthy, covid19, h1n1, cap).
    public var classProbabilities: [Double]

    public init(sliceIndex: Int, position: Double?, sopInstanceUID: String?, lesionProbabilities: [Double], classProbabilities: [Double]) {
        self.sliceIndex = sliceIndex
        self.position = position
        self.sopInstanceUID = sopInstanceUID
        self.lesionProbabilities = lesionProbabilities
        self.classProbabilities = classProbabilities
    }
}

/// One slice's outputs with its labels: the unit of `SliceEvaluator`.
public struct SlicePrediction: Sendable, Equatable {
    public var patientID: String
    public var sliceIndex: Int
    /// (no lesion, lesion); the slice is called a lesion slice when lesion > no lesion.
    public var lesionProbabilities: [Double]
    /// q, in `Diagnosis` order.
    public var classProbabilities: [Double]
    public var lesion: Bool?
    public var diagnosis: Diagnosis?

    public init(patientID: String, sliceIndex: Int, lesionProbabilities: [Double], classProbabilities: [Double],
                lesion: Bool?, diagnosis: Diagnosis? = nil) {
        precondition(lesionProbabilities.count == 2 && classProbabilities.count == Diagnosis.allCases.count)
        self.patientID = patientID
        self.sliceIndex = sliceIndex
        self.lesionProbabilities = lesionProbabilities
        self.classProbabilities = classProbabilities
        self.lesion = lesion
        self.diagnosis = diagnosis
    }

    /// The lesion head's call: lesion probability above the no-lesion probability (a tie is no lesion).
    public var predictedLesion: Bool { lesionProbabilities[1] > lesionProbabilities[0] }
}

/// Joins slice labels to a run's stored slice outputs.
public enum SliceJoin {
    /// The labelled and unlabelled slices of the run's patients, and notes on what was left out.
    ///
    /// - `outputs`: the run's slices per patient (successful patients), in slice order.
    /// - `instanceNumbers`: for a file keyed by `instance_number`, the map from instance
    ///   number to slice index of a patient (read from the DICOM headers); nil otherwise.
    ///
    /// Throws when a row names a slice the run does not have, or when `z_mm` disagrees with the
    /// stored position (the file numbers slices in another order than the run).
    public static func join(_ labels: SliceLabelSet, outputs: [String: [StoredSliceOutput]],
                            instanceNumbers: ((String) throws -> [Int: Int])? = nil) throws -> (slices: [SlicePrediction], notes: [String]) {
        var notes: [String] = []
        var byPatient: [String: [SliceLabel]] = [:]
        for l in labels.labels { byPatient[l.patientID, default: []].append(l) }
        let missing = byPatient.keys.filter { outputs[$0] == nil }.sorted(by: PredictionSet.precedes)
        if !missing.isEmpty {
            let shown = missing.prefix(5).joined(separator: ", ") + (missing.count > 5 ? ", ..." : "")
            notes.append("\(missing.count) patients of \(labels.path) have no slices in the run (failed or not in its cohort) and are left out: \(shown)")
        }
        let unlabelledPatients = outputs.keys.filter { byPatient[$0] == nil }.count
        if unlabelledPatients > 0 {
            notes.append("\(unlabelledPatients) of \(outputs.count) patients of the run have no slice labels")
        }
        var slices: [SlicePrediction] = []
        var unmatched = 0
        for pid in outputs.keys.sorted(by: PredictionSet.precedes) {
            let stored = outputs[pid]!
            var label: [Int: SliceLabel] = [:]
            var uidIndex: [String: Int] = [:]
            if labels.keyColumn == "sop_instance_uid" {
                for s in stored { if let u = s.sopInstanceUID, !u.isEmpty { uidIndex[u] = s.sliceIndex } }
            }
            var numbers: [Int: Int]?
            for l in byPatient[pid] ?? [] {
                let i: Int?
                switch l.key {
                case let .index(k): i = k < stored.count ? k : nil
                case let .sopInstanceUID(u): i = uidIndex[u]
                case let .instanceNumber(n):
                    if numbers == nil {
                        guard let instanceNumbers else {
                            throw StatisticsError.invalidArgument(reason: "\(labels.path): instance_number needs the DICOM headers of the series")
                        }
                        numbers = try instanceNumbers(pid)
                    }
                    i = numbers![n]
                }
                guard let i else {
                    throw StatisticsError.malformedCSV(path: labels.path, line: l.line, column: labels.keyColumn,
                                                       reason: "patient '\(pid)' has no \(l.key) in the run (\(stored.count) slices, slice_index 0-\(stored.count - 1))")
                }
                if let z = l.z, let position = stored[i].position {
                    let tolerance = Self.positionTolerance(stored)
                    if abs(position - z) > tolerance {
                        var reason = "patient '\(pid)' \(l.key): z_mm \(z) but the run's slice \(i) is at \(position) mm (tolerance \(tolerance) mm); "
                            + "the run numbers slices by ascending position, slice 0 the lowest"
                        if let p = stored[stored.count - 1 - i].position, abs(p - z) <= tolerance {
                            reason += " (the file looks numbered from the top)"
                        }
                        throw StatisticsError.malformedCSV(path: labels.path, line: l.line, column: "z_mm", reason: reason)
                    }
                }
                label[i] = l
            }
            for s in stored {
                let l = label[s.sliceIndex]
                if l == nil && byPatient[pid] != nil { unmatched += 1 }
                slices.append(SlicePrediction(patientID: pid, sliceIndex: s.sliceIndex, lesionProbabilities: s.lesionProbabilities,
                                              classProbabilities: s.classProbabilities, lesion: l?.lesion, diagnosis: l?.diagnosis))
            }
        }
        if unmatched > 0 { notes.append("\(unmatched) slices of labelled patients have no row in \(labels.path)") }
        return (slices, notes)
    }

    /// A quarter of the median spacing of the stored positions, at most 0.5 mm.
    static func positionTolerance(_ stored: [StoredSliceOutput]) -> Double {
        let p = stored.compactMap(\.position).sorted()
        guard p.count > 1 else { return 0.5 }
        let gaps = zip(p.dropFirst(), p).map { $0 - $1 }.sorted()
        return min(0.5, max(1e-3, gaps[gaps.count / 2] / 4))
    }
}
