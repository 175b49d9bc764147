import Foundation

/// A parsed safetensors container: an 8-byte little-endian header length, a JSON header,
/// then the raw tensor bytes. Every length and offset is bounds-checked; nothing traps.
public struct SafeTensorsFile: Sendable {
    /// One tensor's header entry.
    public struct Entry: Sendable, Equatable {
        public var dtype: String
        public var shape: [Int]
        /// Byte range inside `data` (the bytes after the header).
        public var range: Range<Int>
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// Bytes per element of the dtypes this library understands.
    public static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2,
        "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
        "U16": 2, "U32": 4, "U64": 8,
    ]

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    /// The tensor bytes (everything after the header).
    public let data: Data

    /// Tensor names in byte-wise order of their UTF-8 encoding.
    public var sortedNames: [String] {
        entries.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    public init(contentsOf url: URL) throws {
        let path = url.path
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw ModelError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        try self.init(bytes: bytes, path: path)
    }

    public init(bytes: Data, path: String) throws {
        self.path = path
        guard bytes.count >= 8 else {
            throw ModelError.malformedFile(path: path, reason: "file is \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength = bytes.withUnsafeBytes { raw -> UInt64 in
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return v
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw ModelError.malformedFile(path: path, reason: "header length \(headerLength) exceeds the file size \(bytes.count)")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerData = bytes.subdata(in: bytes.startIndex + 8 ..< bytes.startIndex + headerEnd)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw ModelError.malformedFile(path: path, reason: "header is not valid JSON")
        }
        guard let header = json as? [String: Any] else {
            throw ModelError.malformedFile(path: path, reason: "header is not a JSON object")
        }
        let dataSize = bytes.count - headerEnd
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let meta = value as? [String: Any] else {
                    throw ModelError.malformedFile(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in meta {
                    guard let s = v as? String else {
                        throw ModelError.malformedFile(path: path, reason: "__metadata__ value '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any],
                  let dtype = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any],
                  let offsetsAny = info["data_offsets"] as? [Any], offsetsAny.count == 2
            else {
                throw ModelError.malformedFile(path: path, reason: "tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let elementSize = Self.dtypeSizes[dtype] else {
                throw ModelError.malformedFile(path: path, reason: "tensor '\(name)' has unknown dtype \(dtype)")
            }
            var shape: [Int] = []
            for d in shapeAny {
                guard let n = Self.exactInt(d), n >= 0, n <= 1 << 40 else {
                    throw ModelError.malformedFile(path: path, reason: "tensor '\(name)' has an invalid shape \(shapeAny)")
                }
                shape.append(n)
            }
            guard let begin = Self.exactInt(offsetsAny[0]), let end = Self.exactInt(offsetsAny[1]),
                  begin >= 0, begin <= end, end <= dataSize
            else {
                throw ModelError.malformedFile(path: path, reason: "tensor '\(name)' has data_offsets \(offsetsAny) outside the \(dataSize) data bytes")
            }
            var count = 1
            for d in shape {
                let (m, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw ModelError.malformedFile(path: path, reason: "tensor '\(name)' shape \(shape) is too large")
                }
                count = m
            }
            guard end - begin == count * elementSize else {
                throw ModelError.malformedFile(path: path, reason: "tensor '\(name)' holds \(end - begin) bytes, but \(dtype) \(shape) needs \(count * elementSize)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: begin..<end)
        }
        self.entries = entries
        self.metadata = metadata
        self.data = bytes.subdata(in: bytes.startIndex + headerEnd ..< bytes.endIndex)
    }

    private static func exactInt(_ any: Any) -> Int? {
        if let n = any as? Int { return n }
        if let n = any as? NSNumber {
            let d = n.doubleValue
            guard d.rounded() == d, abs(d) < 9e15 else { return nil }
            return Int(d)
        }
        return nil
    }

    /// The raw bytes of one tensor as stored.
    public func rawBytes(_ name: String) -> Data? {
        guard let e = entries[name] else { return nil }
        return data.subdata(in: data.startIndex + e.range.lowerBound ..< data.startIndex + e.range.upperBound)
    }

    /// One tensor converted to float32 (from F32, F16, BF16 or F64).
    public func floats(_ name: String) throws -> [Float] {
        guard let e = entries[name] else { throw ModelError.missingTensor(path: path, name: name) }
        let n = e.elementCount
        var out = [Float](repeating: 0, count: n)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress!.advanced(by: e.range.lowerBound)
            try out.withUnsafeMutableBufferPointer { dst in
                switch e.dtype {
                case "F32":
                    memcpy(dst.baseAddress!, base, n * 4)
                case "F16":
                    for i in 0..<n { dst[i] = halfToFloat(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
                case "BF16":
                    for i in 0..<n {
                        dst[i] = Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                    }
                case "F64":
                    for i in 0..<n { dst[i] = Float(base.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
                default:
                    throw ModelError.malformedFile(path: path, reason: "tensor '\(name)' has dtype \(e.dtype); expected F32, F16 or BF16")
                }
            }
        }
        return out
    }
}

/// IEEE 754 half precision to single precision, exact for every value (subnormals, inf, NaN).
@inline(__always)
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1f)
    let mantissa = UInt32(h & 0x3ff)
    if exponent == 0 {
        // Zero or subnormal: mantissa * 2^-24.
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
}

/// Writes a safetensors file: tensors in name order, a deterministic JSON header padded with
/// spaces to a multiple of 8 bytes. Written to a temporary file and renamed, so a failure
/// never leaves a partial output.
public struct SafeTensorsWriter {
    public enum Payload {
        case f32([Float])
        case i32([Int32])
        case u8([UInt8])
    }
    private var tensors: [(name: String, shape: [Int], payload: Payload)] = []
    public var metadata: [String: String] = [:]

    public init() {}

    public mutating func add(_ name: String, shape: [Int], _ payload: Payload) {
        tensors.append((name, shape, payload))
    }

    public func encoded() -> Data {
        let ordered = tensors.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        var header = "{"
        var first = true
        func jsonString(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
                default: out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        }
        if !metadata.isEmpty {
            header += "\"__metadata__\":{"
            header += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            header += "}"
            first = false
        }
        var body = Data()
        for t in ordered {
            let begin = body.count
            let dtype: String
            switch t.payload {
            case .f32(let v): dtype = "F32"; v.withUnsafeBytes { body.append(contentsOf: $0) }
            case .i32(let v): dtype = "I32"; v.withUnsafeBytes { body.append(contentsOf: $0) }
            case .u8(let v): dtype = "U8"; body.append(contentsOf: v)
            }
            if !first { header += "," }
            first = false
            header += "\(jsonString(t.name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(body.count)]}"
        }
        header += "}"
        while header.utf8.count % 8 != 0 { header += " " }
        var out = Data()
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        out.append(body)
        return out
    }

    /// Writes atomically: a temporary file beside the destination, then a rename.
    public func write(to url: URL) throws {
        do {
            try encoded().write(to: url, options: .atomic)
        } catch {
            throw ModelError.unreadable(path: url.path, reason: "cannot write: \((error as NSError).localizedDescription)")
        }
    }
}
