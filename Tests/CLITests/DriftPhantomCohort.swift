import Foundation
import Audit
import Model

/// Phantom cohorts for the drift tests, written as real DICOM: a body ellipse with a
/// subcutaneous fat ring, two lungs (some patients with a dense lesion), a table row, and
/// acquisition settings that can shift: image noise, HU offset, slice thickness, kernel tag.
enum DriftPhantomCohort {
    struct Acquisition {
        var noise: Float = 15
        var huOffset: Float = 0
        var thickness = 2.5
        var kernel = "LUNG"
    }

    static func write(to dir: URL, patients: Int, acquisition p: Acquisition, seed: UInt64, slices: Int = 6, size: Int = 80) throws -> URL {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rows = ["patient_id,path,label"]
        let labels = ["healthy", "covid19", "h1n1", "cap"]
        var rng = Model.SplitMix64(seed: seed)
        for k in 0..<patients {
            let id = String(format: "S%llu-%03d", seed, k)
            let folder = dir.appendingPathComponent(id)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let study = "1.2.826.0.1.3680043.10.2\(seed).\(k + 1)"
            var d = CTSliceDescription(studyInstanceUID: study, seriesInstanceUID: study + ".1")
            d.patientID = id
            d.convolutionKernel = p.kernel
            d.sliceThickness = p.thickness
            // Patient-to-patient anatomy: body size and lung size vary a little.
            let bodyX = 0.43 + 0.04 * rng.uniform(), lungY = 0.23 + 0.04 * rng.uniform()
            let lesion = k % 4 != 0
            for z in 0..<slices {
                var hu = [Float](repeating: -1000, count: size * size)
                let c = Float(size) / 2
                for r in 0..<size {
                    for col in 0..<size {
                        let i = r * size + col
                        let x = (Float(col) - c) / (bodyX * Float(size)), y = (Float(r) - c) / (0.35 * Float(size))
                        let e = x * x + y * y
                        if e < 1 { hu[i] = e > 0.7 ? -100 : 40 }
                        for side: Float in [-1, 1] {
                            let lx = (Float(col) - c - side * 0.2 * Float(size)) / (0.15 * Float(size))
                            let ly = (Float(r) - c) / (lungY * Float(size))
                            if lx * lx + ly * ly < 1 {
                                hu[i] = -850 + (lesion && r > size / 2 && lx > 0 ? 500 : 0)
                            }
                        }
                        hu[i] += p.noise * rng.normal() + p.huOffset
                    }
                }
                for col in 4..<(size - 4) { hu[(size - 3) * size + col] = 200 + p.huOffset }
                d.instanceNumber = z + 1
                d.position = [0, 0, Double(z) * p.thickness]
                d.sopInstanceUID = "\(study).1.\(z + 1)"
                try d.write(hu: hu, rows: size, columns: size, to: folder.appendingPathComponent("\(z).dcm").path)
            }
            rows.append("\(id),\(id),\(labels[k % 4])")
        }
        let manifest = dir.appendingPathComponent("manifest.csv")
        try (rows.joined(separator: "\n") + "\n").write(to: manifest, atomically: true, encoding: .utf8)
        return manifest
    }
}
