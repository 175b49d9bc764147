import Foundation

/// Holm's step-down adjustment (Holm 1979), which controls the family-wise error rate:
/// with the m p-values sorted p_(1) ≤ … ≤ p_(m), the adjusted value of p_(i) is
/// max_{j ≤ i} min(1, (m − j + 1) p_(j)). A test is rejected at level α when its adjusted
/// p-value is below α. Equal to statsmodels' `multipletests(method="holm")`.
public enum HolmCorrection {
    /// Adjusted p-values in the order of `p`.
    public static func adjust(_ p: [Double]) -> [Double] {
        let m = p.count
        let order = p.indices.sorted { p[$0] < p[$1] || (p[$0] == p[$1] && $0 < $1) }
        var adjusted = [Double](repeating: 1, count: m)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = max(running, min(1, Double(m - rank) * p[i]))
            adjusted[i] = running
        }
        return adjusted
    }
}
