import Foundation

/// An axial CT volume in HU with its geometry, the value the artifact and scanner operators
/// work on: `hu[(k * rows + r) * columns + c]`, slice `k` at `z = origin.z + k * sliceSpacing`
/// (ascending), pixel `(r, c)` at `x = origin.x + c * columnSpacing`,
/// `y = origin.y + r * rowSpacing` (DICOM patient coordinates, LPS: x to the patient's left,
/// y to the back, z to the head; identity ImageOrientationPatient).
public struct CTVolume: Sendable {
    public var rows: Int
    public var columns: Int
    public var slices: Int
    /// Centre-to-centre distance of adjacent columns (x) and rows (y), mm.
    public var columnSpacing: Double
    public var rowSpacing: Double
    /// Distance between slice centres (z), mm.
    public var sliceSpacing: Double
    /// Nominal reconstructed slice thickness, mm.
    public var sliceThickness: Double
    /// Patient coordinates of the centre of voxel (0, 0, 0), mm.
    public var origin: (x: Double, y: Double, z: Double)
    public var hu: [Float]

    public init(rows: Int, columns: Int, slices: Int, columnSpacing: Double, rowSpacing: Double,
                sliceSpacing: Double, sliceThickness: Double? = nil,
                origin: (x: Double, y: Double, z: Double), fill: Float = -1000) {
        self.rows = rows
        self.columns = columns
        self.slices = slices
        self.columnSpacing = columnSpacing
        self.rowSpacing = rowSpacing
        self.sliceSpacing = sliceSpacing
        self.sliceThickness = sliceThickness ?? sliceSpacing
        self.origin = origin
        hu = [Float](repeating: fill, count: rows * columns * slices)
    }

    public var sliceCount: Int { rows * columns }
    public var voxelVolumeML: Double { columnSpacing * rowSpacing * sliceSpacing / 1000 }
    public var pixelAreaMM2: Double { columnSpacing * rowSpacing }

    @inline(__always) public func x(_ c: Int) -> Double { origin.x + Double(c) * columnSpacing }
    @inline(__always) public func y(_ r: Int) -> Double { origin.y + Double(r) * rowSpacing }
    @inline(__always) public func z(_ k: Int) -> Double { origin.z + Double(k) * sliceSpacing }

    /// The HU of slice `k` (rows x columns, row-major).
    public func slice(_ k: Int) -> [Float] {
        Array(hu[(k * sliceCount)..<((k + 1) * sliceCount)])
    }

    /// Reads a decoded series (see `SeriesReader.readVolume`) with its pixel spacing and the
    /// median slice spacing; the series must be axial with identity orientation.
    public init(_ volume: HUVolume, series: DicomSeries) throws {
        guard let g = series.geometry else {
            throw SynthError.invalidVolume(reason: "series \(series.seriesInstanceUID) has no geometry")
        }
        let o = g.orientation
        guard o.count == 6, abs(o[0] - 1) < 1e-3, abs(o[4] - 1) < 1e-3 else {
            throw SynthError.invalidVolume(reason: "series \(series.seriesInstanceUID): orientation \(o) is not the identity axial orientation the operators assume")
        }
        let spacing = series.metadata.pixelSpacing ?? [1, 1]
        let positions = volume.slices.compactMap(\.position)
        let dz = g.medianSpacing ?? 1
        self.init(rows: volume.rows, columns: volume.columns, slices: volume.count,
                  columnSpacing: spacing.count > 1 ? spacing[1] : spacing[0], rowSpacing: spacing[0],
                  sliceSpacing: dz, sliceThickness: series.metadata.sliceThickness,
                  origin: (0, 0, positions.first ?? 0))
        hu = volume.hu
    }
}

/// What the generator knows about each voxel (bit flags, one byte per voxel).
public struct VoxelTruth: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Lung (parenchyma with its vessels and small airways), either side.
    public static let lung = VoxelTruth(rawValue: 1)
    /// Disease (ground-glass, consolidation or nodules).
    public static let lesion = VoxelTruth(rawValue: 2)
    /// Heart with its pericardium (the moving object of the cardiac-motion artifact).
    public static let heart = VoxelTruth(rawValue: 4)
    /// Changed by at least 30 HU by the cardiac-motion artifact.
    public static let artifact = VoxelTruth(rawValue: 8)
    /// Air inside the trachea or a bronchus.
    public static let airway = VoxelTruth(rawValue: 16)
    /// Inside the body outline.
    public static let body = VoxelTruth(rawValue: 32)
    /// The patient's left lung (with `lung`).
    public static let leftLung = VoxelTruth(rawValue: 64)
}
