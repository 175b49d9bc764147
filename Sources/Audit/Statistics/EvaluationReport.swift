import Foundation

/// The output of `mlung-audit evaluate`: one prediction set judged against its labels, by
/// subgroup, and, with a baseline, compared with it. Its JSON form (`jsonData()`) is the
/// stable schema `mlung-audit/evaluation/1` documented in docs/statistics.md.
public struct EvaluationReport: Encodable, Equatable, Sendable {
    public static let schema = "mlung-audit/evaluation/1"

    public var evaluation: Evaluation
    public var subgroups: [SubgroupAnalysis]
    /// The baseline judged on its own, when there is one.
    public var baseline: Evaluation?
    public var comparison: Comparison?
    /// Slice-level figures of a run, when slice labels were given.
    public var slices: SliceEvaluation?

    public init(evaluation: Evaluation, subgroups: [SubgroupAnalysis] = [], baseline: Evaluation? = nil, comparison: Comparison? = nil,
                slices: SliceEvaluation? = nil) {
        self.evaluation = evaluation
        self.subgroups = subgroups
        self.baseline = baseline
        self.comparison = comparison
        self.slices = slices
    }

    /// Evaluates `candidate` (and its subgroups) and, with a `baseline`, evaluates it too and
    /// compares the two.
    public init(candidate: PredictionSet, baseline: PredictionSet? = nil, subgroups specs: [SubgroupSpec] = [],
                options: StatisticsOptions = StatisticsOptions()) throws {
        // Check everything that can fail on the input before the long computations. The
        // baseline is judged with the merged labels (a deployment log may carry none).
        let labelledBaseline = try baseline.map { b in
            PredictionSet(source: b.source, metadataColumns: b.metadataColumns,
                          patients: try Comparator.matched(baseline: b, candidate: candidate).map(\.0))
        }
        let subgroups = try Evaluator.subgroups(candidate, by: specs, options: options)
        self.init(evaluation: try Evaluator.evaluate(candidate, options: options), subgroups: subgroups,
                  baseline: try labelledBaseline.map { try Evaluator.evaluate($0, options: options) },
                  comparison: try baseline.map { try Comparator.compare(baseline: $0, candidate: candidate, options: options) })
    }

    enum CodingKeys: String, CodingKey { case schema, toolVersion = "tool_version", evaluation, subgroups, baseline, comparison, slices }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.schema, forKey: .schema)
        try c.encode(AuditLibrary.toolVersion, forKey: .toolVersion)
        try c.encode(evaluation, forKey: .evaluation)
        try c.encode(subgroups, forKey: .subgroups)
        try c.encode(baseline, forKey: .baseline)
        try c.encode(comparison, forKey: .comparison)
        try c.encode(slices, forKey: .slices)
    }

    /// Pretty-printed JSON with sorted keys; undefined figures are `null`, never omitted.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
