/// How discovery classifies and validates series.
public struct DiscoveryOptions: Sendable, Equatable {
    /// A series with fewer slices is not usable (the patient network needs at least
    /// `max(scales)` slices; 4 with the spec's defaults).
    public var minimumSlices = 4
    /// Keep images whose ImageType says DERIVED or SECONDARY (off: they are skipped).
    public var allowDerived = false
    /// A spacing larger than this multiple of the median spacing is a gap.
    public var gapFactor = 1.5
    /// Positions closer than this along the normal (mm) are duplicates.
    public var duplicateTolerance = 0.01
    /// A series is axial when |normal . z| is at least this (cos 30 degrees: gantry tilt and
    /// small obliquity pass, coronal and sagittal reformats do not).
    public var axialCosine = 0.866
    /// Orientation components may differ by this much within a series.
    public var orientationTolerance = 1e-3

    public init() {}
}
