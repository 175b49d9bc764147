import Foundation
import XCTest
@testable import Audit

/// The synthetic profiles of the drift quality study: each differs from scanner-a in one
/// known shift only, `--profile-override` parses and validates, and scanner-a stays as it was.
final class DriftShiftProfileTests: XCTestCase {
    /// Every field except the name, for comparing profiles.
    func fields(_ p: ScannerProfile) throws -> [String: String] {
        var p = p
        p.name = ""
        let obj = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(p)) as! [String: Any]
        return obj.mapValues { "\($0)" }
    }

    func changed(_ p: ScannerProfile) throws -> Set<String> {
        let a = try fields(.scannerA), b = try fields(p)
        return Set(a.keys.filter { a[$0] != b[$0] })
    }

    func testShiftProfilesChangeOneThingEach() throws {
        XCTAssertEqual(try changed(ScannerProfile.named("scanner-a-noise2")), ["noise"])
        XCTAssertEqual(try ScannerProfile.named("scanner-a-noise2").noise, 2 * ScannerProfile.scannerA.noise)
        XCTAssertEqual(try changed(ScannerProfile.named("scanner-a-sharp")), ["kernel", "blur", "sharpen", "sharpenRadius", "noiseGrain"])
        let sharp = try ScannerProfile.named("scanner-a-sharp"), b = ScannerProfile.scannerB
        XCTAssertEqual([sharp.blur, sharp.sharpen, sharp.sharpenRadius, sharp.noiseGrain], [b.blur, b.sharpen, b.sharpenRadius, b.noiseGrain])
        XCTAssertEqual(sharp.kernel, "SHARP")
        XCTAssertEqual(try changed(ScannerProfile.named("scanner-a-hu25")), ["huOffset"])
        XCTAssertEqual(try ScannerProfile.named("scanner-a-hu25").huOffset, 25)
        XCTAssertEqual(try changed(ScannerProfile.named("scanner-a-thick")), ["thicknessFactor", "spacingFactor"])
        XCTAssertEqual(try ScannerProfile.named("SCANNER-A-THICK").sliceThickness, 7.5)
        XCTAssertEqual(ScannerProfile.all.map(\.name), ["scanner-a", "scanner-b", "scanner-c"])
    }

    func testScannerAIsUnchanged() {
        let a = ScannerProfile.scannerA
        XCTAssertEqual(a.name, "scanner-a")
        XCTAssertEqual([a.noise, a.noiseGrain, a.blur, a.sharpen, a.sharpenRadius, a.huGain, a.huOffset, a.sliceThickness, a.sliceSpacing],
                       [14, 0.75, 0.7, 0.35, 1.6, 1, 0, 5, 5])
        XCTAssertEqual(a.kernel, "LUNG")
    }

    func testOverrides() throws {
        let p = try ScannerProfile.scannerA.overriding("noise=28, hu_offset=25,thickness=7.5,kernel=B70f")
        XCTAssertEqual(p.name, "scanner-a+noise=28+hu_offset=25+thickness=7.5+kernel=B70f")
        XCTAssertEqual(p.noise, 28)
        XCTAssertEqual(p.huOffset, 25)
        XCTAssertEqual(p.thicknessFactor, 3)
        XCTAssertEqual(p.spacingFactor, 3)
        XCTAssertEqual(p.kernel, "B70f")
        XCTAssertEqual(try changed(p), ["noise", "huOffset", "thicknessFactor", "spacingFactor", "kernel"])
        let q = try ScannerProfile.scannerA.overriding("spacing=2.5,thickness=5")
        XCTAssertEqual([q.thicknessFactor, q.spacingFactor], [2, 1])
        // The same shift through an override or a named profile: the same settings (so the same
        // pixels), another name (so other UIDs).
        let viaOverride = try ScannerProfile.scannerA.overriding("hu_offset=25"), named = try ScannerProfile.named("scanner-a-hu25")
        XCTAssertEqual(try fields(viaOverride), try fields(named))
        var o1 = SynthOptions(patients: 4, seed: 5), o2 = o1
        o1.profile = named
        o2.profile = viaOverride
        XCTAssertNotEqual(o1.uidKey, o2.uidKey)
        for bad in ["", "noise", "noise=-1", "noise=abc", "colour=red", "thickness=3", "thickness=0", "hu_offset=900", "hu_gain=0",
                    "kernel=a\\b"] {
            XCTAssertThrowsError(try ScannerProfile.scannerA.overriding(bad), bad) { error in
                guard case .invalidOption(let name, _, _) = error as? SynthError else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "--profile-override")
            }
        }
    }
}
