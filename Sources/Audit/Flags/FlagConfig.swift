import Foundation

/// Every threshold of every flag, in one place (docs/flags.md). Defaults are the starting
/// rules of failure-modes.md, except the pulsatile motion thresholds, signs needed, heart share
/// and ground-glass share, calibrated on synthetic cohorts, and the coarse-map rule (docs/flags.md,
/// "Coarse lesion maps", "Calibration"); a JSON (or, through the CLI, YAML) file overrides any subset:
/// `FlagConfig.load(overrides:)`.
public struct FlagConfig: Sendable, Codable, Equatable {
    /// Pulsatile (cardiac-motion) artifact false positive.
    public struct Pulsatile: Sendable, Codable, Equatable {
        /// Only judge patients the model called not healthy (the spec's rule); false judges all.
        public var onlyPositiveCalls = true
        /// Soft tissue for the heart search (HU, inclusive).
        public var softTissueMinHU = -100.0
        public var softTissueMaxHU = 400.0
        /// Closing radius of the lung envelope (vessels and lesions inside the lung), mm.
        public var envelopeMM = 7.0
        /// Bone for the spine's front edge (HU).
        public var boneMinHU = 200.0
        /// The heart: largest soft-tissue region between the lungs of at least this area (cm2).
        public var heartMinAreaCM2 = 30.0
        /// Band B: lung within this distance of the heart border (mm).
        public var bandMM = 20.0
        /// Lesion region R: lesion-map values at least this fraction of the way from the slice's
        /// minimum to its maximum (0.5 = the spec's "half the maximum" on a map whose minimum is 0).
        public var lesionLevel = 0.5
        /// When no slice is predicted abnormal, R is taken on this many slices of highest
        /// abnormal probability (1 - q0).
        public var fallbackSlices = 5
        /// Rule: share of R's activation inside B, and share of R's slices with a heart.
        public var minBandShare = 0.6
        /// (spec: 0.8) share of R's slices with a heart; 0 (off) by default: the repair counterfactual
        /// (`minHealthyBandRepaired`) checks that the call depends on the heart-level slices.
        public var minHeartShare = 0.0
        /// Coarse lesion maps: when a lesion-map cell (crop box side in mm / map size, median over
        /// R's slices) is wider than this (mm), the map cannot place activation inside a band of
        /// `bandMM`: `f_band` and the neighbour Dice of R are measured and reported but neither
        /// gates nor counts as a sign (docs/flags.md, "Coarse lesion maps"). Default = `bandMM`.
        public var coarseMapCellMM = 20.0
        /// Motion signs (each ratio past its own threshold below) needed to fire, besides the motion
        /// score (spec: 1). Default 0: the score decides; the signs past their thresholds are listed
        /// as reasons.
        public var minSigns = 0
        /// (not in the spec) The motion score: a logistic model of "this scan carries a cardiac-motion
        /// artifact" on the motion measurements, fitted on the tuning cohorts (artifact renders
        /// against their motion-free twins; `tools/flag_quality_study.py --fit-score`, docs/flags.md).
        /// Weights are per natural log of each ratio and per share; each only adds evidence (>= 0).
        public struct MotionScore: Sendable, Codable, Equatable {
            public var intercept = -13.226
            public var logEdgeWidthRatio = 20.822
            public var logSpreadRatio = 8.445
            public var logDarkRatio = 4.645
            public var logBandingRatio = 0.0
            /// Doubled-edge share on the heart border minus the chest wall's.
            public var doubledExcess = 0.0
        }
        public var motionScore = MotionScore()
        /// Fire when the motion score is at least this, `probable` from `probableMotionScore`
        /// (score s is log-odds: P(artifact) = 1 / (1 + e^-s) on the tuning cohorts' mix).
        public var minMotionScore = 0.25
        public var probableMotionScore = 3.0
        /// Motion sign 1: edge width across the heart border over the chest-wall edge's.
        public var edgeWidthRatio = 1.3
        /// Profile half-length (mm) and minimum lung-to-tissue contrast (HU) of a usable edge profile.
        public var profileMM = 10.0
        public var minEdgeContrastHU = 300.0
        /// Motion sign 2: doubled gradient peaks this far apart (mm) on at least this share of
        /// heart-border profiles (peaks count from this fraction of the profile's largest).
        public var doubledPeakMinMM = 2.0
        public var doubledPeakMaxMM = 10.0
        public var doubledPeakLevel = 0.4
        public var doubledProfileShare = 0.25
        /// ... and at least this many times the chest-wall profiles' share.
        public var doubledShareRatio = 1.5
        /// Motion sign 3: share of lung pixels at least `bandingHU` above or below the lung median
        /// (below -300 HU) in B over the chest-wall reference band's share. Default 10: measured and
        /// reported, but not a sign (on the tuning cohorts it rose as much on diseased scans with an
        /// artifact as on healthy ones; docs/flags.md).
        public var bandingHU = 100.0
        public var bandingRatio = 10.0
        /// Motion sign 6 (not in the spec): dark lung, at least `darkHU` below the slice's lung
        /// median, in B (upper quartile of the per-slice share over the heart slices) over its
        /// share in the reference band (at least `darkFloorShare`).
        public var darkHU = 80.0
        public var darkFloorShare = 0.002
        public var darkRatio = 6.0
        /// Lung-range pixels for banding and spread: below this HU (vessels excluded).
        public var bandingMaxHU = -300.0
        /// Motion sign 5 (not in the spec): the spread (median absolute deviation) of lung-range HU
        /// in B's left-lung part over the reference band's, upper quartile over the heart slices.
        public var spreadRatio = 1.6
        /// Motion sign 4: mean Dice of the abnormal part of R on neighbouring slices below this.
        public var maxNeighbourDice = 0.3
        /// No disease elsewhere: ground-glass range (HU), its largest share of lung outside B
        /// (pixels whose 3x3 neighbourhood is all ground-glass), and the largest consolidation
        /// cluster outside B (cm3; HU range below).
        public var groundGlassMinHU = -750.0
        public var groundGlassMaxHU = -300.0
        public var maxGroundGlassShare = 0.012
        public var consolidationMinHU = -100.0
        public var consolidationMaxHU = 100.0
        public var maxConsolidationCM3 = 1.5
        /// Consolidation within this distance of the mediastinum (hilar vessels) is not counted (mm).
        public var hilarExclusionMM = 15.0
        /// (not in the spec) Slice evidence: fire only when the non-parametric head's P(healthy)
        /// is at least this (the slices themselves do not show disease); 0 turns the gate off,
        /// and a model without that head is not gated. Off by default: with the motion score it
        /// cost recall on the tuning cohorts and gained nothing (docs/flags.md).
        public var minNonParametricHealthy = 0.0
        /// (not in the spec) Counterfactual: fire only when the patient network, run again on the
        /// stored slice features without the heart-level slices, gives P(healthy) at least this
        /// (the call depends on those slices); 0 turns the gate off, and a run whose weight file
        /// is not at hand is not gated. Off by default (it cost recall on the tuning cohorts); the
        /// value is always measured and given as a reason (docs/flags.md).
        public var minHealthyWithoutHeart = 0.0
        /// (not in the spec) Counterfactual repair: on each heart-level slice the lung within
        /// `repairBandMM` of the heart border (with the smeared border and any air there) is
        /// clipped to the slice's lung median +- `repairClipHU` (0: set to the median), which takes
        /// out the motion artifact's streaks, dark undershoot and smear but keeps the image noise
        /// (and takes out anything else beside the heart too); the slice network is run again on
        /// those slices and the patient network on all slices: `healthy_band_repaired` is that
        /// P(healthy). Measured on positive calls when the weight file is at hand; fire only when
        /// it is at least `minHealthyBandRepaired` (0: off).
        public var repairBandMM = 30.0
        public var repairClipHU = 40.0
        public var minHealthyBandRepaired = 0.45
    }

    public struct CropFailure: Sendable, Codable, Equatable {
        public var maxFailedSlices = 0
        public var minLungLitres = 2.5
        public var maxLungLitres = 9.0
        public var minLeftRightRatio = 0.6
        public var maxLeftRightRatio = 1.6
        /// Largest share of lesion-map activation outside the lung mask (on R, see Pulsatile.lesionLevel).
        public var maxActivationOutsideLung = 0.2
        /// Coarse lesion maps: when a map cell (crop box side in mm / map size, median over the
        /// slices called abnormal) is wider than this (mm), a cell straddles lung and mediastinum,
        /// so `activation_outside_lung` is measured and reported but does not fire the flag.
        public var coarseMapCellMM = 20.0
    }

    public struct Coverage: Sendable, Codable, Equatable {
        /// Lung area on the first or last slice above this share of the largest slice's.
        public var maxEndSliceShare = 0.05
    }

    public struct BodyPart: Sendable, Codable, Equatable {
        public var modalities = ["CT"]
        /// BodyPartExamined values counted as chest (upper-case substrings); empty tag passes.
        public var chestBodyParts = ["CHEST", "THORAX", "LUNG", "TORSO", "WHOLEBODY", "WHOLE BODY", "CHEST_ABDOMEN", "CHESTABDOMEN", "TRUNK"]
        /// Under this share of slices containing lung (lung area at least `minLungAreaCM2`).
        public var minLungSliceShare = 0.3
        public var minLungAreaCM2 = 5.0
    }

    public struct Geometry: Sendable, Codable, Equatable {
        /// Validation problems (docs/ingestion.md) that make the flag.
        public var problemKinds = ["gaps", "duplicatePositions", "nonAxial", "mixedSizes", "mixedOrientations", "missingGeometry"]
        public var maxGapRatio = 1.5
    }

    public struct Calibration: Sendable, Codable, Equatable {
        public var airMinHU = -1010.0
        public var airMaxHU = -970.0
        public var fatMinHU = -130.0
        public var fatMaxHU = -80.0
        /// Fat: pixels in this range whose 5x5 neighbourhood is all in it (HU).
        public var fatRangeMinHU = -200.0
        public var fatRangeMaxHU = -20.0
        /// Padding inside the body: pixels at -1024 HU or below (share of body pixels) ...
        public var maxPaddingShareInBody = 0.001
        /// ... whose block of this side (odd, at most 5) is all at or below -1024 HU: padding fills
        /// regions, air clipped at the floor (noise in the trachea, a metal streak) single pixels.
        public var paddingBlockPixels = 3
    }

    public struct Contrast: Sendable, Codable, Equatable {
        /// Blood pool (descending aorta, else heart) median above this (HU).
        public var maxBloodHU = 150.0
        /// The aorta: a disc of soft tissue beside the spine's front, this radius (mm).
        public var aortaRadiusMM = 8.0
    }

    public struct Noise: Sendable, Codable, Equatable {
        /// Over this times the reference's median noise index.
        public var maxRatio = 2.0
        /// The reference noise index (HU); nil = the median of the run's (or the reference run's) patients.
        public var referenceHU: Double?
        /// Local standard deviation over blocks of this side (pixels) wholly in soft tissue (HU range).
        public var blockSize = 7
        public var tissueMinHU = -50.0
        public var tissueMaxHU = 150.0
    }

    public struct Metal: Sendable, Codable, Equatable {
        public var minHU = 2500.0
        public var minVoxels = 20
    }

    public struct Confidence: Sendable, Codable, Equatable {
        public var minTopProbability = 0.6
        /// Flag when the learned and non-parametric heads name different classes.
        public var headsMustAgree = true
    }

    /// (not in the spec) The field of view inside the body: on a slice whose anterior border row is
    /// under `minAnteriorAirShare` outside air, the chest wall reaches the image's front edge and the
    /// lungs its sides, where the spec's border removal takes them for outside air. Such slices are a
    /// crop failure's direct cause (`crop_failure`, level `failed`); on such a series, "outside air"
    /// (partly lung), the lung share and the end slices' lung are not judged (`hu_miscalibration`,
    /// `wrong_body_part`, `truncated_coverage`), and `contrast_enhanced` reads the heart only.
    public struct FieldOfView: Sendable, Codable, Equatable {
        public var minAnteriorAirShare = 0.5
        public init() {}

        /// The slices (indices) whose field of view lies inside the body. When there is any, the
        /// series was reconstructed too small, and the detectors that read outside air, lung areas or
        /// the aorta's place do not judge those on it (see the type's comment).
        func slicesInsideBody(_ c: FlagCase, anatomy: [SliceAnatomy?]) -> [Int] {
            c.slices.compactMap { s in
                guard s.index < anatomy.count, let a = anatomy[s.index], a.anteriorAirShare < minAnteriorAirShare else { return nil }
                return s.index
            }
        }
    }

    public var fieldOfView = FieldOfView()
    public var pulsatile = Pulsatile()
    public var cropFailure = CropFailure()
    public var coverage = Coverage()
    public var bodyPart = BodyPart()
    public var geometry = Geometry()
    public var calibration = Calibration()
    public var contrast = Contrast()
    public var noise = Noise()
    public var metal = Metal()
    public var confidence = Confidence()
    /// Flags to compute (all by default; names as `FlagKind`).
    public var enabled = FlagKind.allCases.map(\.rawValue)

    public init() {}

    /// The defaults with `overrides` (a JSON object, any subset of the keys) laid over them.
    /// Unknown keys and wrongly typed values throw, naming the key.
    public static func load(overrides: Any, source: String) throws -> FlagConfig {
        let defaults = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(FlagConfig()))
        let merged = try merge(defaults, overrides, path: "", source: source)
        do {
            let config = try JSONDecoder().decode(FlagConfig.self, from: try JSONSerialization.data(withJSONObject: merged))
            for name in config.enabled where FlagKind(rawValue: name) == nil {
                throw FlagError.config(path: source, reason: "enabled: unknown flag '\(name)' (known: \(FlagKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return config
        } catch let e as FlagError {
            throw e
        } catch {
            throw FlagError.config(path: source, reason: "\(error)")
        }
    }

    /// Reads a JSON override file.
    public static func load(jsonFile path: String) throws -> FlagConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FlagError.config(path: path, reason: "cannot read the file")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw FlagError.config(path: path, reason: "not valid JSON: \(error.localizedDescription)")
        }
        return try load(overrides: object, source: path)
    }

    static func merge(_ base: Any, _ over: Any, path: String, source: String) throws -> Any {
        guard let b = base as? [String: Any] else { return over }
        guard let o = over as? [String: Any] else {
            throw FlagError.config(path: source, reason: "\(path.isEmpty ? "top level" : path): expected a mapping")
        }
        var out = b
        for (k, v) in o {
            let p = path.isEmpty ? k : "\(path).\(k)"
            // Optional keys (encoded as absent when nil) are known by name.
            let optionalKeys: Set<String> = ["noise.referenceHU"]
            guard let bv = b[k] ?? (optionalKeys.contains(p) ? NSNull() : nil) else {
                throw FlagError.config(path: source, reason: "unknown key '\(p)'")
            }
            out[k] = try merge(bv, v, path: p, source: source)
        }
        return out
    }

    public func isEnabled(_ flag: FlagKind) -> Bool { enabled.contains(flag.rawValue) }

    /// Canonical JSON (sorted keys): stored with the flags; equal text = equal thresholds.
    public var canonicalJSON: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Errors of the flag engine, naming the file or patient.
public enum FlagError: Error, CustomStringConvertible, Sendable {
    case config(path: String, reason: String)
    case input(patientID: String, reason: String)

    public var description: String {
        switch self {
        case let .config(path, reason): return "\(path): flag configuration: \(reason)"
        case let .input(patient, reason): return "patient \(patient): \(reason)"
        }
    }
}
