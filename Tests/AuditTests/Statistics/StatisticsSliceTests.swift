import Foundation
import XCTest
@testable import Audit

/// Slice-level figures (`SliceEvaluator`) against scikit-learn, statsmodels and the Python
/// cluster bootstrap (Tests/Fixtures/stats/expected_slices.json, written by
/// `tools/stats_make_fixtures.py --slices-only`), and the join of slice labels to stored outputs.
final class StatisticsSliceTests: XCTestCase {
    static let expected: JSON = {
        let data = try! Data(contentsOf: StatsFixtures.directory.appendingPathComponent("expected_slices.json"))
        return try! JSONDecoder().decode(JSON.self, from: data)
    }()

    static var options: StatisticsOptions {
        StatisticsOptions(seed: UInt64(expected["seed"].int), resamples: expected["resamples"].int,
                          confidenceLevel: expected["level"].double, calibrationBins: expected["bins"].int)
    }

    /// Reads a slice fixture: labels and stored outputs per slice, in the file's (shuffled) order.
    static func slices(_ name: String) throws -> [SlicePrediction] {
        let path = StatsFixtures.path(name)
        let records = try CSVRecords.parse(try String(contentsOfFile: path, encoding: .utf8), path: path)
        let header = records[0].fields
        func column(_ n: String) -> Int { header.firstIndex(of: n)! }
        return records.dropFirst().filter { $0.fields.count == header.count }.map { r in
            let f = r.fields
            let lesion = f[column("lesion")]
            return SlicePrediction(patientID: f[column("patient_id")], sliceIndex: Int(f[column("slice_index")])!,
                                   lesionProbabilities: [Double(f[column("lesion_p0")])!, Double(f[column("lesion_p1")])!],
                                   classProbabilities: Diagnosis.allCases.map { Double(f[column("q_" + $0.name)])! },
                                   lesion: lesion.isEmpty ? nil : lesion == "1",
                                   diagnosis: f[column("class")].isEmpty ? nil : Diagnosis(name: f[column("class")]))
        }
    }

    func testSliceFiguresMatchScikitLearnAndTheClusterBootstrap() throws {
        let cases = Self.expected["cases"].object
        XCTAssertEqual(Set(cases.keys), ["slices_random", "slices_tiny"])
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let units = try Self.slices(c["csv"].string)
            let e = try SliceEvaluator.evaluate(units, source: name, labels: c["csv"].string, options: Self.options)
            let x = c["expected"]
            XCTAssertEqual(e.slices, x["slices"].int, name)
            XCTAssertEqual(e.labelled, x["labelled"].int, name)
            XCTAssertEqual(e.patients, x["patients"].int, "\(name): patients (bootstrap clusters)")
            XCTAssertEqual(e.lesion.positives, x["positives"].int, name)
            XCTAssertEqual(e.lesion.negatives, x["negatives"].int, name)
            assertProportion(e.lesion.sensitivity, x["sensitivity"], "\(name) lesion sensitivity (recall_score)")
            assertProportion(e.lesion.specificity, x["specificity"], "\(name) lesion specificity")
            assertProportion(e.lesion.accuracy, x["accuracy"], "\(name) lesion accuracy (accuracy_score)")
            assertClose(e.lesion.auc.value, x["auc"]["value"], "\(name) lesion AUC (roc_auc_score)")
            assertClose(e.lesion.auc.standardError, x["auc"]["delong_se"], "\(name) lesion DeLong SE")
            assertClose(e.lesion.auc.delong, x["auc"]["delong"], "\(name) lesion DeLong interval")
            assertClose(e.lesion.auc.bootstrap, x["auc"]["bootstrap"], "\(name) lesion AUC bootstrap by patient")
            let roc = x["roc"]
            XCTAssertEqual(e.lesion.roc.count, roc["fpr"].array.count, "\(name) ROC points (roc_curve)")
            for (i, p) in e.lesion.roc.enumerated() where i < roc["fpr"].array.count {
                XCTAssertEqual(p.falsePositiveRate, roc["fpr"][i].double, "\(name) fpr \(i)")
                XCTAssertEqual(p.truePositiveRate, roc["tpr"][i].double, "\(name) tpr \(i)")
                if !roc["thresholds"][i].isNull { XCTAssertEqual(p.threshold, roc["thresholds"][i].double, "\(name) threshold \(i)") }
            }

            let classes = try XCTUnwrap(e.classes, name)
            let xc = x["classes"]
            XCTAssertEqual(classes.labelled, xc["labelled"].int, name)
            XCTAssertEqual(classes.confusion.counts, xc["confusion"].array.map { $0.array.map(\.int) }, "\(name) slice confusion")
            for m in MetricID.all {
                assertClose(classes.value(m), xc["metrics"][m.name]["value"], "\(name) slice \(m.name)")
                assertClose(classes.bootstrapInterval(m), xc["metrics"][m.name]["bootstrap"], "\(name) slice \(m.name) bootstrap by patient")
            }
            for d in Diagnosis.allCases {
                assertClose(classes.classes[d.rawValue].auc.standardError, xc["delong_se"][d.rawValue], "\(name) slice \(d.name) DeLong SE")
            }
        }
    }

    func testSliceFiguresIgnoreRowOrderAndDependOnTheSeed() throws {
        let units = try Self.slices("slices_tiny.csv")
        let options = StatisticsOptions(seed: 3, resamples: 300)
        let a = try SliceEvaluator.evaluate(units, source: "s", labels: "l", options: options)
        let b = try SliceEvaluator.evaluate(units.reversed(), source: "s", labels: "l", options: options)
        XCTAssertEqual(a, b)
        let c = try SliceEvaluator.evaluate(units, source: "s", labels: "l", options: StatisticsOptions(seed: 4, resamples: 300))
        XCTAssertNotEqual(a.lesion.auc.bootstrap, c.lesion.auc.bootstrap)
        XCTAssertEqual(a.lesion.auc.value, c.lesion.auc.value)
    }

    /// One slice per patient: the cluster bootstrap is the patient bootstrap of `Evaluator`.
    func testOneSlicePerPatientIsThePatientBootstrap() throws {
        let set = try StatsFixtures.set("tiny.csv")
        let units = set.patients.map {
            SlicePrediction(patientID: $0.patientID, sliceIndex: 0, lesionProbabilities: [0.5, 0.5], classProbabilities: $0.probabilities,
                            lesion: false, diagnosis: $0.label)
        }
        let options = StatisticsOptions(seed: 11, resamples: 400)
        let slices = try SliceEvaluator.evaluate(units, source: "s", labels: "l", options: options)
        let patients = try Evaluator.evaluate(set, options: options)
        for m in MetricID.all {
            XCTAssertEqual(slices.classes?.bootstrapInterval(m), patients.bootstrapInterval(m), m.name)
            XCTAssertEqual(slices.classes?.value(m), patients.value(m), m.name)
        }
    }

    func testSliceLabelsParseAndJoin() throws {
        let csv = """
            patient_id,slice_index,lesion,class,z_mm,extra
            B,0,1,covid19,10.0,x
            B,2,no,healthy,20.0,x
            A,1,,,, 
            A,0,true,h1n1,,
            """
        let labels = try SliceLabelSet(csv: csv, path: "l.csv")
        XCTAssertEqual(labels.keyColumn, "slice_index")
        XCTAssertTrue(labels.hasClass)
        XCTAssertEqual(labels.labels.count, 4)
        XCTAssertEqual(labels.labels[0], SliceLabel(patientID: "B", key: .index(0), lesion: true, diagnosis: .covid19, z: 10, line: 2))
        func stored(_ n: Int, z0: Double) -> [StoredSliceOutput] {
            (0..<n).map { StoredSliceOutput(sliceIndex: $0, position: z0 + 5 * Double($0), sopInstanceUID: "u\($0)",
                                            lesionProbabilities: [0.6, 0.4], classProbabilities: [0.6, 0.2, 0.1, 0.1]) }
        }
        let outputs = ["A": stored(2, z0: 0), "B": stored(3, z0: 10), "C": stored(2, z0: 0)]
        let joined = try SliceJoin.join(labels, outputs: outputs)
        XCTAssertEqual(joined.slices.map { "\($0.patientID)\($0.sliceIndex)" }, ["A0", "A1", "B0", "B1", "B2", "C0", "C1"])
        XCTAssertEqual(joined.slices.map(\.lesion), [true, nil, true, nil, false, nil, nil])
        XCTAssertEqual(joined.slices[0].diagnosis, .h1n1)
        XCTAssertTrue(joined.notes.contains { $0.contains("1 of 3 patients of the run have no slice labels") }, "\(joined.notes)")

        // A slice the run does not have, a position that disagrees (numbered from the top), a duplicate.
        let outOfRange = try SliceLabelSet(csv: "patient_id,slice_index,lesion\nA,2,1\n", path: "o.csv")
        XCTAssertThrowsError(try SliceJoin.join(outOfRange, outputs: outputs)) {
            XCTAssertTrue("\($0)".contains("o.csv:2") && "\($0)".contains("no slice_index 2"), "\($0)")
        }
        let reversed = try SliceLabelSet(csv: "patient_id,slice_index,lesion,z_mm\nB,0,1,20\n", path: "r.csv")
        XCTAssertThrowsError(try SliceJoin.join(reversed, outputs: outputs)) {
            XCTAssertTrue("\($0)".contains("r.csv:2") && "\($0)".contains("numbered from the top"), "\($0)")
        }
        XCTAssertThrowsError(try SliceLabelSet(csv: "patient_id,slice_index,lesion\nA,0,1\nA,0,0\n", path: "d.csv")) {
            XCTAssertTrue("\($0)".contains("d.csv:3") && "\($0)".contains("duplicate"), "\($0)")
        }
        XCTAssertThrowsError(try SliceLabelSet(csv: "patient_id,lesion\nA,1\n", path: "k.csv")) {
            XCTAssertTrue("\($0)".contains("slice_index"), "\($0)")
        }
        XCTAssertThrowsError(try SliceLabelSet(csv: "patient_id,slice_index,lesion\nA,0,maybe\n", path: "v.csv"))
        // SOP Instance UIDs join through the stored UIDs.
        let byUID = try SliceLabelSet(csv: "patient_id,sop_instance_uid,lesion\nC,u1,1\n", path: "u.csv")
        let j = try SliceJoin.join(byUID, outputs: outputs)
        XCTAssertEqual(j.slices.filter { $0.lesion == true }.map { "\($0.patientID)\($0.sliceIndex)" }, ["C1"])
    }

    func testSliceGates() throws {
        let units = try Self.slices("slices_tiny.csv")
        let slices = try SliceEvaluator.evaluate(units, source: "s", labels: "l", options: StatisticsOptions(resamples: 0))
        let patients = try Evaluator.evaluate(try StatsFixtures.set("tiny.csv"), options: StatisticsOptions(resamples: 0))
        let rules = try JSONDecoder().decode([GateRule].self, from: Data("""
            [{"metric": "slice.lesion.sensitivity", "min": 0.0}, {"metric": "slice.lesion.auc", "min": 1.01},
             {"metric": "slice.accuracy", "max": 1.0}]
            """.utf8))
        XCTAssertEqual(rules, [.sliceMinimum(metric: .lesionSensitivity, value: 0), .sliceMinimum(metric: .lesionAUC, value: 1.01),
                               .sliceMaximum(metric: .classes(.accuracy), value: 1)])
        let v = RegressionGate.judge(rules, candidate: patients, comparison: nil, deployment: nil, slices: slices)
        XCTAssertEqual(v.outcomes.map(\.status), [.pass, .fail, .pass])
        XCTAssertEqual(v.status, .fail)
        XCTAssertEqual(v.outcomes[1].measured, slices.lesion.auc.value)
        let none = RegressionGate.judge(rules, candidate: patients, comparison: nil, deployment: nil)
        XCTAssertEqual(none.outcomes.map(\.status), [.error, .error, .error])
        for bad in [#"{"metric": "slice.lesion.recall", "min": 0.5}"#, #"{"metric": "slice.lesion.auc", "max_drop": 0.1}"#] {
            XCTAssertThrowsError(try JSONDecoder().decode(GateRule.self, from: Data(bad.utf8)), bad)
        }
    }
}
