import ArgumentParser
import Foundation
import Model

/// Documented exit codes of `mlung-audit`.
enum ExitCodes {
    /// Success.
    static let success: Int32 = 0
    /// An unexpected internal error.
    static let internalError: Int32 = 1
    /// Bad command-line usage (ArgumentParser's own code).
    static let usage: Int32 = 64
    /// Bad input: a missing, unreadable or malformed file (weights, DICOM, manifest, tensors).
    static let badInput: Int32 = 65
}

enum CLIError {
    /// Runs `body`; a library error becomes one line on stderr and the bad-input exit code.
    static func reporting(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as ModelError {
            FileHandle.standardError.write(Data("mlung-audit: error: \(e.description)\n".utf8))
            throw ExitCode(ExitCodes.badInput)
        }
    }
}
