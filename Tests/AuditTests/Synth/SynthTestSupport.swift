import Foundation
import XCTest
@testable import Audit

/// Small, fast variants of the scanner profiles for tests (debug builds render slowly).
enum SynthTestSupport {
    /// scanner-a's look and tags on a coarser grid: 10 mm rendered slices written as they are.
    static func quickProfile(_ base: ScannerProfile = .scannerA, matrix: Int = 256) -> ScannerProfile {
        var p = base
        p.matrix = matrix
        p.renderSpacing = 10
        p.thicknessFactor = 1
        p.spacingFactor = 1
        return p
    }

    static func options(patients: Int = 2, seed: UInt64 = 7, profile: ScannerProfile = quickProfile()) -> SynthOptions {
        var o = SynthOptions(patients: patients, seed: seed)
        o.profile = profile
        o.threads = 2
        return o
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "synth-tests-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The un-scanned phantom of one patient (fine grid, truth flags).
    static func phantom(seed: UInt64, index: UInt64 = 0, profile: ScannerProfile = quickProfile(),
                        sliceSpacing: Double = 10) -> (anatomy: ChestAnatomy, volume: CTVolume, truth: [UInt8]) {
        var rngA = SynthRandom(seed: seed, 1, index)
        let anatomy = ChestAnatomy(rng: &rngA, halfFOV: profile.fieldOfView / 2)
        var rngT = SynthRandom(seed: seed, 2, index)
        let phantom = ChestPhantom(anatomy: anatomy, rng: &rngT)
        let px = profile.pixelSpacing
        let half = profile.fieldOfView / 2 - px / 2
        let n = Int(((anatomy.scanHigh - anatomy.scanLow) / sliceSpacing).rounded(.up))
        var v = CTVolume(rows: profile.matrix, columns: profile.matrix, slices: n, columnSpacing: px, rowSpacing: px,
                         sliceSpacing: sliceSpacing, origin: (-half, -half, anatomy.scanLow + anatomy.shiftZ))
        let truth = phantom.render(into: &v)
        return (anatomy, v, truth)
    }
}
