import Foundation
import XCTest
@testable import Audit

/// Scanner operators on plain volumes: exact where they are arithmetic, statistical where
/// they are noise.
final class SynthScannerTests: XCTestCase {
    func volume(_ slices: Int, value: (Int) -> Float) -> CTVolume {
        var v = CTVolume(rows: 64, columns: 64, slices: slices, columnSpacing: 1.5, rowSpacing: 1.5, sliceSpacing: 2.5,
                         origin: (0, 0, 100))
        for k in 0..<slices { for i in 0..<(64 * 64) { v.hu[k * 4096 + i] = value(k) } }
        return v
    }

    func testThickeningAveragesAndMovesSliceCentres() {
        let v = volume(7) { Float($0 * 3) }
        let (t, _) = ScannerSimulation.thicken(v, thickness: 3, step: 3)
        XCTAssertEqual(t.slices, 2)
        XCTAssertEqual(t.sliceSpacing, 7.5)
        XCTAssertEqual(t.sliceThickness, 7.5)
        XCTAssertEqual(t.origin.z, 102.5)
        XCTAssertEqual(t.hu[0], 3)
        XCTAssertEqual(t.hu[4096], 12)
    }

    func testCalibrationAndKernelOnConstants() {
        var v = volume(2) { _ in 40 }
        ScannerSimulation.calibrate(&v, gain: 1.02, offset: 22)
        XCTAssertEqual(v.hu[0], 1.02 * 40 + 22, accuracy: 1e-4)
        let before = v.hu
        ScannerSimulation.applyKernel(&v, blur: 0.6, sharpen: 0.9, sharpenRadius: 1.3)
        for i in 0..<v.hu.count { XCTAssertEqual(v.hu[i], before[i], accuracy: 1e-3) }
    }

    func testNoiseHasTheRequestedStandardDeviation() {
        var v = volume(4) { _ in 0 }
        var rng = SynthRandom(seed: 9)
        ScannerSimulation.addNoise(&v, sigma: 20, grain: 0.75, rng: &rng)
        let n = Double(v.hu.count)
        let mean = v.hu.reduce(0.0) { $0 + Double($1) } / n
        let sd = (v.hu.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 1)
        XCTAssertEqual(sd, 20, accuracy: 2)
    }

    func testProfilesDiffer() throws {
        let a = try ScannerProfile.named("scanner-a"), b = try ScannerProfile.named("scanner-b")
        XCTAssertGreaterThan(b.noise, 2 * a.noise)
        XCTAssertGreaterThan(b.sharpen, a.sharpen)
        XCTAssertGreaterThan(b.sliceThickness, a.sliceThickness)
        XCTAssertNotEqual(b.huOffset, a.huOffset)
        XCTAssertNotEqual(b.manufacturer, a.manufacturer)
    }
}
