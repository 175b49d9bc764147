import ArgumentParser
import Audit
import Foundation
import Model

/// Documented exit codes of `mlung-audit` (README, "Exit codes").
enum ExitCodes {
    /// Success.
    static let success: Int32 = 0
    /// An unexpected internal error.
    static let internalError: Int32 = 1
    /// Bad command-line usage (ArgumentParser's own code).
    static let usage: Int32 = 64
    /// Bad input: a missing, unreadable or malformed file (weights, DICOM, manifest, tensors).
    static let badInput: Int32 = 65
    /// A run finished, but some patients failed (each recorded with its reason).
    static let patientsFailed: Int32 = 66
    /// The audit store could not be opened, read or written.
    static let storeError: Int32 = 74
}

enum CLIError {
    /// Runs `body`; a library error becomes one line on stderr and its documented exit code.
    static func reporting(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as ModelError {
            throw fail(e.description, ExitCodes.badInput)
        } catch let e as IngestError {
            throw fail(e.description, ExitCodes.badInput)
        } catch let e as StoreError {
            throw fail(e.description, ExitCodes.storeError)
        }
    }

    /// Prints `message` as one error line; returns the exit code to throw.
    static func fail(_ message: String, _ code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("mlung-audit: error: \(message)\n".utf8))
        return ExitCode(code)
    }
}

/// Writes to stderr (progress and diagnostics; stdout carries results only).
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
