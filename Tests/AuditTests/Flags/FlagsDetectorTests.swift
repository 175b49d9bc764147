import XCTest
import Audit
import Model

/// Each detector on phantoms where it must fire and where it must not.
final class FlagsDetectorTests: XCTestCase {
    func pulsatile(_ p: FlagsPhantom) throws -> FlagEvaluation {
        let c = try p.flagCase()
        return PulsatileArtifactDetector.evaluate(c, anatomy: FlagEngine.analyse(c, config: FlagConfig()), config: FlagConfig().pulsatile)
    }

    func testFlagsPulsatileFiresOnMotionArtifactBesideTheHeart() throws {
        var p = FlagsPhantom()
        p.artifact = true
        let e = try pulsatile(p)
        let f = try XCTUnwrap(e.finding, "measurements: \(e.measurements)")
        XCTAssertGreaterThanOrEqual(f.value("f_band") ?? 0, 0.6)
        XCTAssertGreaterThanOrEqual(f.value("f_heart") ?? 0, 0.8)
        XCTAssertGreaterThanOrEqual(f.value("motion_signs") ?? 0, 1)
        XCTAssertGreaterThan(f.value("band_left_share") ?? 0, 0.5)
        XCTAssertTrue(["suspected", "probable"].contains(f.level))
        XCTAssertFalse(f.slices.isEmpty)
    }

    func testFlagsPulsatileQuietOnMotionFreeHeartBorder() throws {
        var p = FlagsPhantom()
        p.activationBesideHeart = true
        let e = try pulsatile(p)
        XCTAssertNil(e.finding, "measurements: \(e.measurements)")
        // The activation is beside the heart: only the missing motion evidence keeps it quiet.
        XCTAssertGreaterThanOrEqual(e.measurements.first { $0.name == "f_band" }?.value ?? 0, 0.6)
        XCTAssertEqual(e.measurements.first { $0.name == "motion_signs" }?.value, 0)
        XCTAssertLessThan(e.measurements.first { $0.name == "motion_score" }?.value ?? .infinity, FlagConfig().pulsatile.minMotionScore)
    }

    /// The motion score weighs the motion measurements the detector reports (log-odds; each
    /// weight per natural log of its ratio), and its thresholds decide the level.
    func testFlagsPulsatileMotionScoreDecidesTheLevel() throws {
        var p = FlagsPhantom()
        p.artifact = true
        let c = try p.flagCase()
        let anatomy = FlagEngine.analyse(c, config: FlagConfig())
        var config = FlagConfig().pulsatile
        let e = PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config)
        func value(_ name: String) -> Double { e.measurements.first { $0.name == name }?.value ?? .nan }
        let w = config.motionScore
        func term(_ weight: Double, _ x: Double) -> Double { x.isNaN ? 0 : weight * x }
        let expected = w.intercept + term(w.logEdgeWidthRatio, log(value("edge_width_ratio"))) + term(w.logSpreadRatio, log(value("spread_ratio")))
            + term(w.logDarkRatio, log(value("dark_ratio"))) + term(w.logBandingRatio, log(value("banding_ratio")))
            + term(w.doubledExcess, value("doubled_share") - value("doubled_share_wall"))
        XCTAssertFalse(value("edge_width_ratio").isNaN || value("spread_ratio").isNaN || value("dark_ratio").isNaN)
        XCTAssertEqual(value("motion_score"), expected, accuracy: 1e-9)
        let f = try XCTUnwrap(e.finding)
        XCTAssertTrue(f.reasons.contains { $0.hasPrefix("motion score") }, "\(f.reasons)")

        config.probableMotionScore = expected - 0.01
        XCTAssertEqual(PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config).finding?.level, "probable")
        config.probableMotionScore = expected + 0.01
        XCTAssertEqual(PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config).finding?.level, "suspected")
        config.minMotionScore = expected + 0.01
        XCTAssertNil(PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config).finding)
        // A missing ratio adds nothing.
        XCTAssertEqual(PulsatileArtifactDetector.motionScore(edgeWidthRatio: .nan, spreadRatio: .nan, darkRatio: .nan, bandingRatio: .nan,
                                                             doubledShare: .nan, doubledShareWall: .nan, weights: w), w.intercept)
    }

    /// Motion undershoot darkens the lung beside the heart; a still heart border does not.
    func testFlagsPulsatileDarkLungSign() throws {
        let threshold = FlagConfig().pulsatile.darkRatio
        var moving = FlagsPhantom()
        moving.artifact = true
        let m = try pulsatile(moving).measurements.first { $0.name == "dark_ratio" }?.value ?? .nan
        XCTAssertGreaterThanOrEqual(m, threshold)
        var still = FlagsPhantom()
        still.activationBesideHeart = true
        let s = try pulsatile(still).measurements.first { $0.name == "dark_ratio" }?.value ?? .nan
        XCTAssertLessThan(s, threshold)
    }

    /// With the slice-evidence gate on, a call the slices themselves support (the non-parametric
    /// head says not healthy) is disease, not an artifact; a model without that head is not gated.
    func testFlagsPulsatileSliceEvidenceGate() throws {
        var config = FlagConfig().pulsatile
        config.minNonParametricHealthy = 0.8
        var p = FlagsPhantom()
        p.artifact = true
        let c = try p.flagCase()
        let anatomy = FlagEngine.analyse(c, config: FlagConfig())
        let f = try XCTUnwrap(PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config).finding)
        XCTAssertTrue(f.reasons.contains { $0.contains("non-parametric") }, "\(f.reasons)")
        p.nonParametricWhenAbnormal = [0.2, 0.7, 0.05, 0.05]
        let supported = try p.flagCase()
        XCTAssertNil(PulsatileArtifactDetector.evaluate(supported, anatomy: anatomy, config: config).finding)
        var noHead = supported
        noHead.nonParametric = nil
        noHead.nonParametricPredicted = nil
        XCTAssertNotNil(PulsatileArtifactDetector.evaluate(noHead, anatomy: anatomy, config: config).finding)
    }

    /// The counterfactual: the patient network on the stored features of the slices without a
    /// heart, gathered here independently of the detector; the gate fires on either side of it.
    func testFlagsPulsatileCounterfactualWithoutTheHeartLevelSlices() throws {
        var m = ModelConfig()
        m.reducedDim = 16
        m.heads = 2
        m.stageWidths = [8, 8, 16, 16]
        let network = PatientNetwork(try WeightFile.synthetic(config: m, seed: 11))
        var p = FlagsPhantom()
        p.slices = 16
        p.artifact = true
        p.heartOnSlices = 4..<12
        var c = try p.flagCase()
        let d = m.featureDim
        var rng = SplitMix64(seed: 5)
        c.features = (0..<(c.slices.count * d)).map { _ in rng.normal() }
        c.featureDim = d
        c.patientNetwork = network
        let kept = Array(0..<4) + Array(12..<16)
        let x = kept.flatMap { c.features[($0 * d)..<(($0 + 1) * d)] }
        let expected = Double(network.probabilities(features: x, count: kept.count)[0])

        let anatomy = FlagEngine.analyse(c, config: FlagConfig())
        var config = FlagConfig().pulsatile
        config.minHealthyWithoutHeart = 0
        let e = PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config)
        XCTAssertEqual(e.measurements.first { $0.name == "heart_slices" }?.value, 8)
        let measured = try XCTUnwrap(e.measurements.first { $0.name == "healthy_without_heart" }?.value)
        XCTAssertEqual(measured, expected, accuracy: 1e-12)
        XCTAssertNotNil(e.finding, "\(e.measurements)")

        config.minHealthyWithoutHeart = expected - 1e-6
        let fired = try XCTUnwrap(PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config).finding)
        XCTAssertTrue(fired.reasons.contains { $0.contains("without its 8 heart-level slices") }, "\(fired.reasons)")
        config.minHealthyWithoutHeart = expected + 1e-6
        XCTAssertNil(PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config).finding)
        // No network at hand: measured as NaN, not gated.
        c.patientNetwork = nil
        let ungated = PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config)
        XCTAssertNotNil(ungated.finding)
        XCTAssertTrue(ungated.measurements.first { $0.name == "healthy_without_heart" }?.value.isNaN ?? false)
    }

    /// The repair counterfactual's plumbing against the whole pipeline run independently
    /// (spec preprocessing, slice network, patient network): slices replaced by themselves give
    /// the model's own answer, and slices whose soft tissue is changed (lung mask and crop box
    /// unchanged) give the pipeline's answer on the changed volume. The detector measures it on
    /// positive calls with a model at hand, and its gate fires on either side of the value.
    func testFlagsPulsatileRepairCounterfactual() throws {
        var m = ModelConfig()
        m.inputSize = 64
        m.stemWidth = 8
        m.stageBlocks = [1, 1, 1, 1]
        m.stageWidths = [8, 8, 16, 16]
        m.reducedDim = 16
        m.heads = 2
        let model = MLungSys(weights: try WeightFile.synthetic(config: m, seed: 13))
        var p = FlagsPhantom()
        p.slices = 16
        p.artifact = true
        p.heartOnSlices = 4..<12
        var c = try p.flagCase()
        func pipeline(_ volume: [[Float]]) throws -> (SliceResults, [Float]) {
            let pre = try SlicePreprocessor(settings: PreprocessSettings(inputSize: 64), rows: p.size, columns: p.size)
            let input = try volume.flatMap { try pre.preprocess($0).resized }
            let r = input.withUnsafeBufferPointer { model.runSlices(hu: $0, count: volume.count) }
            return (r, model.runPatient(r).probabilities)
        }
        let original = c.slices.map(\.hu)
        let (r, answer) = try pipeline(original)
        c.features = r.features
        c.featureDim = r.featureDim
        c.model = model
        c.patientNetwork = model.patientNetwork

        let heart = Array(4..<12)
        let same = try XCTUnwrap(c.probabilities(replacing: Dictionary(uniqueKeysWithValues: heart.map { ($0, original[$0]) })))
        for (x, y) in zip(same, answer) { XCTAssertEqual(x, Double(y), accuracy: 1e-5) }
        var changed = original
        for z in heart { changed[z] = changed[z].map { $0 >= -100 ? $0 + 60 : $0 } }
        let (_, changedAnswer) = try pipeline(changed)
        XCTAssertGreaterThan(abs(Double(changedAnswer[0]) - Double(answer[0])), 1e-4, "the change must move the answer")
        let viaReplacement = try XCTUnwrap(c.probabilities(replacing: Dictionary(uniqueKeysWithValues: heart.map { ($0, changed[$0]) })))
        for (x, y) in zip(viaReplacement, changedAnswer) { XCTAssertEqual(x, Double(y), accuracy: 1e-5) }
        XCTAssertNil(c.probabilities(replacing: [4: [0, 1, 2]]), "a slice of the wrong size")

        let anatomy = FlagEngine.analyse(c, config: FlagConfig())
        var config = FlagConfig().pulsatile
        let e = PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config)
        let repaired = try XCTUnwrap(e.measurements.first { $0.name == "healthy_band_repaired" }?.value)
        XCTAssertFalse(repaired.isNaN)
        XCTAssertGreaterThan(abs(repaired - Double(answer[0])), 1e-6, "evening out the band changes the answer")
        // The default threshold gates as configured (this small random model's value may lie on either side).
        XCTAssertEqual(e.finding != nil, repaired >= config.minHealthyBandRepaired, "\(e.measurements)")
        config.minHealthyBandRepaired = repaired - 1e-6
        let fired = PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config).finding
        XCTAssertNotNil(fired)
        XCTAssertTrue(fired?.reasons.contains { $0.contains("evened out on its 8 heart-level slices") } ?? false, "\(fired?.reasons ?? [])")
        config.minHealthyBandRepaired = repaired + 1e-6
        XCTAssertNil(PulsatileArtifactDetector.evaluate(c, anatomy: anatomy, config: config).finding)
        // Without the model, or on a call of healthy: not measured, not gated.
        var noModel = c
        noModel.model = nil
        let ungated = PulsatileArtifactDetector.evaluate(noModel, anatomy: anatomy, config: config)
        XCTAssertNotNil(ungated.finding)
        XCTAssertTrue(ungated.measurements.first { $0.name == "healthy_band_repaired" }?.value.isNaN ?? false)
        var healthyCall = c
        healthyCall.predicted = 0
        XCTAssertTrue(PulsatileArtifactDetector.evaluate(healthyCall, anatomy: anatomy, config: config)
            .measurements.first { $0.name == "healthy_band_repaired" }?.value.isNaN ?? false)
    }

    func testFlagsPulsatileQuietOnPeripheralSubpleuralDisease() throws {
        var p = FlagsPhantom()
        p.subpleuralDisease = true
        let e = try pulsatile(p)
        XCTAssertNil(e.finding, "measurements: \(e.measurements)")
        XCTAssertLessThan(e.measurements.first { $0.name == "f_band" }?.value ?? 1, 0.6)
    }

    func testFlagsPulsatileQuietWhenDiseaseElsewhereAccompaniesTheArtifact() throws {
        var p = FlagsPhantom()
        p.artifact = true
        p.subpleuralDisease = true
        XCTAssertNil(try pulsatile(p).finding)
    }

    func testFlagsPulsatileOnlyJudgesPositiveCalls() throws {
        var p = FlagsPhantom()
        p.artifact = true
        p.calledAbnormal = false
        let e = try pulsatile(p)
        XCTAssertNil(e.finding)
        XCTAssertEqual(e.measurements.first { $0.name == "called_positive" }?.value, 0)
    }

    func testFlagsPulsatileReadsSidesFromOrientation() throws {
        var p = FlagsPhantom()
        p.artifact = true
        p.flipped = true     // mirrored pixels, orientation [-1, 0, 0, ...]: the artifact is still on the patient's left
        let f = try XCTUnwrap(try pulsatile(p).finding)
        XCTAssertGreaterThan(f.value("band_left_share") ?? 0, 0.5)
    }

    /// A 6x6 lesion map (the demo models' input 96) has cells wider than the 20 mm band: f_band
    /// is reported but does not gate, the neighbour Dice is not a sign, and the rest of the rule
    /// (motion signs, no disease elsewhere) still decides.
    func testFlagsPulsatileCoarseMapsSkipTheBandShare() throws {
        var p = FlagsPhantom()
        p.artifact = true
        p.mapSize = 6
        let e = try pulsatile(p)
        let f = try XCTUnwrap(e.finding, "measurements: \(e.measurements)")
        XCTAssertEqual(f.value("coarse_map"), 1)
        XCTAssertGreaterThan(f.value("map_cell_mm") ?? 0, FlagConfig().pulsatile.coarseMapCellMM)
        XCTAssertTrue(f.reasons.first?.contains("too coarse") ?? false, "\(f.reasons)")
        XCTAssertFalse(f.reasons.contains { $0.contains("Dice") }, "\(f.reasons)")
        XCTAssertGreaterThanOrEqual(f.value("motion_score") ?? -.infinity, FlagConfig().pulsatile.minMotionScore)

        // Fine maps: the band share is a gate again.
        p.mapSize = 14
        let fine = try pulsatile(p)
        XCTAssertEqual(fine.measurements.first { $0.name == "coarse_map" }?.value, 0)

        // Coarse maps do not open the door to real disease or to a motion-free border.
        var disease = FlagsPhantom()
        disease.subpleuralDisease = true
        disease.mapSize = 6
        XCTAssertNil(try pulsatile(disease).finding)
        var still = FlagsPhantom()
        still.activationBesideHeart = true
        still.mapSize = 6
        XCTAssertNil(try pulsatile(still).finding)
        var both = FlagsPhantom()
        both.artifact = true
        both.subpleuralDisease = true
        both.mapSize = 6
        XCTAssertNil(try pulsatile(both).finding)
    }

    func testFlagsHeartFoundBetweenTheLungs() throws {
        let c = try FlagsPhantom().flagCase()
        let a = try XCTUnwrap(FlagEngine.analyse(c, config: FlagConfig())[3])
        XCTAssertGreaterThan(a.heartArea, 0)
    }

    func testFlagsMetal() throws {
        var p = FlagsPhantom()
        XCTAssertNil(MetalDetector.evaluate(try p.flagCase(), config: FlagConfig().metal).finding)
        p.metal = true
        let f = try XCTUnwrap(MetalDetector.evaluate(try p.flagCase(), config: FlagConfig().metal).finding)
        XCTAssertEqual(f.value("metal_voxels"), 36)
        XCTAssertEqual(f.slices, [6])
    }

    func testFlagsHUMiscalibration() throws {
        var p = FlagsPhantom()
        let config = FlagConfig()
        let c = try p.flagCase()
        let ok = HUCalibrationDetector.evaluate(c, anatomy: FlagEngine.analyse(c, config: config), config: config.calibration)
        XCTAssertNil(ok.finding, "\(ok.measurements)")
        p.huOffset = 60
        let shifted = try p.flagCase()
        let bad = HUCalibrationDetector.evaluate(shifted, anatomy: FlagEngine.analyse(shifted, config: config), config: config.calibration)
        let f = try XCTUnwrap(bad.finding)
        XCTAssertEqual(f.value("air_median_hu") ?? 0, -940, accuracy: 10)
    }

    /// Padding inside the body fills a region; air clipped at -1024 HU leaves single pixels.
    func testFlagsHUPaddingIsARegionNotClippedPixels() throws {
        let config = FlagConfig()
        var c = try FlagsPhantom().flagCase()
        let anatomy = FlagEngine.analyse(c, config: config)
        // Single clipped pixels inside the body (every 4th pixel of the body's soft tissue near the centre).
        let size = c.rows
        let centre = size / 2
        for k in c.slices.indices where k % 2 == 0 {
            for r in (centre + 20)..<(centre + 30) { for col in stride(from: centre - 10, to: centre + 10, by: 2) where (r + col) % 4 == 0 {
                c.slices[k].hu[r * size + col] = -1024
            } }
        }
        let clipped = HUCalibrationDetector.evaluate(c, anatomy: anatomy, config: config.calibration)
        XCTAssertNil(clipped.finding, "\(clipped.measurements)")
        // Counting single pixels (block 1) would read them as padding.
        var single = config.calibration
        single.paddingBlockPixels = 1
        XCTAssertNotNil(HUCalibrationDetector.evaluate(c, anatomy: anatomy, config: single).finding)
        // The same places filled as a block: padding.
        for k in c.slices.indices where k % 2 == 0 {
            for r in (centre + 20)..<(centre + 30) { for col in (centre - 10)..<(centre + 10) { c.slices[k].hu[r * size + col] = -2000 } }
        }
        let padded = HUCalibrationDetector.evaluate(c, anatomy: anatomy, config: config.calibration)
        let f = try XCTUnwrap(padded.finding, "\(padded.measurements)")
        XCTAssertTrue(f.reasons.contains { $0.hasPrefix("padding values on") }, "\(f.reasons)")
    }

    func testFlagsNoise() throws {
        var p = FlagsPhantom()
        let config = FlagConfig()
        let c = try p.flagCase()
        let quiet = NoiseDetector.noiseIndex(c, anatomy: FlagEngine.analyse(c, config: config), config: config.noise)
        p.noise = 40
        let n = try p.flagCase()
        let loud = NoiseDetector.noiseIndex(n, anatomy: FlagEngine.analyse(n, config: config), config: config.noise)
        XCTAssertEqual(quiet, 12, accuracy: 3)
        XCTAssertEqual(loud, 40, accuracy: 8)
        XCTAssertNil(NoiseDetector.evaluate(noiseIndex: quiet, reference: quiet, config: config.noise).finding)
        XCTAssertNotNil(NoiseDetector.evaluate(noiseIndex: loud, reference: quiet, config: config.noise).finding)
    }

    func testFlagsCropActivationOutsideLungIsJudgedOnlyOnFineMaps() throws {
        var p = FlagsPhantom()
        p.subpleuralDisease = true
        var c = try p.flagCase(label: .covid19)
        // Move every abnormal slice's activation to the crop box's corner cell (chest wall, not lung).
        for i in c.slices.indices where c.slices[i].predicted != 0 {
            var map = [Float](repeating: 0.2, count: c.mapSize * c.mapSize)
            map[0] = 1
            c.slices[i].lesionMap = map
        }
        var crop = FlagConfig().cropFailure
        crop.minLungLitres = 0
        let anatomy = FlagEngine.analyse(c, config: FlagConfig())
        let fine = CropFailureDetector.evaluate(c, anatomy: anatomy, lesionLevel: 0.5, config: crop)
        let outside = try XCTUnwrap(fine.measurements.first { $0.name == "activation_outside_lung" }?.value)
        XCTAssertGreaterThan(outside, crop.maxActivationOutsideLung)
        XCTAssertNotNil(fine.finding)
        // Cell = the abnormal slices' median crop-box side in mm over the map size.
        let sides = c.slices.filter { $0.predicted != 0 }
            .map { Double(max($0.cropBox.height, $0.cropBox.width)) * p.spacing / Double(c.mapSize) }.sorted()
        let cell = try XCTUnwrap(fine.measurements.first { $0.name == "map_cell_mm" }?.value)
        XCTAssertEqual(cell, sides[sides.count / 2], accuracy: 1e-9)
        // The same maps called coarse: measured, not judged.
        crop.coarseMapCellMM = cell - 0.5
        let coarse = CropFailureDetector.evaluate(c, anatomy: anatomy, lesionLevel: 0.5, config: crop)
        XCTAssertNil(coarse.finding)
        XCTAssertEqual(coarse.measurements.first { $0.name == "activation_outside_lung" }?.value, outside)
    }

    func testFlagsCoverageCropAndBodyPart() throws {
        var c = try FlagsPhantom().flagCase()
        // Every phantom slice holds lung: a truncated scan.
        XCTAssertNotNil(CoverageDetector.evaluate(c, config: FlagConfig().coverage).finding)
        for i in [0, c.slices.count - 1] { c.slices[i].lungArea = 0; c.slices[i].lowColumnArea = 0; c.slices[i].highColumnArea = 0 }
        XCTAssertNil(CoverageDetector.evaluate(c, config: FlagConfig().coverage).finding)
        // Crop: the phantom's lungs are small (cm-scale phantom), so only the failed-slice rule is checked.
        var crop = FlagConfig().cropFailure
        crop.minLungLitres = 0
        XCTAssertNil(CropFailureDetector.evaluate(c, anatomy: [], lesionLevel: 0.5, config: crop).finding)
        c.slices[4].cropFailed = true
        XCTAssertEqual(CropFailureDetector.evaluate(c, anatomy: [], lesionLevel: 0.5, config: crop).finding?.slices, [4])
        // Body part.
        XCTAssertNil(BodyPartDetector.evaluate(c, config: FlagConfig().bodyPart).finding)
        c.bodyPartExamined = "HEAD"
        XCTAssertNotNil(BodyPartDetector.evaluate(c, config: FlagConfig().bodyPart).finding)
        c.bodyPartExamined = nil
        c.modality = "MR"
        XCTAssertNotNil(BodyPartDetector.evaluate(c, config: FlagConfig().bodyPart).finding)
    }

    func testFlagsGeometryGap() throws {
        var c = try FlagsPhantom().flagCase()
        XCTAssertNil(GeometryDetector.evaluate(c, config: FlagConfig().geometry).finding)
        for i in 6..<c.slices.count { c.slices[i].position += 10 }
        let f = try XCTUnwrap(GeometryDetector.evaluate(c, config: FlagConfig().geometry).finding)
        XCTAssertEqual(f.slices, [5, 6])
        XCTAssertEqual(f.value("max_gap_ratio") ?? 0, 3, accuracy: 1e-9)
    }

    func testFlagsConfidenceAndVersionFlip() throws {
        var p = FlagsPhantom()
        p.nonParametricWhenAbnormal = [0.2, 0.7, 0.05, 0.05]
        var c = try p.flagCase()
        XCTAssertNil(ConfidenceDetector.evaluate(c, config: FlagConfig().confidence).finding)
        c.nonParametricPredicted = 0
        XCTAssertNotNil(ConfidenceDetector.evaluate(c, config: FlagConfig().confidence).finding)
        c.nonParametricPredicted = 1
        c.probabilities = [0.45, 0.55, 0, 0]
        XCTAssertNotNil(ConfidenceDetector.evaluate(c, config: FlagConfig().confidence).finding)

        XCTAssertNil(VersionFlipDetector.evaluate(predicted: 1, prior: 1, label: .covid19, priorRun: 1).finding)
        XCTAssertEqual(VersionFlipDetector.evaluate(predicted: 0, prior: 1, label: .covid19, priorRun: 1).finding?.level, "regressed")
        XCTAssertEqual(VersionFlipDetector.evaluate(predicted: 1, prior: 0, label: .covid19, priorRun: 1).finding?.level, "improved")
        XCTAssertEqual(VersionFlipDetector.evaluate(predicted: 1, prior: 0, label: nil, priorRun: 1).finding?.level, "changed")
    }

    func testFlagsConfigOverrides() throws {
        let c = try FlagConfig.load(overrides: ["pulsatile": ["bandMM": 15], "metal": ["minVoxels": 5]], source: "test")
        XCTAssertEqual(c.pulsatile.bandMM, 15)
        XCTAssertEqual(c.metal.minVoxels, 5)
        XCTAssertEqual(c.pulsatile.minBandShare, FlagConfig().pulsatile.minBandShare)
        XCTAssertThrowsError(try FlagConfig.load(overrides: ["pulsatile": ["bandWidth": 15]], source: "test")) { e in
            XCTAssertTrue("\(e)".contains("pulsatile.bandWidth"), "\(e)")
        }
        XCTAssertThrowsError(try FlagConfig.load(overrides: ["enabled": ["nonsense"]], source: "test"))
        let m = try FlagConfig.load(overrides: ["pulsatile": ["motionScore": ["intercept": -100]]], source: "test")
        XCTAssertEqual(m.pulsatile.motionScore.intercept, -100)
        XCTAssertEqual(m.pulsatile.motionScore.logSpreadRatio, FlagConfig().pulsatile.motionScore.logSpreadRatio)
        let n = try FlagConfig.load(overrides: ["noise": ["referenceHU": 12.5]], source: "test")
        XCTAssertEqual(n.noise.referenceHU, 12.5)
    }
}
