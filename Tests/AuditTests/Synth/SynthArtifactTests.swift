import Foundation
import XCTest
@testable import Audit

/// The cardiac-motion operator changes the paracardiac region only, and the reconstruction
/// path it uses is a faithful CT.
final class SynthArtifactTests: XCTestCase {
    func testFilteredBackProjectionReconstructsADisc() {
        let n = 64
        var img = [Float](repeating: 0, count: n * n)
        for r in 0..<n { for c in 0..<n {
            let x = Double(c) - 31.5, y = Double(r) - 31.5
            if x * x + y * y < 400 { img[r * n + c] = 1 }
        } }
        let ct = ParallelBeamCT(size: n, views: 180)
        var sino = [Float](repeating: 0, count: 180 * ct.detectors)
        img.withUnsafeBufferPointer { im in
            sino.withUnsafeMutableBufferPointer { s in
                for v in 0..<180 {
                    ct.project(im, view: v, into: UnsafeMutableBufferPointer(rebasing: s[(v * ct.detectors)..<((v + 1) * ct.detectors)]))
                }
            }
        }
        let rec = ct.reconstruct(sino)
        var inside = 0.0, ni = 0, outside = 0.0, no = 0
        for r in 0..<n { for c in 0..<n {
            let x = Double(c) - 31.5, y = Double(r) - 31.5, d = (x * x + y * y).squareRoot()
            if d < 15 { inside += Double(rec[r * n + c]); ni += 1 }
            if d > 25 && d < 30 { outside += Double(rec[r * n + c]); no += 1 }
        } }
        XCTAssertEqual(inside / Double(ni), 1, accuracy: 0.05)
        XCTAssertEqual(outside / Double(no), 0, accuracy: 0.05)
    }

    func testMotionChangesParacardiacRegionOnly() throws {
        let (_, still, truth) = SynthTestSupport.phantom(seed: 51)
        let heart = truth.map { $0 & VoxelTruth.heart.rawValue != 0 }
        let motion = CardiacMotion(amplitude: 8, heartRate: 80, rotationTime: 0.4, tableSpeed: 80, falloff: 12, phase: 0.1, views: 180)
        var moved = still
        var flags = truth
        let report = try flags.withUnsafeMutableBufferPointer {
            try CardiacMotionArtifact.apply(motion, to: &moved, heart: heart, truth: $0)
        }
        XCTAssertFalse(report.slices.isEmpty)
        XCTAssertGreaterThan(report.maxChange, 100)
        XCTAssertGreaterThan(report.changedVoxels, 50)
        let rows = still.rows, cols = still.columns, n2 = rows * cols
        let margin = Int(((motion.falloff + motion.amplitude + 15) / still.columnSpacing).rounded(.up)) + 1
        var inBand = 0, changedLung = 0
        for k in 0..<still.slices {
            var r0 = rows, r1 = -1, c0 = cols, c1 = -1
            for i in 0..<n2 where heart[k * n2 + i] {
                r0 = min(r0, i / cols); r1 = max(r1, i / cols); c0 = min(c0, i % cols); c1 = max(c1, i % cols)
            }
            let side = max(r1 - r0, c1 - c0) + 1 + 2 * margin
            for i in 0..<n2 {
                let v = k * n2 + i
                let d = abs(moved.hu[v] - still.hu[v])
                guard d > 0 else { continue }
                XCTAssertTrue(report.slices.contains(k), "slice \(k) changed without a processed heart")
                let r = i / cols, c = i % cols
                let outside = abs(r - (r0 + r1) / 2) > side / 2 + 1 || abs(c - (c0 + c1) / 2) > side / 2 + 1
                XCTAssertFalse(outside, "slice \(k) pixel (\(r), \(c)) changed by \(d) HU outside the paracardiac region")
                if outside { return }
                if d >= 30 && truth[v] & VoxelTruth.lung.rawValue != 0 { changedLung += 1 }
                if flags[v] & VoxelTruth.artifact.rawValue != 0 { inBand += 1 }
            }
        }
        XCTAssertGreaterThan(changedLung, 20, "the lung beside the heart should show the artifact")
        XCTAssertEqual(inBand, report.changedVoxels)

        var unchanged = still
        try CardiacMotionArtifact.apply(CardiacMotion(amplitude: 0, heartRate: 80, rotationTime: 0.4, views: 90), to: &unchanged, heart: heart)
        XCTAssertEqual(unchanged.hu, still.hu)
    }

    /// The border moves about the drawn (time-averaged) heart: over a cycle the displacement
    /// averages to 0 and spans the amplitude peak to peak, out into the lung in diastole.
    func testDisplacementIsCentredOnTheDrawnHeart() {
        let n = 10_000
        let values = (0..<n).map { CardiacMotion.displacement((Double($0) + 0.5) / Double(n)) }
        XCTAssertEqual(values.reduce(0, +) / Double(n), 0, accuracy: 1e-3)
        XCTAssertEqual((values.max() ?? 0) - (values.min() ?? 0), 1, accuracy: 1e-3)
        XCTAssertLessThan(CardiacMotion.displacement(0.8), 0, "diastole: the border lies outside the drawn heart")
        XCTAssertGreaterThan(CardiacMotion.displacement(0.3), 0, "end-systole: inside it")
    }

    /// failure-modes.md: bands both brighter and darker than normal lung beside the heart,
    /// mostly on the left.
    func testMotionMakesBrightAndDarkLungBesideTheHeartMostlyLeft() throws {
        let (_, still, truth) = SynthTestSupport.phantom(seed: 51)
        let heart = truth.map { $0 & VoxelTruth.heart.rawValue != 0 }
        var moved = still
        try CardiacMotionArtifact.apply(CardiacMotion(amplitude: 8, heartRate: 75, rotationTime: 0.4, tableSpeed: 80, falloff: 12,
                                                      phase: 0.2, views: 180), to: &moved, heart: heart)
        var brighter = 0, darker = 0, left = 0, right = 0
        for v in 0..<still.hu.count where truth[v] & VoxelTruth.lung.rawValue != 0 && still.hu[v] < -600 {
            let d = moved.hu[v] - still.hu[v]
            if d >= 100 { brighter += 1 }
            if d <= -100 { darker += 1 }
            if abs(d) >= 50 { if truth[v] & VoxelTruth.leftLung.rawValue != 0 { left += 1 } else { right += 1 } }
        }
        XCTAssertGreaterThan(brighter, 30, "bright bands in the lung")
        XCTAssertGreaterThan(darker, 10, "dark bands in the lung")
        XCTAssertGreaterThan(left, right, "mostly on the patient's left")
    }

    func testHeartLocatorFindsTheHeart() {
        let (_, volume, truth) = SynthTestSupport.phantom(seed: 52)
        let found = HeartLocator.locate(volume)
        let n2 = volume.rows * volume.columns
        var covered = 0, total = 0
        for k in 0..<volume.slices {
            let area = (k * n2..<(k + 1) * n2).filter { truth[$0] & VoxelTruth.heart.rawValue != 0 }.count
            guard Double(area) * volume.pixelAreaMM2 > 5000 else { continue }
            for v in (k * n2)..<((k + 1) * n2) where (truth[v] & VoxelTruth.heart.rawValue != 0) {
                total += 1
                if found[v] { covered += 1 }
            }
        }
        XCTAssertGreaterThan(total, 0)
        XCTAssertGreaterThan(Double(covered) / Double(total), 0.7)
    }
}
