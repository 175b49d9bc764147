import Foundation

/// An MLung-Sys weight file (spec section 5), validated against its own `config`:
/// every tensor the architecture needs is present with exactly the expected shape, and
/// nothing else is. Tensors are converted to float32 on load.
public struct WeightFile: Sendable {
    public static let classNamesDefault = ["healthy", "covid19", "h1n1", "cap"]

    public let path: String
    public let config: ModelConfig
    public let modelName: String
    public let modelVersion: String
    public let classes: [String]
    /// SHA-256 of the whole file: the model's identity in an audit.
    public let fileSHA256: String
    /// Digest of the slice network's tensors (names, dtypes, shapes, bytes; name order).
    public let sliceNetworkDigest: String
    /// Digest of the patient network's tensors.
    public let patientNetworkDigest: String
    /// Every tensor as float32, by name (shapes in `shapes`).
    public private(set) var tensors: [String: [Float]]
    public let shapes: [String: [Int]]

    public init(contentsOf url: URL) throws {
        let path = url.path
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw ModelError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        try self.init(bytes: bytes, path: path)
    }

    public init(bytes: Data, path: String) throws {
        let file = try SafeTensorsFile(bytes: bytes, path: path)
        self.path = path
        let meta = file.metadata
        guard let format = meta["format"] else {
            throw ModelError.wrongFormat(path: path, reason: "metadata has no 'format' (expected 'mlung-sys')")
        }
        guard format == "mlung-sys" else {
            throw ModelError.wrongFormat(path: path, reason: "format is '\(format)', expected 'mlung-sys'")
        }
        guard let version = meta["format_version"] else {
            throw ModelError.wrongFormat(path: path, reason: "metadata has no 'format_version'")
        }
        guard version == "1" else {
            throw ModelError.wrongFormat(path: path, reason: "format_version '\(version)' is not supported (this engine reads version 1)")
        }
        modelName = meta["model_name"] ?? ""
        modelVersion = meta["model_version"] ?? ""
        if let c = meta["classes"] {
            guard let data = c.data(using: .utf8),
                  let list = (try? JSONSerialization.jsonObject(with: data)) as? [String], list.count == 4
            else { throw ModelError.wrongFormat(path: path, reason: "'classes' must be a JSON list of 4 names") }
            classes = list
        } else {
            classes = Self.classNamesDefault
        }
        config = try meta["config"].map { try ModelConfig(json: $0, path: path) } ?? ModelConfig()

        let expected = Architecture.expectedShapes(config)
        var expectedNames = Set<String>()
        for (name, shape) in expected {
            expectedNames.insert(name)
            guard let entry = file.entries[name] else { throw ModelError.missingTensor(path: path, name: name) }
            guard entry.shape == shape else {
                throw ModelError.mismatchedShape(path: path, name: name, expected: shape, actual: entry.shape)
            }
            guard ["F32", "F16", "BF16"].contains(entry.dtype) else {
                throw ModelError.malformedFile(path: path, reason: "tensor '\(name)' has dtype \(entry.dtype); weights must be F32, F16 or BF16")
            }
        }
        for name in file.sortedNames where !expectedNames.contains(name) && !Self.isIgnored(name) {
            throw ModelError.unexpectedTensor(path: path, name: name)
        }
        var tensors: [String: [Float]] = [:]
        var shapes: [String: [Int]] = [:]
        for (name, shape) in expected {
            let values = try file.floats(name)
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.malformedFile(path: path, reason: "tensor '\(name)' holds a non-finite value at flat index \(bad)")
            }
            tensors[name] = values
            shapes[name] = shape
        }
        self.tensors = tensors
        self.shapes = shapes
        // The file hash and the two network digests read every byte twice: two threads.
        let names = file.sortedNames.filter { !Self.isIgnored($0) }
        // Each variable is written by one job only.
        nonisolated(unsafe) var fileHash = ""
        nonisolated(unsafe) var networkDigests = ("", "")
        DispatchQueue.concurrentPerform(iterations: 2) { job in
            if job == 0 {
                fileHash = SHA256.hex(bytes)
            } else {
                networkDigests = (Self.digest(file, names: names.filter { !$0.hasPrefix("patient.") }),
                                  Self.digest(file, names: names.filter { $0.hasPrefix("patient.") }))
            }
        }
        fileSHA256 = fileHash
        (sliceNetworkDigest, patientNetworkDigest) = networkDigests
    }

    /// `num_batches_tracked` may be present (PyTorch saves it) and is ignored.
    static func isIgnored(_ name: String) -> Bool {
        name.hasSuffix(".num_batches_tracked") && name.hasPrefix("backbone.")
    }

    /// SHA-256 over, per tensor in byte-wise name order: name, 0x00, dtype, 0x00, the shape
    /// as decimals joined by ",", 0x00, the byte length (UInt64 little endian), the raw bytes.
    static func digest(_ file: SafeTensorsFile, names: [String]) -> String {
        var h = SHA256()
        for name in names {
            let e = file.entries[name]!
            h.update(bytes: Array(name.utf8) + [0] + Array(e.dtype.utf8) + [0]
                + Array(e.shape.map(String.init).joined(separator: ",").utf8) + [0])
            var length = UInt64(e.range.count).littleEndian
            withUnsafeBytes(of: &length) { h.update($0) }
            file.data.withUnsafeBytes { raw in
                h.update(UnsafeRawBufferPointer(rebasing: raw[e.range]))
            }
        }
        return h.finalizeHex()
    }

    /// The same file's identity and metadata without the float32 tensors (which the networks
    /// copy into their own folded form), so that a loaded engine does not hold them twice.
    public func withoutTensors() -> WeightFile {
        var copy = self
        copy.tensors = [:]
        return copy
    }

    /// A tensor by name; the architecture was validated at load, so a miss is a programming error.
    func tensor(_ name: String) -> [Float] {
        guard let t = tensors[name] else { preconditionFailure("tensor \(name) not loaded") }
        return t
    }
}
