import Foundation

/// Axis ticks at "nice" numbers (1, 2, 2.5 or 5 times a power of ten).
///
/// After Heckbert ("Nice numbers for graph labels", Graphics Gems, 1990): the step is the nice
/// number nearest (max − min) / (maxTicks − 1), and the axis runs from floor(min / step) · step
/// to ceil(max / step) · step. Unlike the original, the range itself is not rounded up to a
/// nice number first, which would halve the tick count on ranges such as −812…−700; instead
/// the step is widened until there are at most maxTicks + 1 ticks.
public struct NiceScale: Sendable, Equatable {
    public let lower: Double
    public let upper: Double
    public let step: Double
    /// Decimals needed to print every tick exactly.
    public let fractionDigits: Int

    public init(min lo: Double, max hi: Double, maxTicks: Int = 6) {
        var a = lo.isFinite ? lo : 0, b = hi.isFinite ? hi : 1
        if a > b { swap(&a, &b) }
        if b - a < 1e-12 {
            let pad = a == 0 ? 1 : abs(a) * 0.1
            a -= pad; b += pad
        }
        var step = NiceScale.niceNumber((b - a) / Double(Swift.max(maxTicks - 1, 1)), round: true)
        // Widen the step (1 → 2 → 2.5 → 5 → 10) until at most maxTicks + 1 ticks remain.
        while ((b / step).rounded(.up) - (a / step).rounded(.down)) > Double(Swift.max(maxTicks, 1)) + 1e-9 {
            step = NiceScale.nextNice(step)
        }
        self.step = step
        lower = (a / step).rounded(.down) * step
        upper = (b / step).rounded(.up) * step
        let exponent = Foundation.floor(log10(step))
        // 2.5 * 10^k needs one more digit than 10^k.
        let mantissa = step / pow(10, exponent)
        let extra = abs(mantissa - 2.5) < 1e-9 ? 1 : 0
        fractionDigits = Swift.max(0, Int(-exponent) + extra)
    }

    /// The tick values from `lower` to `upper`.
    public var ticks: [Double] {
        let n = Int(((upper - lower) / step).rounded())
        return (0...n).map { i in
            let v = lower + Double(i) * step
            return abs(v) < step * 1e-9 ? 0 : v
        }
    }

    /// A tick printed with just enough decimals.
    public func label(_ v: Double) -> String { Format.fixed(v, digits: fractionDigits) }

    /// The next larger nice number after `x` (itself nice).
    static func nextNice(_ x: Double) -> Double {
        let exponent = Foundation.floor(log10(x) + 1e-12)
        let m = x / pow(10, exponent)
        let next: Double = m < 1.5 ? 2 : m < 2.25 ? 2.5 : m < 3.5 ? 5 : 10
        return next * pow(10, exponent)
    }

    /// The nice number near `x`: rounded (nearest of 1, 2, 5, 10) or ceiled.
    public static func niceNumber(_ x: Double, round: Bool) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        let exponent = Foundation.floor(log10(x))
        let fraction = x / pow(10, exponent)
        let nice: Double
        if round {
            nice = fraction < 1.5 ? 1 : fraction < 2.25 ? 2 : fraction < 3.5 ? 2.5 : fraction < 7.5 ? 5 : 10
        } else {
            nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        }
        return nice * pow(10, exponent)
    }
}
