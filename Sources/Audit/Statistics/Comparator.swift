/// Compares a candidate prediction set with a baseline on the same patients: paired
/// bootstrap of every metric, McNemar, DeLong's paired test, flips and agreement.
public enum Comparator {
    /// The comparison of `candidate` with `baseline`.
    ///
    /// The two sets must hold the same patient ids. A patient's label is the candidate's, or
    /// the baseline's when the candidate has none (a deployment log may carry no labels);
    /// labels given in both must be equal.
    public static func compare(baseline: PredictionSet, candidate: PredictionSet,
                               options: StatisticsOptions = StatisticsOptions()) throws -> Comparison {
        try options.validate()
        let pairs = try matched(baseline: baseline, candidate: candidate)
        let labelledPairs = pairs.filter { $0.0.label != nil }
        let a = labelledPairs.map(\.0), b = labelledPairs.map(\.1)
        let cohortA = ScoredCohort(a, binCount: options.calibrationBins)
        let cohortB = ScoredCohort(b, binCount: options.calibrationBins)
        let pointA = cohortA.values(weights: nil), pointB = cohortB.values(weights: nil)

        var differences = [[Double]](repeating: [], count: MetricID.all.count)
        if options.resamples > 0 && !a.isEmpty {
            Bootstrap.forEachResample(patients: a.count, resamples: options.resamples, seed: options.seed) { w in
                let va = cohortA.values(weights: w), vb = cohortB.values(weights: w)
                for m in va.indices { differences[m].append(vb[m] - va[m]) }
            }
        }
        func defined(_ x: Double) -> Double? { x.isNaN ? nil : x }
        let metrics = MetricID.all.map { m in
            let i = m.index
            let d = pointB[i] - pointA[i]
            return MetricComparison(metric: m, baseline: defined(pointA[i]), candidate: defined(pointB[i]), difference: defined(d),
                                    bootstrap: Bootstrap.percentileInterval(differences[i], level: options.confidenceLevel),
                                    p: Bootstrap.pairedPValue(differences[i]))
        }

        var bothRight = 0, onlyA = 0, onlyB = 0, bothWrong = 0
        var flips: [Flip] = []
        for (pa, pb) in labelledPairs {
            switch (pa.isCorrect!, pb.isCorrect!) {
            case (true, true): bothRight += 1
            case (false, false): bothWrong += 1
            case (true, false), (false, true):
                let rightToWrong = pa.isCorrect!
                if rightToWrong { onlyA += 1 } else { onlyB += 1 }
                flips.append(Flip(patientID: pa.patientID, label: pa.label!, direction: rightToWrong ? .rightToWrong : .wrongToRight,
                                  baselinePredicted: pa.predicted, candidatePredicted: pb.predicted,
                                  baselineProbabilities: pa.probabilities, candidateProbabilities: pb.probabilities))
            }
        }
        let mcnemar = labelledPairs.isEmpty ? nil
            : McNemarTest(bothCorrect: bothRight, baselineOnlyCorrect: onlyA, candidateOnlyCorrect: onlyB, bothWrong: bothWrong)

        let delong = Diagnosis.allCases.map { d -> PairedAUCTest in
            let positive = a.map { $0.label == d }
            guard let t = DeLong.pairedTest(scoresA: b.map { $0.probabilities[d.rawValue] },
                                            scoresB: a.map { $0.probabilities[d.rawValue] },
                                            positive: positive, level: options.confidenceLevel) else {
                return PairedAUCTest(diagnosis: d)
            }
            return PairedAUCTest(diagnosis: d, baseline: t.aucB, candidate: t.aucA, difference: t.difference,
                                 standardError: t.standardError, z: t.z, p: t.p, interval: t.interval)
        }

        var notes: [String] = []
        let unlabelled = pairs.count - labelledPairs.count
        if unlabelled > 0 {
            notes.append("\(unlabelled) of \(pairs.count) patients have no label: they count in the agreement only")
        }
        if options.resamples == 0 { notes.append("bootstrap off: no bootstrap intervals or p-values") }
        for t in delong where t.difference != nil && t.standardError == nil {
            notes.append("\(t.diagnosis.name): fewer than 2 positives or negatives: no DeLong test")
        }
        return Comparison(baseline: baseline.source, candidate: candidate.source, patients: pairs.count,
                          labelled: labelledPairs.count, metrics: metrics, mcnemar: mcnemar, delong: delong, flips: flips,
                          agreement: Agreement(pairs: pairs), settings: options, notes: notes)
    }

    /// (baseline, candidate) pairs of the same patient, by patient id, both carrying the merged label.
    static func matched(baseline: PredictionSet, candidate: PredictionSet) throws -> [(PatientPrediction, PatientPrediction)] {
        var byID: [String: PatientPrediction] = [:]
        for p in baseline.patients { byID[p.patientID] = p }
        let candidateIDs = Set(candidate.patients.map(\.patientID))
        func mismatch(_ reason: String) -> StatisticsError {
            .mismatchedCohorts(baseline: baseline.source, candidate: candidate.source, reason: reason)
        }
        let missingInBaseline = candidate.patients.map(\.patientID).filter { byID[$0] == nil }.sorted(by: PredictionSet.precedes)
        let missingInCandidate = baseline.patients.map(\.patientID).filter { !candidateIDs.contains($0) }.sorted(by: PredictionSet.precedes)
        func listed(_ ids: [String]) -> String {
            ids.prefix(5).map { "'\($0)'" }.joined(separator: ", ") + (ids.count > 5 ? " and \(ids.count - 5) more" : "")
        }
        if !missingInBaseline.isEmpty {
            throw mismatch("\(missingInBaseline.count) patients are not in the baseline: \(listed(missingInBaseline))")
        }
        if !missingInCandidate.isEmpty {
            throw mismatch("\(missingInCandidate.count) patients are not in the candidate: \(listed(missingInCandidate))")
        }
        var pairs: [(PatientPrediction, PatientPrediction)] = []
        for var c in candidate.patients.sorted(by: { PredictionSet.precedes($0.patientID, $1.patientID) }) {
            var b = byID[c.patientID]!
            if let lb = b.label, let lc = c.label, lb != lc {
                throw mismatch("patient '\(c.patientID)' is labelled \(lc.name) in the candidate and \(lb.name) in the baseline")
            }
            let label = c.label ?? b.label
            c.label = label
            b.label = label
            pairs.append((b, c))
        }
        return pairs
    }
}

extension PairedAUCTest {
    init(diagnosis: Diagnosis) {
        self.init(diagnosis: diagnosis, baseline: nil, candidate: nil, difference: nil, standardError: nil, z: nil, p: nil, interval: nil)
    }
}
