/// One metric of one class (or overall), for the candidate and optionally the baseline.
public struct MetricRow: Sendable {
    public var metric: String
    /// nil for an overall metric.
    public var className: String?
    public var candidate: Estimate
    public var baseline: Estimate?
    /// Whether a rise is an improvement (AUC) or a worsening (ECE).
    public var higherIsBetter: Bool
    /// Printed as a percentage (sensitivity) or a plain number (AUC).
    public var isProportion: Bool
    /// Whether the difference to the baseline is significant (from the comparison's test).
    public var significantChange: Bool

    public init(metric: String, className: String?, candidate: Estimate, baseline: Estimate?,
                higherIsBetter: Bool = true, isProportion: Bool = false, significantChange: Bool = false) {
        self.metric = metric; self.className = className; self.candidate = candidate; self.baseline = baseline
        self.higherIsBetter = higherIsBetter; self.isProportion = isProportion; self.significantChange = significantChange
    }
}

/// One point of a ROC curve.
public struct ROCPoint: Sendable, Equatable {
    public var falsePositiveRate: Double
    public var truePositiveRate: Double
    public init(_ fpr: Double, _ tpr: Double) { falsePositiveRate = fpr; truePositiveRate = tpr }
}

/// The one-vs-rest ROC curve of one class under one model version.
public struct ROCCurve: Sendable {
    public var className: String
    /// Which model, e.g. "demo-v2 (candidate)".
    public var modelLabel: String
    public var points: [ROCPoint]
    public var auc: Estimate
    public var style: SeriesStyle?

    public init(className: String, modelLabel: String, points: [ROCPoint], auc: Estimate, style: SeriesStyle? = nil) {
        self.className = className; self.modelLabel = modelLabel; self.points = points; self.auc = auc; self.style = style
    }

    /// "demo-v2 AUC 0.93 (0.90–0.96)".
    public var legendLabel: String { "\(modelLabel) AUC \(auc.formatted(digits: 2))" }
}

/// Counts of true class (rows) against predicted class (columns).
public struct ConfusionMatrix: Sendable {
    public var title: String
    public var classNames: [String]
    public var counts: [[Int]]
    public init(title: String, classNames: [String], counts: [[Int]]) {
        self.title = title; self.classNames = classNames; self.counts = counts
    }

    /// Share of the diagonal (overall accuracy).
    public var accuracy: Double {
        let total = counts.joined().reduce(0, +)
        let diag = counts.indices.reduce(0) { $0 + counts[$1][$1] }
        return total == 0 ? 0 : Double(diag) / Double(total)
    }
}

/// One probability bin of a reliability diagram.
public struct ReliabilityBin: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var meanPredicted: Double
    public var observedFrequency: Double
    public var count: Int
    public init(lower: Double, upper: Double, meanPredicted: Double, observedFrequency: Double, count: Int) {
        self.lower = lower; self.upper = upper; self.meanPredicted = meanPredicted
        self.observedFrequency = observedFrequency; self.count = count
    }
}

/// The calibration of one class under one model version.
public struct ReliabilitySeries: Sendable {
    public var className: String
    public var modelLabel: String
    public var bins: [ReliabilityBin]
    /// Expected calibration error.
    public var ece: Estimate
    /// Axis names of the diagram (defaults: a class's predicted probability against its observed frequency).
    public var observedLabel = "Observed frequency"
    public var predictedLabel = "Mean predicted probability"
    public init(className: String, modelLabel: String, bins: [ReliabilityBin], ece: Estimate) {
        self.className = className; self.modelLabel = modelLabel; self.bins = bins; self.ece = ece
    }
}
