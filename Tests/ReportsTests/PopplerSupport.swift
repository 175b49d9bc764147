import Foundation
import XCTest

/// Runs the poppler command-line tools (pdfinfo, pdffonts, pdftotext, pdftoppm) on a PDF.
enum Poppler {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `tool` with `arguments`; throws with the output if it fails or is missing.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let candidates = ["/usr/bin/\(tool)", "/usr/local/bin/\(tool)"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "\(tool) not found: install poppler-utils (make deps)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): "
                + String(decoding: errData, as: UTF8.self))
        }
        return text
    }

    /// `pdfinfo` as key/value pairs.
    static func info(_ pdf: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for line in try run("pdfinfo", [pdf]).split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            result[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    /// `pdffonts` rows: (name, type, embedded, subset).
    static func fonts(_ pdf: String) throws -> [(name: String, type: String, embedded: Bool, subset: Bool)] {
        let lines = try run("pdffonts", [pdf]).split(separator: "\n").dropFirst(2)
        return lines.map { line in
            let cols = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            // name type [type words...] encoding emb sub uni object ID
            let n = cols.count
            return (cols[0], cols[1..<(n - 6)].joined(separator: " "), cols[n - 5] == "yes", cols[n - 4] == "yes")
        }
    }

    /// Width and height of a PNG from its IHDR chunk.
    static func pngSize(_ path: String) throws -> (Int, Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count > 24, data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Failure(description: "\(path) is not a PNG")
        }
        func be32(_ o: Int) -> Int { data[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// Grey levels of a page rendered with `pdftoppm -gray` (PGM, binary P5).
    static func greyPage(_ pdf: String, page: Int, dpi: Int, prefix: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        try run("pdftoppm", ["-gray", "-r", String(dpi), "-f", String(page), "-l", String(page), "-singlefile", pdf, prefix])
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: prefix + ".pgm")))
        // Header: "P5\n<w> <h>\n<max>\n"
        var fields: [String] = []
        var i = 0
        var current = ""
        while fields.count < 4 && i < data.count {
            let c = Character(UnicodeScalar(data[i]))
            if c.isWhitespace { if !current.isEmpty { fields.append(current); current = "" } } else { current.append(c) }
            i += 1
        }
        guard fields.count == 4, fields[0] == "P5", let w = Int(fields[1]), let h = Int(fields[2]) else {
            throw Failure(description: "unexpected PGM header \(fields)")
        }
        return (w, h, Array(data[i..<min(data.count, i + w * h)]))
    }
}

/// A fresh temporary folder, or `$MLUNG_REPORT_ARTIFACTS/<name>` when set (to look at the pages).
func artifactDirectory(_ name: String) throws -> String {
    let base = ProcessInfo.processInfo.environment["MLUNG_REPORT_ARTIFACTS"]
        ?? NSTemporaryDirectory() + "mlung-reports-\(ProcessInfo.processInfo.processIdentifier)"
    let dir = base + "/" + name
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// The repository's templates/ folder.
func repositoryTemplates() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path
}
