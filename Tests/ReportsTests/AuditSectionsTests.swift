import Foundation
import XCTest
@testable import Reports

/// The drift analysis, the stored-flags section and nightly gates on the report, rendered from
/// values: every page drawn, and the numbers in the text equal to the model's.
final class AuditSectionsTests: XCTestCase {
    static let secret = Array("audit-sections-secret-0123456789".utf8)

    /// The demo report with a drift analysis, stored flags and gates from a nightly verdict.
    static func model() -> ReportModel {
        var m = ReportModel.demo()
        var rng = SplitMix64(seed: 3)
        let ref = (0..<40).map { _ in 15 + 2 * rng.normal() }, cand = (0..<36).map { _ in 33 + 4 * rng.normal() }
        let analysis = DriftAnalysis(
            overall: "input_drift", overallWords: "drift in the inputs only",
            topFactors: ["noise index 33.2 HU vs 15.1 HU (x2.2)", "outside air −978 HU vs −1000 HU (+22 HU)"],
            factors: [
                .init(id: "metadata.kernel", group: "metadata", name: "kernel", test: "chi-square", effectName: "TV", effect: 0.05,
                      minimumEffect: 0.1, p: 0.41, pAdjusted: 1, verdict: "stable", description: "kernel LUNG (100%) vs LUNG (100%)"),
                .init(id: "image.noise_index", group: "image", name: "noise index", test: "KS (exact)", effectName: "KS D", effect: 0.9861,
                      minimumEffect: 0.2, p: 1e-9, pAdjusted: 2e-8, verdict: "drift", description: "noise index 33.2 HU vs 15.1 HU (x2.2)"),
                .init(id: "image.hu_air", group: "image", name: "outside air", test: "KS (exact)", effectName: "KS D", effect: 0.7125,
                      minimumEffect: 0.2, p: 0.0004, pAdjusted: 0.0061, verdict: "drift", description: "outside air −978 HU vs −1000 HU (+22 HU)"),
                .init(id: "outputs.predicted_class", group: "outputs", name: "predicted class", test: "chi-square (perm.)", effectName: "TV",
                      effect: 0.125, minimumEffect: 0.1, p: 0.21, pAdjusted: 0.84, verdict: "inconclusive", description: "predicted class COVID-19 (40%) vs Healthy (45%)"),
                .init(id: "features.patient", group: "features", name: "patient features", test: "MMD (perm.)", effectName: "MMD²", effect: 0.00412,
                      minimumEffect: 0.01, p: 0.032, pAdjusted: 0.19, verdict: "stable", description: "patient features MMD² 0.00412 (40 vs 36 patients)"),
            ],
            plots: [
                .categories(id: "drift-class", name: "predicted class", categories: ["Healthy", "COVID-19", "H1N1", "CAP"],
                            reference: [18, 12, 5, 5], candidate: [10, 14, 6, 6], verdict: "inconclusive", effect: "TV 0.125"),
                .ecdf(id: "drift-noise", name: "noise index", unit: "HU", reference: ref, candidate: cand, verdict: "drift", effect: "KS D 0.986"),
            ],
            performance: [("Accuracy, reference run 2", "87.5 % (95 % CI 73.9–94.5, Wilson), 35 of 40 right"),
                          ("Label-free accuracy estimate, this run", "81.0 % (average confidence)")],
            multipleTesting: "Holm step-down over the 5 tested factors, family-wise error rate 0.05", alpha: 0.05,
            notes: ["large but not significant (more patients needed): predicted class"],
            referenceRun: "run 2 \"scanner-a\": 40 patients", candidateRun: "run 7 \"scanner-b\": 36 patients")
        m.drift = DriftSection(referenceCohort: "reference run 2", currentCohort: "run 7", features: [], psiThreshold: 0, analysis: analysis)
        m.flags = FlagsSection(
            computed: true, computeCommand: "mlung-audit flags --run 7", computedAt: "2024-05-02T10:00:00Z", toolVersion: "1.0",
            settings: "version flips against run 3", patientsJudged: 36, storeOnly: 1, flaggedPatients: 4,
            rows: [.init(flag: "pulsatile_artifact", description: "Heart-motion artifact beside the heart taken for disease", patients: 3,
                         levels: [("probable", 2), ("suspected", 1)], healthy: 2, sick: 1, unlabelled: 0),
                   .init(flag: "heavy_noise", description: "Image noise far above the reference", patients: 1, levels: [("flag", 1)],
                         healthy: 0, sick: 1, unlabelled: 0)],
            head: "learned patient network", accuracy: Estimate(0.8333, lower: 0.68, upper: 0.92), accuracyPatients: 36,
            accuracyWithoutPulsatile: Estimate(0.8788, lower: 0.727, upper: 0.952), accuracyWithoutPulsatilePatients: 33, pulsatilePatients: 3,
            patients: (0..<4).map { k in
                .init(patient: PatientIdentifier("SECRET-ID-\(k)"), truth: k == 3 ? "COVID-19" : "Healthy", predicted: "COVID-19",
                      flag: k == 3 ? "heavy_noise" : "pulsatile_artifact", level: k == 3 ? "flag" : (k == 0 ? "suspected" : "probable"),
                      reasons: k == 3 ? ["noise index 41.2 HU over 2x the reference 15.1 HU"] : ["f_band 0.71 >= 0.60", "edge_width_ratio 1.31 >= 1.20"],
                      slices: "slices 31-38")
            })
        m.cover.gates = [
            GateResult(name: "accuracy", criterion: "no drop larger than 0.02 with p < 0.05", observed: "0.0125", outcome: .pass,
                       group: "Cohort retro: run 7 against baseline run 3 (this report) · ERROR", detail: "worse by 0.0125 (baseline 0.85, candidate 0.8375), paired bootstrap p = 0.41"),
            GateResult(name: "sensitivity.covid19", criterion: ">= 0.9", observed: "0.9167", outcome: .pass,
                       group: "Cohort retro: run 7 against baseline run 3 (this report) · ERROR", detail: "sensitivity.covid19 = 0.9167"),
            GateResult(name: "deployment agreement", criterion: "rerun within 0.0001 of the deployment log", observed: "–", outcome: .error,
                       group: "Cohort retro: run 7 against baseline run 3 (this report) · ERROR", detail: "no deployment log to compare with"),
        ]
        m.cover.gateSource = "the nightly verdict verdict.json (mlung-audit/nightly/1, overall ERROR)"
        return m
    }

    func testDriftFlagsAndGatesRenderWithTheirNumbers() throws {
        let m = Self.model()
        let policy = IdentifierPolicy.pseudonymised(try Pseudonymizer(secret: Self.secret))
        let doc = try m.render(templates: try ReportTemplates(directory: repositoryTemplates()), policy: policy)
        let dir = try artifactDirectory("audit-sections")
        let pdf = dir + "/qa-report.pdf"
        try doc.write(to: pdf)
        try doc.markup.write(toFile: dir + "/qa-report.markup.txt", atomically: true, encoding: .utf8)
        try Poppler.run("pdftoppm", ["-png", "-r", "60", pdf, dir + "/page"])
        for page in 1...doc.pageCount {
            let grey = try Poppler.greyPage(pdf, page: page, dpi: 30, prefix: dir + "/grey")
            XCTAssertGreaterThan(Double(grey.pixels.filter { $0 < 200 }.count) / Double(grey.pixels.count), 0.01, "page \(page) looks blank")
        }
        let raw = try Poppler.run("pdftotext", [pdf, "-"])
        let text = raw.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        // Gates: the overall verdict and each gate's values.
        XCTAssertTrue(text.contains("ERROR The release gates could not all be judged: 1 of 3"), "cover verdict")
        XCTAssertTrue(text.contains("Overall verdict ERROR: 2 passed, 0 failed, 1 could not be judged, of 3 gates"))
        for g in m.cover.gates { XCTAssertTrue(text.contains(g.observed), "gate \(g.name) \(g.observed)") }
        XCTAssertTrue(text.contains("Release gates: ERROR"), "summary")
        // Drift: verdict, top factors, effects, plots' captions.
        XCTAssertTrue(text.contains("WARNING Drift in the inputs only: the images differ"))
        for t in m.drift!.analysis!.topFactors { XCTAssertTrue(text.contains(t), t) }
        XCTAssertTrue(text.contains("KS D 0.986"), "noise effect")
        XCTAssertTrue(text.contains("MMD² 0.0041"), "MMD effect")
        XCTAssertTrue(text.contains("2 of 5 factors drift, 1 are inconclusive"))
        XCTAssertTrue(text.contains("< 0.001"), "p-value")
        // Flags: counts, accuracy with and without, and pseudonyms in the patient table.
        XCTAssertTrue(text.contains("4 of 36 patients fired at least one flag"))
        XCTAssertTrue(text.contains("83.3 % (68.0–92.0)") && text.contains("87.9 % (72.7–95.2)"), "accuracy with/without")
        XCTAssertTrue(text.contains("probable 2, suspected 1"))
        XCTAssertTrue(text.contains("f_band 0.71 >= 0.60"))
        XCTAssertFalse(raw.contains("SECRET-ID"), "a patient id in the text")
        XCTAssertTrue(raw.contains(policy.display(PatientIdentifier("SECRET-ID-0"))))
        // The same values render to the same bytes.
        XCTAssertEqual(try m.render(templates: try ReportTemplates(directory: repositoryTemplates()), policy: policy).pdf, doc.pdf)
    }

    func testNotComputedFlagsGiveTheCommand() throws {
        var m = ReportModel.demo()
        m.flags = .notComputed(command: "mlung-audit flags --run 7 --db audit.sqlite")
        let content = m.content(policy: .shown)
        XCTAssertEqual(content.values["flags.computed"], .flag(false))
        let doc = try m.render(templates: try ReportTemplates(directory: repositoryTemplates()), policy: .shown)
        XCTAssertTrue(doc.markup.contains("Not computed: the audit store holds no failure-mode flags"))
        XCTAssertTrue(doc.markup.contains("mlung-audit flags --run 7 --db audit.sqlite"))
    }
}
