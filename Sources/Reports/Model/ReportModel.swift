/// Everything the QA report shows, as plain values. The audit store fills it from a run
/// (and a baseline run, and a drift check); `ReportModel.demo()` fills it with synthetic data.
public struct ReportModel: Sendable {
    public var cover: CoverInfo
    public var classNames: [String]
    /// The metric compared in the subgroup table, e.g. "COVID-19 AUC".
    public var subgroupMetric: String
    public var metrics: [MetricRow]
    /// ROC curves, grouped by class in the order of `classNames`.
    public var rocCurves: [ROCCurve]
    public var confusionMatrices: [ConfusionMatrix]
    public var reliability: [ReliabilitySeries]
    public var subgroups: [SubgroupRow]
    public var flips: [FlipCase]
    public var failureModes: [FailureModeRow]
    public var drift: DriftSection?
    /// The stored failure-mode flags of the run; nil: the legacy `failureModes` rows (or "not evaluated").
    public var flags: FlagsSection?
    public var appendix: AppendixInfo
    /// Example slices for the failure-mode section (optional).
    public var exampleSlices: SliceStrip?

    public init(cover: CoverInfo, classNames: [String], subgroupMetric: String, metrics: [MetricRow], rocCurves: [ROCCurve],
                confusionMatrices: [ConfusionMatrix], reliability: [ReliabilitySeries], subgroups: [SubgroupRow],
                flips: [FlipCase], failureModes: [FailureModeRow], drift: DriftSection?, appendix: AppendixInfo,
                exampleSlices: SliceStrip? = nil, flags: FlagsSection? = nil) {
        self.cover = cover; self.classNames = classNames; self.subgroupMetric = subgroupMetric; self.metrics = metrics
        self.rocCurves = rocCurves; self.confusionMatrices = confusionMatrices; self.reliability = reliability
        self.subgroups = subgroups; self.flips = flips; self.failureModes = failureModes; self.drift = drift
        self.appendix = appendix; self.exampleSlices = exampleSlices; self.flags = flags
    }
}
