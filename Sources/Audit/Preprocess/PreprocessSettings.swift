import Model

/// The preprocessing parameters of spec section 1 (defaults are the spec's). A weight file's
/// `config` overrides them: use `init(_ config: ModelConfig)`.
public struct PreprocessSettings: Sendable, Equatable, Codable {
    /// Output side `S` of the resized slice (step 7).
    public var inputSize = 224
    /// Lung threshold: `mask = hu < lungThresholdHU` (step 2).
    public var lungThresholdHU: Float = -320
    /// Side of the square structuring element of both openings (steps 3 and 5).
    public var openingKernel = 5
    /// Pixels added on each side of the mask's bounding box (step 6).
    public var cropMargin = 10
    /// Components smaller than this fraction of `rows * cols` are dropped (step 4).
    public var minComponentFraction: Double = 0.0025

    public init() {}

    public init(inputSize: Int = 224, lungThresholdHU: Float = -320, openingKernel: Int = 5,
                cropMargin: Int = 10, minComponentFraction: Double = 0.0025) {
        self.inputSize = inputSize
        self.lungThresholdHU = lungThresholdHU
        self.openingKernel = openingKernel
        self.cropMargin = cropMargin
        self.minComponentFraction = minComponentFraction
    }

    /// The preprocessing fields of a weight file's config.
    public init(_ config: ModelConfig) {
        self.init(inputSize: config.inputSize, lungThresholdHU: config.lungThresholdHU,
                  openingKernel: config.openingKernel, cropMargin: config.cropMargin,
                  minComponentFraction: config.minComponentFraction)
    }

    /// Throws when a value cannot be used.
    public func validate() throws {
        guard inputSize >= 1, inputSize <= 4096 else { throw IngestError.invalidArgument(reason: "input size \(inputSize) must be in 1...4096") }
        guard openingKernel >= 1 else { throw IngestError.invalidArgument(reason: "opening kernel \(openingKernel) must be at least 1") }
        guard cropMargin >= 0 else { throw IngestError.invalidArgument(reason: "crop margin \(cropMargin) must not be negative") }
        guard minComponentFraction >= 0, minComponentFraction.isFinite else {
            throw IngestError.invalidArgument(reason: "min component fraction \(minComponentFraction) must be >= 0")
        }
    }
}
