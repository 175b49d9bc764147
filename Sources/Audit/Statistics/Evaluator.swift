/// Judges prediction sets against their labels: `evaluate` for one set, `subgroups` for the
/// same by metadata column. Pure functions of value types.
public enum Evaluator {
    /// Every figure of `set` on its labelled patients, with Wilson, DeLong and bootstrap intervals.
    public static func evaluate(_ set: PredictionSet, options: StatisticsOptions = StatisticsOptions()) throws -> Evaluation {
        try options.validate()
        return evaluate(set, labelled: set.labelledInCanonicalOrder, clusters: nil, options: options)
    }

    /// `evaluate` over `labelled` units in the given order; with `clusters` (the cluster of
    /// each unit and the number of clusters) the bootstrap resamples whole clusters: the
    /// slices of a patient are resampled together.
    static func evaluate(_ set: PredictionSet, labelled: [PatientPrediction], clusters: (cluster: [Int], count: Int)?,
                         options: StatisticsOptions) -> Evaluation {
        let cohort = ScoredCohort(labelled, binCount: options.calibrationBins)
        let point = cohort.values(weights: nil)
        var intervals = [BootstrapInterval?](repeating: nil, count: MetricID.all.count)
        if options.resamples > 0 && !labelled.isEmpty {
            let replicates = Bootstrap.replicates(cohort, resamples: options.resamples, seed: options.seed, clusters: clusters)
            for m in intervals.indices {
                intervals[m] = Bootstrap.percentileInterval(replicates[m], level: options.confidenceLevel)
            }
        }
        return assemble(set: set, labelled: labelled, point: point, intervals: intervals, options: options)
    }

    static func assemble(set: PredictionSet, labelled: [PatientPrediction], point: [Double],
                         intervals: [BootstrapInterval?], options: StatisticsOptions) -> Evaluation {
        let level = options.confidenceLevel
        let confusion = ConfusionMatrix(labelled)
        func proportion(_ count: Int, _ total: Int, _ metric: MetricID) -> ProportionEstimate {
            ProportionEstimate(count: count, total: total, value: total > 0 ? Double(count) / Double(total) : nil,
                               wilson: Wilson.interval(count: count, total: total, level: level),
                               bootstrap: intervals[metric.index])
        }
        func defined(_ x: Double) -> Double? { x.isNaN ? nil : x }

        let n = confusion.total
        let healthy = confusion.positives(.healthy)
        let sick = n - healthy
        let sickCalledHealthy = Diagnosis.allCases.filter { $0 != .healthy }.map { confusion[$0, .healthy] }.reduce(0, +)
        let sickRight = Diagnosis.allCases.filter { $0 != .healthy }.map { confusion[$0, $0] }.reduce(0, +)

        var classes: [ClassMetrics] = []
        for d in Diagnosis.allCases {
            let positives = confusion.positives(d), negatives = n - positives
            let falsePositives = confusion.predictedAs(d) - confusion[d, d]
            let scores = labelled.map { $0.probabilities[d.rawValue] }
            let positive = labelled.map { $0.label == d }
            let delong = DeLong.estimate(scores: scores, positive: positive, level: level)
            let auc = AUCEstimate(value: defined(point[MetricID.auc(d).index]), positives: positives, negatives: negatives,
                                  standardError: delong?.standardError, delong: delong?.interval,
                                  bootstrap: intervals[MetricID.auc(d).index])
            classes.append(ClassMetrics(diagnosis: d, positives: positives, negatives: negatives,
                                        sensitivity: proportion(confusion[d, d], positives, .sensitivity(d)),
                                        specificity: proportion(negatives - falsePositives, negatives, .specificity(d)),
                                        auc: auc, roc: ROCCurve.points(scores: scores, positive: positive)))
        }
        let calibration = Calibration(
            brier: ScalarEstimate(value: defined(point[MetricID.brier.index]), bootstrap: intervals[MetricID.brier.index]),
            ece: ScalarEstimate(value: defined(point[MetricID.ece.index]), bootstrap: intervals[MetricID.ece.index]),
            bins: Calibration.reliabilityBins(labelled, bins: options.calibrationBins, level: level))

        var notes: [String] = []
        let unlabelled = set.patients.count - labelled.count
        if unlabelled > 0 {
            notes.append("\(unlabelled) of \(set.patients.count) patients have no label and are left out of the figures")
        }
        if labelled.isEmpty { notes.append("no labelled patients: no figure can be computed") }
        for c in classes where !labelled.isEmpty {
            if c.positives == 0 { notes.append("no \(c.diagnosis.name) patients: \(c.diagnosis.name) sensitivity and AUC are undefined") }
            if c.negatives == 0 { notes.append("only \(c.diagnosis.name) patients: \(c.diagnosis.name) specificity and AUC are undefined") }
            if c.positives == 1 || c.negatives == 1 {
                notes.append("a single \(c.positives == 1 ? "positive" : "negative") for \(c.diagnosis.name): no DeLong interval")
            }
        }
        if options.resamples == 0 {
            notes.append("bootstrap off: no bootstrap intervals")
        } else if options.resamples < StatisticsOptions.defaultResamples {
            notes.append("only \(options.resamples) bootstrap resamples (at least \(StatisticsOptions.defaultResamples) recommended)")
        }
        var warnings: [String] = []
        if !labelled.isEmpty {
            for c in classes where c.positives < options.minimumPositives || c.negatives < options.minimumNegatives {
                warnings.append("\(c.diagnosis.name): \(c.positives) positives, \(c.negatives) negatives (fewer than \(options.minimumPositives) positives or \(options.minimumNegatives) negatives): its sensitivity, specificity and AUC are too uncertain to judge")
            }
        }

        return Evaluation(source: set.source, patients: set.patients.count, labelled: labelled.count,
                          accuracy: proportion(confusion.correct, n, .accuracy),
                          fpe: proportion(healthy - confusion[.healthy, .healthy], healthy, .fpe),
                          fne: proportion(sickCalledHealthy, sick, .fne),
                          fdpe: proportion(sick - sickCalledHealthy - sickRight, sick, .fdpe),
                          classes: classes, confusion: confusion, calibration: calibration, settings: options,
                          notes: notes, warnings: warnings)
    }
}
