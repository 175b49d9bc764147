import Foundation
import Audit
import Model

/// A small cohort written as real DICOM (through DCMTK) for end-to-end runs: each patient a
/// series of a chest-like phantom (body ellipse, two dark lungs, a table row), so that the
/// preprocessing crop finds lungs.
enum TestCohort {
    /// Writes `patients` series of `slices` slices (`size` x `size`) under `dir` and a manifest;
    /// `broken` names patients whose series gets a truncated file among too few slices.
    static func write(to dir: URL, patients: Int, slices: Int = 6, size: Int = 80,
                      broken: Set<Int> = [], seed: UInt64 = 1) throws -> URL {
        var rows = ["patient_id,path,label,site"]
        let labels = ["healthy", "covid19", "h1n1", "cap"]
        var rng = Model.SplitMix64(seed: seed)
        for p in 0..<patients {
            let folder = dir.appendingPathComponent(String(format: "P%03d", p))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let study = "1.2.826.0.1.3680043.10.1\(seed).\(p + 1)"
            var d = CTSliceDescription(studyInstanceUID: study, seriesInstanceUID: study + ".1")
            d.patientID = String(format: "P%03d", p)
            let n = broken.contains(p) ? 2 : slices
            for z in 0..<n {
                var hu = [Float](repeating: -1000, count: size * size)
                let c = Float(size) / 2
                for r in 0..<size {
                    for col in 0..<size {
                        let x = (Float(col) - c) / (0.45 * Float(size)), y = (Float(r) - c) / (0.35 * Float(size))
                        if x * x + y * y < 1 { hu[r * size + col] = 40 + 20 * rng.normal() }
                        for side: Float in [-1, 1] {
                            let lx = (Float(col) - c - side * 0.2 * Float(size)) / (0.15 * Float(size))
                            let ly = (Float(r) - c) / (0.25 * Float(size))
                            if lx * lx + ly * ly < 1 {
                                hu[r * size + col] = -850 + 40 * rng.normal() + (p % 4 != 0 && r > size / 2 && lx > 0 ? 500 : 0)
                            }
                        }
                    }
                }
                for col in 4..<(size - 4) { hu[(size - 3) * size + col] = 200 }   // the table
                d.instanceNumber = z + 1
                d.position = [0, 0, Double(z) * 2.5]
                d.sliceThickness = 2.5
                d.sopInstanceUID = "\(study).1.\(z + 1)"
                try d.write(hu: hu, rows: size, columns: size, to: folder.appendingPathComponent("\(z).dcm").path)
            }
            rows.append("\(d.patientID),\(folder.lastPathComponent),\(labels[p % 4]),site-\(p % 2)")
        }
        let manifest = dir.appendingPathComponent("manifest.csv")
        try (rows.joined(separator: "\n") + "\n").write(to: manifest, atomically: true, encoding: .utf8)
        return manifest
    }

    /// Rows of `patient_results` for a run, as comparable tuples.
    static func results(db: String, run: Int) throws -> [[SQLValue]] {
        let store = try AuditStore(path: db)
        return try store.db.query("""
            SELECT patient_id, status, slice_count, p0, p1, p2, p3, predicted, np0, np1, np2, np3, np_predicted, cache_key
            FROM patient_results WHERE run_id = ? ORDER BY patient_id
            """, [run])
    }
}
