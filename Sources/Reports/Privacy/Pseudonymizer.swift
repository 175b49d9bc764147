/// Stable pseudonyms for patient identifiers and dates, keyed by a per-audit secret.
///
/// - A patient id becomes `P-` and 10 characters of Crockford base32 of
///   HMAC-SHA-256(secret, "mlung-audit/patient/v1\0" ‖ id) (the first 50 bits). The same
///   secret and id always give the same pseudonym; without the secret it cannot be reversed
///   or recomputed from a list of candidate ids.
/// - Dates are shifted back by one offset for the whole audit, 30...395 days, taken from
///   HMAC-SHA-256(secret, "mlung-audit/date-shift/v1"). Order and intervals between dates
///   are kept; the calendar dates are not.
///
/// The secret is made once per audit (e.g. 32 random bytes kept in the audit store), so two
/// renders of one audit are identical and two audits cannot be linked.
public struct Pseudonymizer: Sendable {
    private let secret: [UInt8]
    /// Days subtracted from every date.
    public let dateShiftDays: Int

    public init(secret: [UInt8]) throws {
        guard secret.count >= 16 else {
            throw ReportsError.invalidInput(what: "pseudonym secret", problem: "\(secret.count) bytes; use at least 16 (32 random bytes recommended)")
        }
        self.secret = secret
        let h = HMACSHA256.mac(key: secret, message: Array("mlung-audit/date-shift/v1".utf8))
        let v = (UInt32(h[0]) << 24) | (UInt32(h[1]) << 16) | (UInt32(h[2]) << 8) | UInt32(h[3])
        dateShiftDays = 30 + Int(v % 366)
    }

    /// A secret given as hex (64 hex digits for 32 bytes).
    public init(secretHex: String) throws {
        var bytes: [UInt8] = []
        var chars = Array(secretHex.lowercased())
        guard chars.count % 2 == 0 else { throw ReportsError.invalidInput(what: "pseudonym secret", problem: "odd number of hex digits") }
        while !chars.isEmpty {
            guard let b = UInt8(String(chars.prefix(2)), radix: 16) else {
                throw ReportsError.invalidInput(what: "pseudonym secret", problem: "not hexadecimal")
            }
            bytes.append(b); chars.removeFirst(2)
        }
        try self.init(secret: bytes)
    }

    /// The pseudonym of a patient id, e.g. "P-7KQ2M9XAH3".
    public func patient(_ id: PatientIdentifier) -> String {
        let h = HMACSHA256.mac(key: secret, message: Array("mlung-audit/patient/v1\u{0}".utf8) + Array(id.raw.utf8))
        return "P-" + Pseudonymizer.base32(h, characters: 10)
    }

    /// The shifted date.
    public func date(_ d: StudyDate) -> StudyDate { d.adding(days: -dateShiftDays) }

    /// Crockford base32 (no I, L, O, U) of the leading bits of `bytes`.
    static func base32(_ bytes: [UInt8], characters: Int) -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var out = ""
        var buffer: UInt32 = 0, bits = 0, index = 0
        while out.count < characters {
            if bits < 5 { buffer = (buffer << 8) | UInt32(bytes[index]); index += 1; bits += 8 }
            let v = Int((buffer >> UInt32(bits - 5)) & 31)
            bits -= 5
            out.append(alphabet[v])
        }
        return out
    }
}

/// Whether a report shows patient identifiers and real dates. Reports default to pseudonyms;
/// `.shown` is what `--show-identifiers` selects.
public enum IdentifierPolicy: Sendable {
    case pseudonymised(Pseudonymizer)
    case shown

    public func display(_ id: PatientIdentifier) -> String {
        switch self {
        case .pseudonymised(let p): return p.patient(id)
        case .shown: return id.raw
        }
    }

    /// The date to print; shifted dates carry a trailing "*" explained in the report.
    public func display(_ date: StudyDate) -> String {
        switch self {
        case .pseudonymised(let p): return p.date(date).description + "*"
        case .shown: return date.description
        }
    }

    public var isPseudonymised: Bool { if case .pseudonymised = self { return true } else { return false } }
}
