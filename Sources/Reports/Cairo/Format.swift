/// Locale-independent number formatting, so a report reads the same on every machine.
public enum Format {
    /// `value` with exactly `digits` decimals, rounded half away from zero; "–" for NaN.
    public static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "–" : (value > 0 ? "∞" : "−∞") }
        let scale = pow10(digits)
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        let negative = value < 0 && scaled != 0
        let intPart = (scaled / scale).rounded(.towardZero)
        var text = String(Int64(intPart))
        if digits > 0 {
            let frac = Int64((scaled - intPart * scale).rounded())
            var fracText = String(frac)
            while fracText.count < digits { fracText = "0" + fracText }
            text += "." + fracText
        }
        return negative ? "−" + text : text
    }

    /// A proportion as a percentage with `digits` decimals, e.g. "93.1 %".
    public static func percent(_ value: Double, digits: Int = 1) -> String {
        fixed(value * 100, digits: digits) + " %"
    }

    /// An integer with thin-space thousands separators, e.g. "12 345".
    public static func count(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append("\u{2009}") }
            out.append(ch)
        }
        return value < 0 ? "−" + out : out
    }

    /// A signed difference, e.g. "+0.021" or "−0.004".
    public static func signed(_ value: Double, digits: Int) -> String {
        let text = fixed(value, digits: digits)
        if text.hasPrefix("−") || text == "–" { return text }
        if text.allSatisfy({ $0 == "0" || $0 == "." }) { return text }
        return "+" + text
    }

    static func pow10(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<max(0, n) { r *= 10 }
        return r
    }
}
