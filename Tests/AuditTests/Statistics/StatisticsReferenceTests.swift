import XCTest
@testable import Audit

/// Every figure of `Evaluator` against scikit-learn, statsmodels, SciPy, pROC and the Python
/// bootstrap (Tests/Fixtures/stats/expected.json).
final class StatisticsReferenceTests: XCTestCase {
    func testEvaluationsMatchTheReferences() throws {
        let cases = StatsFixtures.expected["cases"].object
        XCTAssertEqual(Set(cases.keys), ["random", "ties", "rare", "perfect", "tiny"])
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let set = try StatsFixtures.set(c["csv"].string)
            let e = try Evaluator.evaluate(set, options: StatsFixtures.options)
            check(e, set: set, against: c["evaluation"], name)
        }
    }

    func check(_ e: Evaluation, set: PredictionSet, against x: JSON, _ name: String) {
        XCTAssertEqual(e.patients, x["patients"].int, name)
        XCTAssertEqual(e.labelled, x["labelled"].int, name)
        for p in set.patients {
            XCTAssertEqual(p.predicted.name, x["predicted"][p.patientID].string, "\(name) \(p.patientID) argmax")
        }
        XCTAssertEqual(e.confusion.counts, x["confusion"].array.map { $0.array.map(\.int) }, "\(name) confusion")
        assertProportion(e.accuracy, x["accuracy"], "\(name) accuracy")
        assertProportion(e.fpe, x["fpe"], "\(name) FPE")
        assertProportion(e.fne, x["fne"], "\(name) FNE")
        assertProportion(e.fdpe, x["fdpe"], "\(name) FDPE")
        for d in Diagnosis.allCases {
            let c = e.classes[d.rawValue], xc = x["classes"][d.rawValue], what = "\(name) \(d.name)"
            XCTAssertEqual(c.diagnosis, d)
            XCTAssertEqual(c.positives, xc["positives"].int, what)
            XCTAssertEqual(c.negatives, xc["negatives"].int, what)
            assertProportion(c.sensitivity, xc["sensitivity"], what + " sensitivity")
            assertProportion(c.specificity, xc["specificity"], what + " specificity")
            let auc = xc["auc"]
            assertClose(c.auc.value, auc["value"], what + " AUC (roc_auc_score)")
            XCTAssertEqual(c.auc.positives, c.positives)
            assertClose(c.auc.standardError, auc["delong_se"], what + " DeLong SE")
            assertClose(c.auc.delong, auc["delong"], what + " DeLong interval")
            if !auc["proc"].isNull {
                assertClose(c.auc.value, auc["proc"]["auc"], what + " AUC (pROC)")
                assertClose(c.auc.standardError, auc["proc"]["se"], what + " DeLong SE (pROC var)")
                assertClose(c.auc.delong, auc["proc"]["ci"], what + " DeLong interval (pROC ci.auc)")
            }
            assertClose(c.auc.bootstrap, auc["bootstrap"], what + " AUC bootstrap")
            let roc = xc["roc"]
            if roc.isNull {
                XCTAssertTrue(c.roc.isEmpty, what + " ROC")
            } else {
                XCTAssertEqual(c.roc.count, roc["fpr"].array.count, what + " ROC points (roc_curve)")
                for (i, point) in c.roc.enumerated() where i < roc["fpr"].array.count {
                    XCTAssertEqual(point.falsePositiveRate, roc["fpr"][i].double, what + " fpr \(i)")
                    XCTAssertEqual(point.truePositiveRate, roc["tpr"][i].double, what + " tpr \(i)")
                    if roc["thresholds"][i].isNull { XCTAssertEqual(point.threshold, .infinity) }
                    else { XCTAssertEqual(point.threshold, roc["thresholds"][i].double, what + " threshold \(i)") }
                }
            }
        }
        assertClose(e.calibration.brier.value, x["brier"]["value"], "\(name) Brier (brier_score_loss)")
        assertClose(e.calibration.brier.bootstrap, x["brier"]["bootstrap"], "\(name) Brier bootstrap")
        assertClose(e.calibration.ece.value, x["ece"]["value"], "\(name) ECE")
        assertClose(e.calibration.ece.bootstrap, x["ece"]["bootstrap"], "\(name) ECE bootstrap")
        XCTAssertEqual(e.calibration.bins.count, x["bins"].array.count)
        for (b, xb) in zip(e.calibration.bins, x["bins"].array) {
            XCTAssertEqual(b.count, xb["count"].int, "\(name) bin count")
            assertClose(b.meanConfidence, xb["mean_confidence"], "\(name) bin confidence")
            assertClose(b.accuracy, xb["accuracy"], "\(name) bin accuracy")
            assertClose(b.wilson, xb["wilson"], "\(name) bin Wilson")
        }
        let warned = e.warnings.compactMap { w in Diagnosis.allCases.first { w.hasPrefix($0.name + ":") }?.name }
        XCTAssertEqual(warned, x["warning_classes"].array.map(\.string), "\(name) warnings: \(e.warnings)")
    }

    func testComparisonsMatchTheReferences() throws {
        for (name, c) in StatsFixtures.expected["cases"].object.sorted(by: { $0.key < $1.key }) where !c["baseline_csv"].isNull {
            let candidate = try StatsFixtures.set(c["csv"].string)
            let baseline = try StatsFixtures.set(c["baseline_csv"].string)
            let r = try Comparator.compare(baseline: baseline, candidate: candidate, options: StatsFixtures.options)
            let x = c["comparison"]
            XCTAssertEqual(r.labelled, x["labelled"].int, name)
            XCTAssertEqual(r.metrics.map(\.metric), MetricID.all)
            for m in r.metrics {
                let xm = x["metrics"][m.metric.name], what = "\(name) \(m.metric.name)"
                assertClose(m.baseline, xm["baseline"], what + " baseline")
                assertClose(m.candidate, xm["candidate"], what + " candidate")
                assertClose(m.difference, xm["difference"], abs: 1e-12, what + " difference")
                assertClose(m.bootstrap, xm["bootstrap"], what + " paired bootstrap")
                assertClose(m.p, xm["p"], what + " paired bootstrap p")
            }
            let mc = try XCTUnwrap(r.mcnemar), xmc = x["mcnemar"]
            XCTAssertEqual(mc.bothCorrect, xmc["both_correct"].int, name)
            XCTAssertEqual(mc.baselineOnlyCorrect, xmc["baseline_only_correct"].int, name)
            XCTAssertEqual(mc.candidateOnlyCorrect, xmc["candidate_only_correct"].int, name)
            XCTAssertEqual(mc.bothWrong, xmc["both_wrong"].int, name)
            XCTAssertEqual(mc.method.rawValue, xmc["method"].string, name)
            assertClose(mc.statistic, xmc["statistic"], "\(name) McNemar statistic")
            assertClose(mc.p, xmc["p"], "\(name) McNemar p (statsmodels)")
            for t in r.delong {
                let xt = x["delong"][t.diagnosis.rawValue], what = "\(name) DeLong \(t.diagnosis.name)"
                assertClose(t.baseline, xt["baseline"], what + " baseline AUC")
                assertClose(t.candidate, xt["candidate"], what + " candidate AUC")
                assertClose(t.difference, xt["difference"], abs: 1e-12, what + " difference")
                assertClose(t.standardError, xt["se"], what + " SE")
                assertClose(t.z.flatMap { $0.isFinite ? $0 : nil }, xt["z"], abs: 1e-9, what + " z")
                assertClose(t.p, xt["p"], what + " p")
                assertClose(t.interval, xt["interval"], what + " interval")
                let proc = xt["proc"]
                if !proc.isNull && !xt["se"].isNull {
                    assertClose(t.z, proc["z"], abs: 1e-9, what + " z (pROC roc.test)")
                    assertClose(t.p, proc["p"], abs: 1e-12, what + " p (pROC roc.test)")
                    assertClose(t.interval, proc["ci"], rel: 1e-9, what + " interval (pROC roc.test)")
                    assertClose(t.candidate, proc["auc_candidate"], what + " candidate AUC (pROC)")
                }
            }
            let flips = x["flips"].array
            XCTAssertEqual(r.flips.map(\.patientID), flips.map { $0["patient_id"].string }, "\(name) flips")
            for (f, xf) in zip(r.flips, flips) {
                XCTAssertEqual(f.direction.rawValue, xf["direction"].string)
                XCTAssertEqual(f.label.name, xf["label"].string)
                XCTAssertEqual(f.baselinePredicted.name, xf["baseline_predicted"].string)
                XCTAssertEqual(f.candidatePredicted.name, xf["candidate_predicted"].string)
                XCTAssertEqual(f.candidateProbabilities, candidate.patients.first { $0.patientID == f.patientID }!.probabilities)
            }
            let a = r.agreement, xa = x["agreement"]
            XCTAssertEqual(a.patients, xa["patients"].int, name)
            XCTAssertEqual(a.samePrediction, xa["same_prediction"].int, name)
            assertClose(a.kappa, xa["kappa"], "\(name) kappa (cohen_kappa_score)")
            XCTAssertEqual(a.largestDifference?.patientID, xa["largest"]["patient_id"].string, name)
            XCTAssertEqual(a.largestDifference?.diagnosis.name, xa["largest"]["class"].string, name)
            assertClose(a.largestDifference?.absoluteDifference, xa["largest"]["value"], "\(name) largest difference")
            assertClose(a.meanAbsoluteDifference, xa["mean_absolute_difference"], "\(name) mean difference")
            XCTAssertEqual(a.disagreeing.map(\.patientID), xa["disagreeing"].array.map(\.string), name)
        }
    }

    func testSubgroupsMatchTheReferences() throws {
        let c = StatsFixtures.expected["cases"]["random"]
        let set = try StatsFixtures.set(c["csv"].string)
        let specs = try c["subgroups"].array.map { try SubgroupSpec(parsing: $0["spec"].string) }
        let analyses = try Evaluator.subgroups(set, by: specs, options: StatsFixtures.options)
        XCTAssertEqual(analyses.count, 2)
        for (analysis, x) in zip(analyses, c["subgroups"].array) {
            XCTAssertEqual(analysis.spec.description, x["spec"].string)
            let expected = Dictionary(uniqueKeysWithValues: x["groups"].array.map { ($0["value"].string, $0) })
            XCTAssertEqual(Set(analysis.groups.map(\.value)), Set(expected.keys), analysis.spec.description)
            XCTAssertEqual(analysis.groups.reduce(0) { $0 + $1.evaluation.patients }, set.patients.count)
            XCTAssertEqual(analysis.groups.last?.value, SubgroupSpec.missing, "missing values last")
            for g in analysis.groups {
                guard let xg = expected[g.value] else { continue }
                let what = "\(analysis.spec) = \(g.value)"
                XCTAssertEqual(g.evaluation.patients, xg["patients"].int, what)
                XCTAssertEqual(g.evaluation.labelled, xg["labelled"].int, what)
                assertProportion(g.evaluation.accuracy, xg["accuracy"], what + " accuracy")
                for d in Diagnosis.allCases {
                    assertClose(g.evaluation.classes[d.rawValue].auc.value, xg["auc"][d.rawValue], "\(what) AUC \(d.name)")
                }
                let warned = g.evaluation.warnings.compactMap { w in Diagnosis.allCases.first { w.hasPrefix($0.name + ":") }?.name }
                XCTAssertEqual(warned, xg["warning_classes"].array.map(\.string), what)
                XCTAssertEqual(g.tooSmall, !warned.isEmpty, what)
            }
        }
        XCTAssertEqual(analyses[0].groups.map(\.value), ["A", "B", "C", SubgroupSpec.missing])
        XCTAssertEqual(analyses[1].groups.map(\.value), ["<40", "40-<65", ">=65", SubgroupSpec.missing])
    }
}
