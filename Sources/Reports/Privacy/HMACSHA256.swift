internal import Model

/// HMAC-SHA-256 (RFC 2104, FIPS 198-1) over the SHA-256 that `Model` carries.
///
/// HMAC(K, m) = H((K' ⊕ opad) ‖ H((K' ⊕ ipad) ‖ m)), K' = K padded (or hashed, if longer
/// than 64 bytes) to the 64-byte block; ipad = 0x36…, opad = 0x5c….
enum HMACSHA256 {
    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key
        if k.count > 64 { var h = SHA256(); h.update(bytes: k); k = h.finalize() }
        k += [UInt8](repeating: 0, count: 64 - k.count)
        var inner = SHA256()
        inner.update(bytes: k.map { $0 ^ 0x36 })
        inner.update(bytes: message)
        let innerDigest = inner.finalize()
        var outer = SHA256()
        outer.update(bytes: k.map { $0 ^ 0x5c })
        outer.update(bytes: innerDigest)
        return outer.finalize()
    }
}
