import Foundation
import XCTest
@testable import Audit

/// The spec's preprocessing (lung threshold, openings, border removal) finds the generator's
/// lungs: on mid-lung slices the crop box encloses every lung voxel of the truth, and it
/// does not reach far beyond them (no table, no outside air).
final class SynthCropTests: XCTestCase {
    func testCropBoxEnclosesGeneratorLungMask() throws {
        for (profile, seed) in [(ScannerProfile.scannerA, UInt64(31)), (.scannerB, 32), (.scannerC, 33)] {
            let o = SynthTestSupport.options(patients: 2, seed: seed, profile: SynthTestSupport.quickProfile(profile))
            for plan in try SyntheticCohort.plan(o) {
                let (volume, truth, _) = try SyntheticCohort.render(plan, options: o)
                let rows = volume.rows, cols = volume.columns, n2 = rows * cols
                let pre = try SlicePreprocessor(settings: PreprocessSettings(), rows: rows, columns: cols)
                let areas = (0..<volume.slices).map { k in
                    (k * n2..<(k + 1) * n2).reduce(0) { $0 + (truth[$1] & VoxelTruth.lung.rawValue != 0 ? 1 : 0) }
                }
                let maxArea = areas.max() ?? 0
                XCTAssertGreaterThan(maxArea, 3000, "\(profile.name) \(plan.id): lungs too small")
                // Mid-lung: between 25% and 75% of the way from the lowest to the highest lung slice.
                let withLung = areas.indices.filter { areas[$0] > 0 }
                let lo = withLung.first ?? 0, hi = withLung.last ?? 0
                let mid = (lo + (hi - lo) / 4)...(hi - (hi - lo) / 4)
                var checked = 0
                for k in mid where areas[k] > 0 {
                    var r0 = rows, r1 = -1, c0 = cols, c1 = -1
                    for i in 0..<n2 where (truth[k * n2 + i] & VoxelTruth.lung.rawValue != 0) {
                        r0 = min(r0, i / cols); r1 = max(r1, i / cols); c0 = min(c0, i % cols); c1 = max(c1, i % cols)
                    }
                    let stats = try pre.preprocess(volume.slice(k)).statistics
                    let b = stats.cropBox
                    let label = "\(profile.name) \(plan.id) slice \(k): box \(b), lung [\(r0), \(c0), \(r1), \(c1)]"
                    XCTAssertFalse(stats.cropFailed, label)
                    XCTAssertTrue(b.row0 <= r0 && b.col0 <= c0 && b.row1 >= r1 && b.col1 >= c1, "box misses lung: " + label)
                    let slack = 10 + 12
                    XCTAssertTrue(b.row0 >= r0 - slack && b.col0 >= c0 - slack && b.row1 <= r1 + slack && b.col1 <= c1 + slack,
                                  "box reaches beyond the lungs: " + label)
                    checked += 1
                }
                XCTAssertGreaterThanOrEqual(checked, 8, "\(profile.name) \(plan.id)")
            }
        }
    }

    func testLungAnatomyIsPlausible() throws {
        for seed in UInt64(40)..<UInt64(46) {
            let (anatomy, volume, truth) = SynthTestSupport.phantom(seed: seed)
            var lung = 0, left = 0, heart = 0
            for f in truth {
                if f & VoxelTruth.lung.rawValue != 0 { lung += 1; if f & VoxelTruth.leftLung.rawValue != 0 { left += 1 } }
                if f & VoxelTruth.heart.rawValue != 0 { heart += 1 }
            }
            let litres = Double(lung) * volume.voxelVolumeML / 1000
            XCTAssertTrue((2.5...9).contains(litres), "seed \(seed): lung volume \(litres) L")
            print("seed \(seed): lungs \(String(format: "%.2f", litres)) L")
            let ratio = Double(lung - left) / Double(max(left, 1))
            XCTAssertTrue((0.8...1.6).contains(ratio), "seed \(seed): right/left \(ratio)")
            XCTAssertGreaterThan(Double(heart) * volume.voxelVolumeML, 300, "seed \(seed): heart")
            // First and last slices are outside the lungs (the scan covers apex to bases).
            let n2 = volume.rows * volume.columns
            for k in [0, volume.slices - 1] {
                XCTAssertFalse(truth[(k * n2)..<((k + 1) * n2)].contains { $0 & VoxelTruth.lung.rawValue != 0 }, "seed \(seed) slice \(k)")
            }
            XCTAssertGreaterThan(anatomy.lungHeight, 180)
        }
    }
}
