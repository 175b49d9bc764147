import Foundation

/// Pulsatile (cardiac-motion) artifact false positive (failure-modes.md, "Pulsatile"): a
/// positive call whose lesion-map activation hugs the heart border, with motion evidence in
/// the image beside the heart and no disease elsewhere. The motion evidence is weighed by one
/// score (log-odds of an artifact, `FlagConfig.Pulsatile.MotionScore`): at least
/// `minMotionScore` gives `suspected`, at least `probableMotionScore` `probable`.
///
/// Measurements: `f_band`, `f_heart`, `edge_width_ratio` (heart border / chest wall),
/// `doubled_share` and `doubled_share_wall`, `banding_ratio`, `spread_ratio`, `dark_ratio`,
/// `neighbour_dice`, `ggo_share_outside`, `consolidation_cm3`, `band_left_share`,
/// `nonparametric_healthy`, `healthy_without_heart`, `healthy_band_repaired`, `heart_slices`, `motion_signs`, `motion_score`, `called_positive`,
/// `map_cell_mm`, `coarse_map`.
public enum PulsatileArtifactDetector {
    /// Per-slice image measurements beside the heart.
    struct SliceMeasures {
        var heartFound = false
        var activationInBand = 0.0
        var activationTotal = 0.0
        var activationLeft = 0.0
        var heartWidths: [Double] = []
        var wallWidths: [Double] = []
        var heartDoubled = 0, heartProfiles = 0
        var wallDoubled = 0, wallProfiles = 0
        var bandFar = 0, bandPixels = 0
        var refFar = 0, refPixels = 0
        /// Lung-range HU in B's left-lung part and in the reference band (for the spread ratio).
        var bandLeftValues: [Float] = [], refValues: [Float] = []
        /// Dark lung-range pixels (`darkHU` below the lung median) in B and in the reference band.
        var bandDark = 0, refDark = 0
        /// Abnormal part of R inside B (pixel indices), for the neighbour Dice.
        var abnormal: Set<Int> = []
    }

    public static func evaluate(_ c: FlagCase, anatomy: [SliceAnatomy?], config cfg: FlagConfig.Pulsatile) -> FlagEvaluation {
        let rows = c.rows, cols = c.columns, n = rows * cols
        let mm = (c.rowMM + c.colMM) / 2
        // Slices the model called abnormal (else the most abnormal few).
        var flagged = c.slices.filter { $0.predicted != 0 }.map(\.index)
        if flagged.isEmpty {
            flagged = c.slices.sorted { (1 - ($0.q.first ?? 1)) > (1 - ($1.q.first ?? 1)) }.prefix(cfg.fallbackSlices).map(\.index).sorted()
        }
        let flaggedSet = Set(flagged)
        var perSlice: [Int: SliceMeasures] = [:]
        var cellSizes: [Double] = []
        var ggo = 0, lungOutside = 0
        var consolidation = 0.0
        // Heart-level slices with the lung beside the heart evened out (the repair counterfactual),
        // on positive calls when the model is at hand.
        let wantRepair = c.model != nil && c.predicted != 0
        var repaired: [Int: [Float]] = [:]
        for s in c.slices {
            guard s.index < anatomy.count, let a = anatomy[s.index], s.hu.count == n else { continue }
            let hu = s.hu
            var m = SliceMeasures()
            // Heart border and band B.
            var band = [Bool](repeating: false, count: n)
            var distHeart = [Double](repeating: .infinity, count: n)
            if a.heartArea > 0 {
                m.heartFound = true
                // Border: heart pixels with a non-heart 4-neighbour within 5 mm of the lung mask
                // (motion can push the thresholded lung a few millimetres off the heart).
                let lungNear = SliceAnatomy.dilate(a.lung.map { $0 != 0 }, rows: rows, cols: cols, by: max(1, Int((5 / mm).rounded())))
                let border = (0..<n).map { i -> Bool in
                    guard a.heart[i] else { return false }
                    let r = i / cols, col = i % cols
                    for j in [r > 0 ? i - cols : -1, r < rows - 1 ? i + cols : -1, col > 0 ? i - 1 : -1, col < cols - 1 ? i + 1 : -1]
                        where j >= 0 && !a.heart[j] && lungNear[j] { return true }
                    return false
                }
                distHeart = SliceAnatomy.distance(from: border, rows: rows, cols: cols).map { $0 * mm }
                for i in 0..<n where (a.envelope[i] != 0 || a.lung[i] != 0) && distHeart[i] <= cfg.bandMM { band[i] = true }
            }
            // No disease elsewhere: ground-glass (3x3 all in range) and consolidation outside B.
            let median = Self.lungMedian(hu, a)
            var cons = [Bool](repeating: false, count: n)
            let mediastinum = Self.mediastinum(a)
            let distMed = SliceAnatomy.distance(from: mediastinum, rows: rows, cols: cols).map { $0 * mm }
            for r in 1..<(rows - 1) { for col in 1..<(cols - 1) {
                let i = r * cols + col
                guard a.envelope[i] != 0, !band[i] else { continue }
                lungOutside += 1
                var allGGO = true, allCons = true
                for dr in -1...1 { for dc in -1...1 {
                    let h = Double(hu[i + dr * cols + dc])
                    if h < cfg.groundGlassMinHU || h > cfg.groundGlassMaxHU { allGGO = false }
                    if h < cfg.consolidationMinHU || h > cfg.consolidationMaxHU { allCons = false }
                } }
                if allGGO { ggo += 1 }
                if allCons && distMed[i] > cfg.hilarExclusionMM && !(a.heart[i]) { cons[i] = true }
            } }
            let (_, parts) = SliceAnatomy.components(cons, rows: rows, cols: cols, eight: true)
            for p in parts { consolidation = max(consolidation, Double(p.count) * c.pixelMM2 * c.sliceSpacing / 1000) }

            // f_band on the slices the model called abnormal; motion evidence on every slice with a heart.
            var region: [Int] = []
            if flaggedSet.contains(s.index) {
            // Lesion region R on the lung (envelope): map values at least `lesionLevel` of the
            // way from the slice's minimum to its maximum; activation = value above the minimum.
            let lo = s.lesionMap.min() ?? 0, hi = s.lesionMap.max() ?? 0
            if c.mapSize > 0 {
                cellSizes.append(max(Double(s.cropBox.height) * c.rowMM, Double(s.cropBox.width) * c.colMM) / Double(c.mapSize))
            }
            let cut = lo + Float(cfg.lesionLevel) * (hi - lo)
            let projected = LesionMapProjection.project(s.lesionMap, size: c.mapSize, box: s.cropBox, rows: rows, cols: cols)
            for i in 0..<n where (a.envelope[i] != 0 || a.lung[i] != 0) && hi > lo && projected[i] >= cut {
                let w = Double(projected[i] - lo)
                region.append(i)
                m.activationTotal += w
                if band[i] {
                    m.activationInBand += w
                    if a.envelope[i] == SliceAnatomy.leftLung || a.lung[i] == SliceAnatomy.leftLung { m.activationLeft += w }
                }
            }
            }
            guard m.heartFound else { perSlice[s.index] = m; continue }
            if wantRepair {
                var fixed = hu
                let fill = Float(median)
                let clip = Float(cfg.repairClipHU)
                for i in 0..<n where !a.heart[i] && !a.outside[i] && distHeart[i] <= cfg.repairBandMM
                    && (a.envelope[i] != 0 || a.lung[i] != 0 || Double(hu[i]) < cfg.softTissueMinHU) {
                    fixed[i] = clip > 0 ? min(max(hu[i], fill - clip), fill + clip) : fill
                }
                repaired[s.index] = fixed
            }
            // Motion signs: edge profiles, banding, abnormal part of R.
            let wallBoundary = Self.wallBoundary(a, distHeart: distHeart, minDistance: 2 * cfg.bandMM)
            let heartBoundary = Self.boundary(a).filter { distHeart[$0] <= 5 }
            for (list, isHeart) in [(heartBoundary, true), (wallBoundary, false)] {
                let step = max(1, list.count / 200)
                for k in stride(from: 0, to: list.count, by: step) {
                    guard let p = Self.profile(hu, rows: rows, cols: cols, at: list[k], rowMM: c.rowMM, colMM: c.colMM, cfg: cfg) else { continue }
                    if isHeart {
                        m.heartWidths.append(p.width); m.heartProfiles += 1; if p.doubled { m.heartDoubled += 1 }
                    } else {
                        m.wallWidths.append(p.width); m.wallProfiles += 1; if p.doubled { m.wallDoubled += 1 }
                    }
                }
            }
            let distWall = SliceAnatomy.distance(from: wallBoundarySet(wallBoundary, n), rows: rows, cols: cols).map { $0 * mm }
            for i in 0..<n where a.lung[i] != 0 && Double(hu[i]) < cfg.bandingMaxHU {
                let far = abs(Double(hu[i]) - median) >= cfg.bandingHU
                let dark = Double(hu[i]) <= median - cfg.darkHU
                if band[i] {
                    m.bandPixels += 1
                    if far { m.bandFar += 1 }
                    if dark { m.bandDark += 1 }
                    if a.lung[i] == SliceAnatomy.leftLung { m.bandLeftValues.append(hu[i]) }
                } else if distWall[i] <= cfg.bandMM && distHeart[i] > 2 * cfg.bandMM {
                    m.refPixels += 1
                    if far { m.refFar += 1 }
                    if dark { m.refDark += 1 }
                    m.refValues.append(hu[i])
                }
            }
            for i in region where band[i] && (a.lung[i] != 0 || a.envelope[i] != 0) && Double(hu[i]) < -300
                && abs(Double(hu[i]) - median) >= cfg.bandingHU {
                m.abnormal.insert(i)
            }
            perSlice[s.index] = m
        }

        // Patient-level measurements.
        let ms = flagged.compactMap { perSlice[$0] }
        let total = ms.map(\.activationTotal).reduce(0, +), inBand = ms.map(\.activationInBand).reduce(0, +)
        let fBand = total > 0 ? inBand / total : 0
        let fHeart = ms.isEmpty ? 0 : Double(ms.filter(\.heartFound).count) / Double(ms.count)
        let leftShare = inBand > 0 ? ms.map(\.activationLeft).reduce(0, +) / inBand : 0
        let heartSlices = perSlice.keys.sorted().filter { perSlice[$0]?.heartFound == true }
        let hs = heartSlices.compactMap { perSlice[$0] }
        let hw = Self.median(hs.flatMap(\.heartWidths)), ww = Self.median(hs.flatMap(\.wallWidths))
        let edgeRatio = (hw.isNaN || ww.isNaN || ww <= 0) ? Double.nan : hw / ww
        let hp = hs.map(\.heartProfiles).reduce(0, +), wp = hs.map(\.wallProfiles).reduce(0, +)
        let doubled = hp > 0 ? Double(hs.map(\.heartDoubled).reduce(0, +)) / Double(hp) : .nan
        let doubledWall = wp > 0 ? Double(hs.map(\.wallDoubled).reduce(0, +)) / Double(wp) : .nan
        let bp = hs.map(\.bandPixels).reduce(0, +), rp = hs.map(\.refPixels).reduce(0, +)
        let bandShare = bp > 0 ? Double(hs.map(\.bandFar).reduce(0, +)) / Double(bp) : .nan
        let refShare = rp > 0 ? Double(hs.map(\.refFar).reduce(0, +)) / Double(rp) : .nan
        let banding = bandShare.isNaN || refShare.isNaN ? Double.nan : bandShare / max(refShare, 1e-3)
        // Spread: median absolute deviation of lung-range HU in the band's left-lung part over the
        // reference band's, per heart slice; the upper quartile over slices (the artifact is on the
        // left, on part of the heart's slices).
        let spreads = heartSlices.compactMap { k -> Double? in
            guard let x = perSlice[k], x.bandLeftValues.count >= 50, x.refValues.count >= 50 else { return nil }
            let a = Self.mad(x.bandLeftValues), b = Self.mad(x.refValues)
            return b > 0 ? a / b : nil
        }
        let spread = Self.quantile(spreads, 0.75)
        // Dark lung: share of the band's lung-range pixels `darkHU` below the lung median, upper
        // quartile over heart slices, over the reference band's share (motion undershoot; disease
        // and vessels only brighten the lung).
        let refDark = rp > 0 ? Double(hs.map(\.refDark).reduce(0, +)) / Double(rp) : .nan
        let darkShares = hs.filter { $0.bandPixels >= 50 }.map { Double($0.bandDark) / Double($0.bandPixels) }
        let dark = refDark.isNaN ? Double.nan : Self.quantile(darkShares, 0.75) / max(refDark, cfg.darkFloorShare)
        let npHealthy = c.nonParametric?.first ?? .nan
        // Counterfactual: P(healthy) from the patient network on the stored features without the
        // heart-level slices (NaN without the network or with too few slices left).
        let heartSet = Set(heartSlices)
        let withoutHeart = heartSet.isEmpty ? Double.nan
            : c.probabilities(keeping: c.slices.map(\.index).filter { !heartSet.contains($0) })?.first ?? .nan
        // Counterfactual repair: P(healthy) with those slices run again (NaN when not measured).
        let bandRepaired = repaired.isEmpty ? Double.nan : c.probabilities(replacing: repaired)?.first ?? .nan
        var dices: [Double] = []
        for (a, b) in zip(flagged, flagged.dropFirst()) where b == a + 1 {
            guard let x = perSlice[a]?.abnormal, let y = perSlice[b]?.abnormal, x.count + y.count > 0 else { continue }
            dices.append(2 * Double(x.intersection(y).count) / Double(x.count + y.count))
        }
        let abnormalPixels = ms.map(\.abnormal.count).reduce(0, +)
        let dice = dices.isEmpty ? Double.nan : dices.reduce(0, +) / Double(dices.count)
        let ggoShare = lungOutside > 0 ? Double(ggo) / Double(lungOutside) : 0
        // A map whose cell is wider than the band cannot say whether activation lies inside it.
        let cell = Self.median(cellSizes)
        let coarse = !cell.isNaN && cell > cfg.coarseMapCellMM

        var signs: [String] = []
        if edgeRatio >= cfg.edgeWidthRatio { signs.append("edge width ratio \(flagNumber(edgeRatio)) >= \(flagNumber(cfg.edgeWidthRatio))") }
        if doubled >= cfg.doubledProfileShare && (doubledWall.isNaN || doubled >= cfg.doubledShareRatio * doubledWall) {
            signs.append("doubled edges on \(flagNumber(doubled)) of heart-border profiles (chest wall \(flagNumber(doubledWall)))")
        }
        if banding >= cfg.bandingRatio { signs.append("banding ratio \(flagNumber(banding)) >= \(flagNumber(cfg.bandingRatio))") }
        if spread >= cfg.spreadRatio { signs.append("spread ratio \(flagNumber(spread)) >= \(flagNumber(cfg.spreadRatio))") }
        if dark >= cfg.darkRatio { signs.append("dark-lung ratio \(flagNumber(dark)) >= \(flagNumber(cfg.darkRatio))") }
        if !coarse && !dice.isNaN && abnormalPixels >= 20 && dice < cfg.maxNeighbourDice {
            signs.append("neighbour Dice \(flagNumber(dice)) < \(flagNumber(cfg.maxNeighbourDice))")
        }
        let score = Self.motionScore(edgeWidthRatio: edgeRatio, spreadRatio: spread, darkRatio: dark, bandingRatio: banding,
                                     doubledShare: doubled, doubledShareWall: doubledWall, weights: cfg.motionScore)
        let calledPositive = c.predicted != 0
        let measurements = [
            FlagMeasurement("f_band", fBand), FlagMeasurement("f_heart", fHeart),
            FlagMeasurement("edge_width_ratio", edgeRatio), FlagMeasurement("doubled_share", doubled),
            FlagMeasurement("doubled_share_wall", doubledWall), FlagMeasurement("banding_ratio", banding), FlagMeasurement("spread_ratio", spread),
            FlagMeasurement("neighbour_dice", dice), FlagMeasurement("ggo_share_outside", ggoShare),
            FlagMeasurement("consolidation_cm3", consolidation), FlagMeasurement("band_left_share", leftShare),
            FlagMeasurement("motion_signs", Double(signs.count)), FlagMeasurement("called_positive", calledPositive ? 1 : 0),
            FlagMeasurement("map_cell_mm", cell), FlagMeasurement("coarse_map", coarse ? 1 : 0),
            FlagMeasurement("dark_ratio", dark), FlagMeasurement("nonparametric_healthy", npHealthy),
            FlagMeasurement("healthy_without_heart", withoutHeart), FlagMeasurement("heart_slices", Double(heartSlices.count)),
            FlagMeasurement("motion_score", score), FlagMeasurement("healthy_band_repaired", bandRepaired),
        ]
        let clean = ggoShare < cfg.maxGroundGlassShare && consolidation <= cfg.maxConsolidationCM3
        // Slice evidence: the non-parametric head (slice votes) still finds the patient healthy.
        let weakSlices = atLeast(npHealthy, cfg.minNonParametricHealthy)
        // The call depends on the heart-level slices: without them the model finds the patient healthy.
        let dependsOnHeart = atLeast(withoutHeart, cfg.minHealthyWithoutHeart)
        // The call goes with the lung beside the heart: evened out, the model finds the patient healthy.
        let repairClears = atLeast(bandRepaired, cfg.minHealthyBandRepaired)
        guard (calledPositive || !cfg.onlyPositiveCalls), coarse || fBand >= cfg.minBandShare, fHeart >= cfg.minHeartShare, clean, weakSlices,
              dependsOnHeart, repairClears, score >= cfg.minMotionScore, signs.count >= cfg.minSigns else {
            return FlagEvaluation(flag: .pulsatileArtifact, measurements: measurements)
        }
        let bandReason = coarse
            ? "lesion map too coarse to place activation in the band (cell \(flagNumber(cell)) mm > \(flagNumber(cfg.coarseMapCellMM)) mm; f_band \(flagNumber(fBand)) not used)"
            : "f_band \(flagNumber(fBand)) >= \(flagNumber(cfg.minBandShare))"
        let sliceReason = cfg.minNonParametricHealthy > 0 && !npHealthy.isNaN
            ? ["non-parametric head P(healthy) \(flagNumber(npHealthy)) >= \(flagNumber(cfg.minNonParametricHealthy)) (no slice evidence of disease)"] : []
        let counterfactualReason = withoutHeart.isNaN ? [] : cfg.minHealthyWithoutHeart > 0
            ? ["without its \(heartSlices.count) heart-level slices the model calls the patient healthy (P \(flagNumber(withoutHeart)) >= \(flagNumber(cfg.minHealthyWithoutHeart)))"]
            : ["without its \(heartSlices.count) heart-level slices the model gives P(healthy) \(flagNumber(withoutHeart))"]
        let repairReason = bandRepaired.isNaN ? [] : [
            "with the lung within \(flagNumber(cfg.repairBandMM)) mm of the heart border evened out on its \(repaired.count) heart-level slices "
            + "the model's P(healthy) goes from \(flagNumber(c.probabilities.first ?? .nan)) to \(flagNumber(bandRepaired))"
            + (cfg.minHealthyBandRepaired > 0 ? " (>= \(flagNumber(cfg.minHealthyBandRepaired)))" : "")]
        let scoreReason = "motion score \(flagNumber(score)) >= \(flagNumber(cfg.minMotionScore)) (P(artifact) \(flagNumber(1 / (1 + exp(-score)))))"
        let heartReason = cfg.minHeartShare > 0 ? ["f_heart \(flagNumber(fHeart)) >= \(flagNumber(cfg.minHeartShare))"] : []
        let reasons = [bandReason] + heartReason + [scoreReason] + signs + sliceReason + repairReason + counterfactualReason +
                      ["no disease elsewhere (ground-glass \(String(format: "%.2f%%", 100 * ggoShare)) of lung, consolidation \(flagNumber(consolidation)) cm3)"]
        let slices = flagged.filter { perSlice[$0]?.heartFound == true && (coarse || (perSlice[$0]?.activationInBand ?? 0) > 0) }
        return .make(.pulsatileArtifact, measurements, reasons: reasons, level: score >= cfg.probableMotionScore ? "probable" : "suspected",
                     slices: slices)
    }

    /// The motion score (log-odds of a cardiac-motion artifact): the intercept plus each weight
    /// times the natural log of its ratio (a missing or non-positive ratio adds nothing) and the
    /// doubled-edge share's excess over the chest wall's (missing: nothing).
    public static func motionScore(edgeWidthRatio: Double, spreadRatio: Double, darkRatio: Double, bandingRatio: Double,
                                   doubledShare: Double, doubledShareWall: Double, weights w: FlagConfig.Pulsatile.MotionScore) -> Double {
        func logRatio(_ x: Double) -> Double { x.isNaN || x <= 0 ? 0 : Foundation.log(x) }
        let excess = doubledShare.isNaN ? 0 : doubledShare - (doubledShareWall.isNaN ? 0 : doubledShareWall)
        return w.intercept + w.logEdgeWidthRatio * logRatio(edgeWidthRatio) + w.logSpreadRatio * logRatio(spreadRatio)
            + w.logDarkRatio * logRatio(darkRatio) + w.logBandingRatio * logRatio(bandingRatio) + w.doubledExcess * excess
    }

    /// An optional gate: off at a threshold of 0 or less, and a value that was not measured
    /// (NaN: no such head, no weight file) is not gated.
    private static func atLeast(_ value: Double, _ threshold: Double) -> Bool {
        threshold <= 0 || value.isNaN || value >= threshold
    }

    private static func wallBoundarySet(_ list: [Int], _ n: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: n)
        for i in list { out[i] = true }
        return out
    }

    /// Median HU of the lung mask (the slice's normal parenchyma).
    static func lungMedian(_ hu: [Float], _ a: SliceAnatomy) -> Double {
        var v: [Float] = []
        v.reserveCapacity(hu.count / 4)
        for i in 0..<hu.count where a.lung[i] != 0 { v.append(hu[i]) }
        guard !v.isEmpty else { return -850 }
        v.sort()
        return Double(v[v.count / 2])
    }

    /// Body pixels on each row between the lungs that are not lung envelope (mediastinum and hila).
    static func mediastinum(_ a: SliceAnatomy) -> [Bool] {
        var out = [Bool](repeating: false, count: a.rows * a.cols)
        for r in 0..<a.rows {
            var lo = Int.max, hi = -1
            for c in 0..<a.cols where a.lung[r * a.cols + c] != 0 { lo = min(lo, c); hi = max(hi, c) }
            guard hi > lo else { continue }
            for c in lo...hi where a.envelope[r * a.cols + c] == 0 && !a.outside[r * a.cols + c] { out[r * a.cols + c] = true }
        }
        return out
    }

    /// Lung-mask pixels with a 4-neighbour outside the mask.
    static func boundary(_ a: SliceAnatomy) -> [Int] {
        var out: [Int] = []
        for r in 1..<(a.rows - 1) { for c in 1..<(a.cols - 1) {
            let i = r * a.cols + c
            guard a.lung[i] != 0 else { continue }
            if a.lung[i - 1] == 0 || a.lung[i + 1] == 0 || a.lung[i - a.cols] == 0 || a.lung[i + a.cols] == 0 { out.append(i) }
        } }
        return out
    }

    /// Lung boundary pixels against the chest wall: lateral to their lung's centroid and far from the heart.
    static func wallBoundary(_ a: SliceAnatomy, distHeart: [Double], minDistance: Double) -> [Int] {
        var sum = [0.0, 0.0, 0.0], count = [0.0, 0.0, 0.0]
        for i in 0..<a.lung.count where a.lung[i] != 0 { sum[Int(a.lung[i])] += Double(i % a.cols); count[Int(a.lung[i])] += 1 }
        return boundary(a).filter { i in
            let side = Int(a.lung[i])
            let centroid = count[side] > 0 ? sum[side] / count[side] : a.midColumn
            return abs(Double(i % a.cols) - a.midColumn) >= abs(centroid - a.midColumn) && distHeart[i] > minDistance
        }
    }

    struct Profile { var width: Double; var doubled: Bool }

    /// The HU profile through boundary pixel `i` along the HU gradient (lung to tissue):
    /// edge width = contrast / steepest slope (mm), and whether two slope peaks of at least
    /// `doubledPeakLevel` of the steepest lie `doubledPeakMinMM...doubledPeakMaxMM` apart.
    static func profile(_ hu: [Float], rows: Int, cols: Int, at i: Int, rowMM: Double, colMM: Double,
                        cfg: FlagConfig.Pulsatile) -> Profile? {
        let r = i / cols, c = i % cols
        guard r >= 2, r < rows - 2, c >= 2, c < cols - 2 else { return nil }
        func h(_ rr: Int, _ cc: Int) -> Double { Double(hu[rr * cols + cc]) }
        // Sobel over a 3x3, in HU per pixel.
        let gx = (h(r - 1, c + 1) + 2 * h(r, c + 1) + h(r + 1, c + 1)) - (h(r - 1, c - 1) + 2 * h(r, c - 1) + h(r + 1, c - 1))
        let gy = (h(r + 1, c - 1) + 2 * h(r + 1, c) + h(r + 1, c + 1)) - (h(r - 1, c - 1) + 2 * h(r - 1, c) + h(r - 1, c + 1))
        // Direction in mm space.
        let dx = gx / colMM, dy = gy / rowMM
        let norm = (dx * dx + dy * dy).squareRoot()
        guard norm > 0 else { return nil }
        let ux = dx / norm, uy = dy / norm
        let step = 0.5 * min(rowMM, colMM)
        let count = Int(cfg.profileMM / step)
        var samples: [Double] = []
        for k in -count...count {
            let s = Double(k) * step
            let y = Double(r) + s * uy / rowMM, x = Double(c) + s * ux / colMM
            guard y >= 0, x >= 0, y <= Double(rows - 1), x <= Double(cols - 1) else { return nil }
            let y0 = Int(y), x0 = Int(x), y1 = min(y0 + 1, rows - 1), x1 = min(x0 + 1, cols - 1)
            let fy = y - Double(y0), fx = x - Double(x0)
            samples.append((h(y0, x0) * (1 - fx) + h(y0, x1) * fx) * (1 - fy) + (h(y1, x0) * (1 - fx) + h(y1, x1) * fx) * fy)
        }
        // Light smoothing, then contrast and slope.
        var sm = samples
        for k in 1..<(samples.count - 1) { sm[k] = (samples[k - 1] + 2 * samples[k] + samples[k + 1]) / 4 }
        let tail = max(1, Int(Double(count) * 0.4))
        let lungSide = sm.prefix(tail).reduce(0, +) / Double(tail)
        let tissueSide = sm.suffix(tail).reduce(0, +) / Double(tail)
        let contrast = tissueSide - lungSide
        guard contrast >= cfg.minEdgeContrastHU else { return nil }
        var slope = [Double](repeating: 0, count: sm.count)
        for k in 1..<(sm.count - 1) { slope[k] = (sm[k + 1] - sm[k - 1]) / (2 * step) }
        guard let gmax = slope.max(), gmax > 0 else { return nil }
        let width = contrast / gmax
        var peaks: [Int] = []
        for k in 1..<(slope.count - 1) where slope[k] >= cfg.doubledPeakLevel * gmax && slope[k] >= slope[k - 1] && slope[k] > slope[k + 1] {
            peaks.append(k)
        }
        var doubled = false
        for a in peaks { for b in peaks where b > a {
            let d = Double(b - a) * step
            if d >= cfg.doubledPeakMinMM && d <= cfg.doubledPeakMaxMM {
                // A real second edge: the profile dips between the two peaks' slopes.
                if let low = slope[a...b].min(), low < 0.5 * min(slope[a], slope[b]) { doubled = true }
            }
        } }
        return Profile(width: width, doubled: doubled)
    }

    /// Median absolute deviation from the median.
    static func mad(_ v: [Float]) -> Double {
        let s = v.sorted()
        let m = Double(s[s.count / 2])
        let d = s.map { abs(Double($0) - m) }.sorted()
        return d[d.count / 2]
    }

    /// The q-quantile (type 7, as `Bootstrap.quantile`), NaN for an empty list.
    static func quantile(_ v: [Double], _ q: Double) -> Double {
        v.isEmpty ? .nan : Bootstrap.quantile(sorted: v.sorted(), q)
    }

    static func median(_ v: [Double]) -> Double { quantile(v, 0.5) }
}
