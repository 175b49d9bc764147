/// Everything that can go wrong while building a report, with what to do about it.
public enum ReportsError: Error, CustomStringConvertible, Equatable {
    /// Cairo refused an operation; `status` is cairo's own message.
    case cairo(operation: String, status: String)
    /// The template folder is missing or lacks the named template.
    case templateNotFound(name: String, searched: [String])
    /// A Mustache template did not parse.
    case templateSyntax(file: String, line: Int, column: Int, message: String)
    /// The rendered markup refers to something the report does not have, or is malformed.
    case markup(line: Int, text: String, problem: String)
    /// A value handed to the report is unusable (wrong size, NaN, empty where it must not be).
    case invalidInput(what: String, problem: String)
    /// The PDF could not be written.
    case write(path: String, reason: String)
    /// A poppler tool or other helper program failed.
    case tool(command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case let .cairo(operation, status):
            return "cairo failed in \(operation): \(status)"
        case let .templateNotFound(name, searched):
            return "template '\(name)' not found (looked in: \(searched.joined(separator: ", "))); "
                + "pass --templates DIR or set MLUNG_AUDIT_TEMPLATES to the folder holding report/ and gallery/"
        case let .templateSyntax(file, line, column, message):
            return "template \(file):\(line):\(column): \(message)"
        case let .markup(line, text, problem):
            return "report markup line \(line) `\(text)`: \(problem)"
        case let .invalidInput(what, problem):
            return "invalid \(what): \(problem)"
        case let .write(path, reason):
            return "cannot write \(path): \(reason)"
        case let .tool(command, status, output):
            return "`\(command)` exited with status \(status): \(output)"
        }
    }
}
