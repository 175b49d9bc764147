import Foundation

/// How to split a cohort by a metadata column: by each distinct value (`site`), or a numeric
/// column into bands at given edges (`age:40,65` gives `<40`, `40-<65`, `>=65`).
public struct SubgroupSpec: Equatable, Sendable, CustomStringConvertible {
    /// The group of patients whose value is empty.
    public static let missing = "(missing)"

    /// The metadata column (lower case, as in the CSV header).
    public var column: String
    /// Increasing band edges for a numeric column; nil groups by the exact value.
    public var bandEdges: [Double]?

    public init(column: String, bandEdges: [Double]? = nil) {
        self.column = column.lowercased()
        self.bandEdges = bandEdges
    }

    /// Parses `COLUMN` or `COLUMN:EDGE,EDGE,...` (edges strictly increasing numbers).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let column = parts[0].trimmingCharacters(in: .whitespaces)
        guard !column.isEmpty else { throw StatisticsError.invalidSubgroup(spec: text, reason: "empty column name") }
        guard parts.count == 2 else { self.init(column: column); return }
        var edges: [Double] = []
        for e in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
            let t = e.trimmingCharacters(in: .whitespaces)
            guard let x = Double(t), x.isFinite else {
                throw StatisticsError.invalidSubgroup(spec: text, reason: "band edge '\(t)' is not a finite number")
            }
            if let last = edges.last, x <= last {
                throw StatisticsError.invalidSubgroup(spec: text, reason: "band edges must increase")
            }
            edges.append(x)
        }
        self.init(column: column, bandEdges: edges)
    }

    public var description: String {
        guard let edges = bandEdges else { return column }
        return column + ":" + edges.map(Self.format).joined(separator: ",")
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    /// The band names in order: `<e1`, `e1-<e2`, ..., `>=ek`.
    var bandNames: [String] {
        guard let edges = bandEdges, !edges.isEmpty else { return [] }
        var names = ["<" + Self.format(edges[0])]
        for i in edges.indices.dropFirst() {
            names.append(Self.format(edges[i - 1]) + "-<" + Self.format(edges[i]))
        }
        names.append(">=" + Self.format(edges[edges.count - 1]))
        return names
    }

    /// The group of one patient's value.
    func group(of raw: String?, patient: String) throws -> String {
        let value = (raw ?? "").trimmingCharacters(in: .whitespaces)
        if value.isEmpty { return Self.missing }
        guard let edges = bandEdges else { return value }
        guard let x = Double(value), x.isFinite else {
            throw StatisticsError.invalidSubgroup(spec: description, reason: "patient '\(patient)' has \(column) '\(value)', not a number")
        }
        let band = edges.firstIndex(where: { x < $0 }) ?? edges.count
        return bandNames[band]
    }
}

/// One subgroup's size and figures.
public struct Subgroup: Encodable, Equatable, Sendable {
    /// The column value, band name or `(missing)`.
    public var value: String
    public var evaluation: Evaluation
    /// True when the evaluation has warnings: some figure rests on too few patients to judge.
    public var tooSmall: Bool { !evaluation.warnings.isEmpty || evaluation.labelled == 0 }

    enum CodingKeys: String, CodingKey { case value, patients, labelled, tooSmall = "too_small", evaluation }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(evaluation.patients, forKey: .patients)
        try c.encode(evaluation.labelled, forKey: .labelled)
        try c.encode(tooSmall, forKey: .tooSmall)
        try c.encode(evaluation, forKey: .evaluation)
    }
}

/// A cohort split by one `SubgroupSpec`.
public struct SubgroupAnalysis: Encodable, Equatable, Sendable {
    public var spec: SubgroupSpec
    /// Groups in order: bands in increasing order or values by UTF-8 bytes, `(missing)` last.
    public var groups: [Subgroup]

    enum CodingKeys: String, CodingKey { case spec, column, groups }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(spec.description, forKey: .spec)
        try c.encode(spec.column, forKey: .column)
        try c.encode(groups, forKey: .groups)
    }
}

extension Evaluator {
    /// The cohort split by each spec, every group evaluated on its own (its own bootstrap,
    /// with the same seed) and checked against the warning rule of `options`.
    public static func subgroups(_ set: PredictionSet, by specs: [SubgroupSpec],
                                 options: StatisticsOptions = StatisticsOptions()) throws -> [SubgroupAnalysis] {
        try specs.map { spec in
            guard set.metadataColumns.contains(spec.column) else {
                let available = set.metadataColumns.isEmpty ? "none" : set.metadataColumns.joined(separator: ", ")
                throw StatisticsError.invalidSubgroup(spec: spec.description,
                                                      reason: "\(set.source) has no column '\(spec.column)' (metadata columns: \(available))")
            }
            var members: [String: [PatientPrediction]] = [:]
            for p in set.patients {
                members[try spec.group(of: p.metadata[spec.column], patient: p.patientID), default: []].append(p)
            }
            let order: [String]
            if spec.bandEdges != nil {
                order = (spec.bandNames + [SubgroupSpec.missing]).filter { members[$0] != nil }
            } else {
                order = members.keys.filter { $0 != SubgroupSpec.missing }.sorted(by: PredictionSet.precedes)
                    + (members[SubgroupSpec.missing] != nil ? [SubgroupSpec.missing] : [])
            }
            let groups = try order.map { value in
                let subset = PredictionSet(source: "\(set.source) [\(spec.column) = \(value)]",
                                           metadataColumns: set.metadataColumns, patients: members[value]!)
                return Subgroup(value: value, evaluation: try evaluate(subset, options: options))
            }
            return SubgroupAnalysis(spec: spec, groups: groups)
        }
    }
}
