import Foundation

/// Deterministic DICOM UIDs: `2.25.` followed by the decimal value of a 128-bit UUID
/// (ISO/IEC 9834-8 / PS3.5 B.2), a version-8 (custom) UUID whose bits are a hash of the
/// given keys. The same keys always give the same UID; different keys collide with
/// probability ~2^-122.
public enum SyntheticUID {
    public static func make(_ keys: [UInt64]) -> String {
        var h1: UInt64 = 0x243F_6A88_85A3_08D3, h2: UInt64 = 0x1319_8A2E_0370_7344
        for k in keys {
            h1 = SynthRandom.mix(h1 ^ k)
            h2 = SynthRandom.mix(h2 ^ SynthRandom.mix(k ^ 0xA409_3822_299F_31D0))
        }
        var hi = (h1 & ~UInt64(0xF000)) | 0x8000                         // version 8
        var lo = (h2 & ~(UInt64(0xC) << 60)) | (UInt64(0x8) << 60)          // variant 10
        var digits: [Character] = []
        while hi != 0 || lo != 0 {
            let qh = hi / 10, rh = hi % 10
            let (ql, r) = UInt64(10).dividingFullWidth((high: rh, low: lo))
            hi = qh
            lo = ql
            digits.append(Character(String(r)))
        }
        return "2.25." + (digits.isEmpty ? "0" : String(digits.reversed()))
    }

    /// A 64-bit key for a string (FNV-1a), to put names into `make`.
    public static func key(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}
