import Foundation
import XCTest
@testable import Audit

/// Mutated and truncated real DICOM files: every case must end in a value or a thrown error,
/// never a crash or a hang.
final class DicomFuzzTests: XCTestCase {
    /// SplitMix64: deterministic cases, reproducible from the seed and case number.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ data: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var d = data
        switch rng.next() % 6 {
        case 0:  // truncate
            d.removeLast(Int(rng.next() % UInt64(d.count)))
        case 1:  // flip bytes
            for _ in 0..<(1 + rng.next() % 8) { d[Int(rng.next() % UInt64(d.count))] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255) }
        case 2:  // overwrite a 16/32-bit word (lengths, VRs, tags) with an extreme value
            let at = Int(rng.next() % UInt64(max(d.count - 4, 1)))
            let values: [UInt32] = [0, 1, 0xFFFF, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, UInt32(truncatingIfNeeded: rng.next())]
            let v = values[Int(rng.next() % UInt64(values.count))]
            for i in 0..<min(4, d.count - at) { d[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
        case 3:  // delete a chunk
            let at = Int(rng.next() % UInt64(d.count))
            d.removeSubrange(at..<min(d.count, at + 1 + Int(rng.next() % 64)))
        case 4:  // duplicate a chunk
            let at = Int(rng.next() % UInt64(d.count))
            let chunk = d[at..<min(d.count, at + 1 + Int(rng.next() % 256))]
            d.insert(contentsOf: chunk, at: Int(rng.next() % UInt64(d.count)))
        default:  // mutate inside the first 1 KiB (meta header, image pixel module) only
            for _ in 0..<(1 + rng.next() % 4) { d[Int(rng.next() % UInt64(min(d.count, 1024)))] = UInt8(truncatingIfNeeded: rng.next()) }
        }
        return d.isEmpty ? [0] : d
    }

    func testMutatedFilesNeverCrash() throws {
        let sources = ["ct_small_explicit_le.dcm", "ct_small_implicit_le.dcm", "ct_small_explicit_be.dcm",
                       "ct_small_deflated.dcm", "ct_small_jpeg_lossless.dcm", "ct_small_jpeg_ls_lossless.dcm",
                       "ct_small_rle.dcm", "mr_small_rle.dcm", "nm_jpeg_extended_lossy.dcm",
                       "synthetic_s12_highbits_fractional.dcm", "ct_jpeg2000_lossy.dcm"]
        let originals = try sources.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: DicomFixtures.path($0)))) }
        let tmp = try TemporaryDirectory()
        let path = tmp.path("case.dcm")
        let cases = Int(ProcessInfo.processInfo.environment["MLUNG_FUZZ_CASES"] ?? "") ?? 3000
        let deadline = Date().addingTimeInterval(Double(ProcessInfo.processInfo.environment["MLUNG_FUZZ_SECONDS"] ?? "") ?? 20)
        var rng = SplitMix(state: 0x5EED_D1C0)
        var decoded = 0, thrown = 0, ran = 0
        for n in 0..<cases {
            if Date() > deadline { break }
            let k = n % originals.count
            let bytes = Self.mutate(originals[k], &rng)
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            do {
                let headerOnly = try DicomFile(path: path, headerOnly: true)
                _ = DicomInstance(file: headerOnly)
                let file = try DicomFile(path: path)
                let info = try file.pixelInfo()
                guard info.rows * info.columns <= 4096 * 4096 else { throw IngestError.invalidArgument(reason: "huge") }
                let hu = try file.hu()
                XCTAssertTrue(hu.allSatisfy { $0 >= -1024 && $0 <= 3071 }, "case \(n) from \(sources[k])")
                decoded += 1
            } catch is IngestError {
                thrown += 1
            }
            ran += 1
        }
        print("fuzz: \(ran) cases, \(decoded) decoded, \(thrown) threw")
        XCTAssertGreaterThan(ran, 500)
        XCTAssertGreaterThan(thrown, 0)
        XCTAssertGreaterThan(decoded, 0)
    }
}
