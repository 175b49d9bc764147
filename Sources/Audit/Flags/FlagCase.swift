import Foundation
import Model

/// One slice as the detectors see it: HU re-read from DICOM (original geometry, row-major)
/// with the outputs the run stored for it.
public struct FlagSlice: Sendable {
    public var index: Int
    /// Position along the slice normal (mm).
    public var position: Double
    /// `rows * columns` HU, or empty when the pixels were not re-read.
    public var hu: [Float]
    public var cropBox: CropBox
    public var cropFailed: Bool
    public var lungArea: Int
    /// Image-half areas as stored: columns below the middle, and the rest.
    public var lowColumnArea: Int
    public var highColumnArea: Int
    /// Four-class slice probabilities `q` and their argmax.
    public var q: [Double]
    public var predicted: Int
    /// Lesion map over the crop box, `mapSize * mapSize`, row-major (values 0...1).
    public var lesionMap: [Float]

    public init(index: Int, position: Double, hu: [Float], cropBox: CropBox, cropFailed: Bool, lungArea: Int,
                lowColumnArea: Int, highColumnArea: Int, q: [Double], predicted: Int, lesionMap: [Float]) {
        self.index = index
        self.position = position
        self.hu = hu
        self.cropBox = cropBox
        self.cropFailed = cropFailed
        self.lungArea = lungArea
        self.lowColumnArea = lowColumnArea
        self.highColumnArea = highColumnArea
        self.q = q
        self.predicted = predicted
        self.lesionMap = lesionMap
    }
}

/// Everything the detectors may use for one patient of a run: the DICOM header facts, the
/// slices (pixels and stored outputs) and the patient-level outputs.
public struct FlagCase: Sendable {
    public var patientID: String
    public var label: Diagnosis?
    public var modality: String?
    public var bodyPartExamined: String?
    public var rows: Int
    public var columns: Int
    /// Row and column pixel spacing (mm).
    public var pixelSpacing: [Double]
    /// ImageOrientationPatient (row cosines, column cosines).
    public var orientation: [Double]
    /// Median slice spacing (mm).
    public var sliceSpacing: Double
    public var problems: [SeriesProblem]
    public var mapSize: Int
    public var slices: [FlagSlice]
    /// Learned head probabilities and answer; non-parametric scores and answer (nil when imported).
    public var probabilities: [Double]
    public var predicted: Int
    public var nonParametric: [Double]?
    public var nonParametricPredicted: Int?
    /// Preprocessing settings of the run (lung mask).
    public var preprocess: PreprocessSettings
    /// The stored window-averaged slice features, `slices.count * featureDim` in slice order
    /// (empty when not loaded), and a patient network (else the model's, below): together they
    /// answer "what would the model say without these slices?".
    public var features: [Float] = []
    public var featureDim = 0
    public var patientNetwork: PatientNetwork?
    /// The run's whole model (both networks) when its weight file is at hand: answers "what would
    /// the model say were these slices' pixels different?" (`probabilities(replacing:)`).
    public var model: MLungSys?

    public init(patientID: String, label: Diagnosis?, modality: String?, bodyPartExamined: String?, rows: Int, columns: Int,
                pixelSpacing: [Double], orientation: [Double], sliceSpacing: Double, problems: [SeriesProblem], mapSize: Int,
                slices: [FlagSlice], probabilities: [Double], predicted: Int, nonParametric: [Double]?,
                nonParametricPredicted: Int?, preprocess: PreprocessSettings) {
        self.patientID = patientID
        self.label = label
        self.modality = modality
        self.bodyPartExamined = bodyPartExamined
        self.rows = rows
        self.columns = columns
        self.pixelSpacing = pixelSpacing
        self.orientation = orientation
        self.sliceSpacing = sliceSpacing
        self.problems = problems
        self.mapSize = mapSize
        self.slices = slices
        self.probabilities = probabilities
        self.predicted = predicted
        self.nonParametric = nonParametric
        self.nonParametricPredicted = nonParametricPredicted
        self.preprocess = preprocess
    }

    /// Patient probabilities from the stored features of the slices in `keep` only (slice order),
    /// nil without features or network, or when fewer slices remain than the largest scale.
    public func probabilities(keeping keep: [Int]) -> [Double]? {
        guard let net = patientNetwork ?? model?.patientNetwork, featureDim > 0, features.count == slices.count * featureDim,
              net.config.featureDim == featureDim, keep.count >= (net.config.scales.max() ?? 1) else { return nil }
        var x: [Float] = []
        x.reserveCapacity(keep.count * featureDim)
        for i in keep.sorted() where i >= 0 && i < slices.count { x += features[(i * featureDim)..<((i + 1) * featureDim)] }
        guard x.count == keep.count * featureDim else { return nil }
        return net.probabilities(features: x, count: keep.count).map(Double.init)
    }

    /// Patient probabilities with the slices in `replaced` (slice index: HU in the original
    /// geometry, `rows * columns`) run again through the slice network, each cropped to its
    /// stored box and resized as the run did, and every other slice's stored features kept. nil
    /// without features or model, or when a replacement has the wrong size.
    public func probabilities(replacing replaced: [Int: [Float]], threads: Int = 2) -> [Double]? {
        guard let model, featureDim > 0, features.count == slices.count * featureDim, model.config.featureDim == featureDim,
              !replaced.isEmpty else { return nil }
        let order = replaced.keys.sorted()
        guard order.allSatisfy({ $0 >= 0 && $0 < slices.count && replaced[$0]!.count == rows * columns }) else { return nil }
        let size = model.config.inputSize, pixels = size * size
        var input = [Float](repeating: 0, count: order.count * pixels)
        input.withUnsafeMutableBufferPointer { out in
            for (k, i) in order.enumerated() {
                let b = slices[i].cropBox
                replaced[i]!.withUnsafeBufferPointer { hu in
                    BilinearResize.resize(hu, srcCols: columns, row0: b.row0, col0: b.col0, row1: b.row1, col1: b.col1, outSize: size,
                                          into: UnsafeMutableBufferPointer(rebasing: out[(k * pixels)..<((k + 1) * pixels)]))
                }
            }
        }
        let r = input.withUnsafeBufferPointer { model.runSlices(hu: $0, count: order.count, options: EngineOptions(threads: threads, batch: 8)) }
        var x = features
        for (k, i) in order.enumerated() {
            for j in 0..<featureDim { x[i * featureDim + j] = r.features[k * featureDim + j] }
        }
        return model.patientNetwork.probabilities(features: x, count: slices.count).map(Double.init)
    }

    /// Row and column spacing (mm), 1 when the header has none.
    var rowMM: Double { pixelSpacing.count == 2 && pixelSpacing[0] > 0 ? pixelSpacing[0] : 1 }
    var colMM: Double { pixelSpacing.count == 2 && pixelSpacing[1] > 0 ? pixelSpacing[1] : 1 }
    var pixelMM2: Double { rowMM * colMM }

    /// True when higher column indices lie toward the patient's left (DICOM LPS: the row
    /// direction cosine's x component is positive, as in the usual display).
    public var patientLeftIsHighColumn: Bool { orientation.count == 6 ? orientation[0] >= 0 : true }
    /// True when higher row indices lie toward the patient's back (column cosine's y > 0).
    public var posteriorIsHighRow: Bool { orientation.count == 6 ? orientation[4] >= 0 : true }
}
