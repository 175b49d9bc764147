import Foundation
import Audit

/// The JSON verdict `mlung-audit nightly` writes (schema `mlung-audit/nightly/1`), read back
/// for the report's cover (`report --verdict FILE`).
public struct NightlyVerdictFile: Decodable, Sendable {
    public struct Outcome: Decodable, Sendable {
        /// The rule in words, e.g. "accuracy: no drop larger than 0.02 with p < 0.05".
        public var rule: String
        /// `pass`, `fail` or `error` (could not be judged).
        public var status: String
        public var measured: Double?
        public var detail: String
    }

    public struct Gates: Decodable, Sendable {
        public var status: String
        public var outcomes: [Outcome]
    }

    public struct Cohort: Decodable, Sendable {
        public var name: String
        public var run: Int
        public var baselineRun: Int?
        public var gates: Gates
        public var accuracy: Double?
    }

    public var schema: String
    public var status: String
    public var model: String
    public var modelSHA256: String
    public var toolVersion: String?
    public var cohorts: [Cohort]

    public static let schemaName = "mlung-audit/nightly/1"

    /// Reads and checks a verdict file; throws `ReportsError.invalidInput` naming the file.
    public static func load(path: String) throws -> NightlyVerdictFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportsError.invalidInput(what: "nightly verdict \(path)", problem: "cannot read the file")
        }
        let v: NightlyVerdictFile
        do {
            v = try JSONDecoder().decode(NightlyVerdictFile.self, from: data)
        } catch {
            throw ReportsError.invalidInput(what: "nightly verdict \(path)", problem: "not a verdict written by `mlung-audit nightly` (\(decodingErrorText(error)))")
        }
        guard v.schema == schemaName else {
            throw ReportsError.invalidInput(what: "nightly verdict \(path)", problem: "schema '\(v.schema)', expected '\(schemaName)'")
        }
        let statuses: Set<String> = ["pass", "fail", "error"]
        guard statuses.contains(v.status), v.cohorts.allSatisfy({ c in statuses.contains(c.gates.status)
            && c.gates.outcomes.allSatisfy { statuses.contains($0.status) } }) else {
            throw ReportsError.invalidInput(what: "nightly verdict \(path)", problem: "a status other than pass, fail or error")
        }
        return v
    }

    /// The gate's short name and its criterion, from the rule's words.
    static func split(rule: String) -> (name: String, criterion: String) {
        if let r = rule.range(of: ": ") { return (String(rule[..<r.lowerBound]), String(rule[r.upperBound...])) }
        for op in [" >= ", " <= "] {
            if let r = rule.range(of: op) {
                return (String(rule[..<r.lowerBound]), op.trimmingCharacters(in: .whitespaces) + " " + String(rule[r.upperBound...]))
            }
        }
        if rule.hasPrefix("no new ") { return ("no new misses", rule) }
        if rule.contains("deployment log") { return ("deployment agreement", rule) }
        return (rule, rule)
    }

    /// A measured value as the cover prints it: four significant digits, no exponent above 1e-4.
    public static func measured(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "–" }
        if v == v.rounded() && abs(v) < 1e9 { return Format.fixed(v, digits: 0) }
        let a = abs(v)
        if a < 1e-4 { return String(format: "%.3e", v).replacingOccurrences(of: "-", with: "−") }
        let digits = max(0, 3 - Int(floor(log10(a))))
        var text = Format.fixed(v, digits: min(digits, 8))
        // Four significant digits, without trailing zeros ("0.3", not "0.3000").
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }

    /// Long decimals in a detail ("0.8333333333333334") shortened to four significant digits.
    static func shorten(_ text: String) -> String {
        guard let re = try? NSRegularExpression(pattern: "-?[0-9]+\\.[0-9]{5,}(e-?[0-9]+)?") else { return text }
        var out = text
        for m in re.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
            guard let r = Range(m.range, in: out), let v = Double(out[r]) else { continue }
            out.replaceSubrange(r, with: measured(v))
        }
        return out
    }

    /// The gates for the cover of run `run` of the model with weights `modelSHA256`; throws
    /// when the verdict judged neither that run nor one of `equivalent` (runs of the same model on
    /// the same cohort with the same settings, e.g. the nightly rerun of the run reported on),
    /// or another model. `scrub` removes identifiers from details.
    public func gates(run: Int, equivalent: Set<Int> = [], modelSHA256 sha: String, scrub: (String) -> String) throws -> [GateResult] {
        guard cohorts.contains(where: { $0.run == run || equivalent.contains($0.run) }) else {
            throw ReportsError.invalidInput(what: "nightly verdict", problem: "it judged run(s) \(cohorts.map { String($0.run) }.joined(separator: ", ")), "
                + "neither run \(run) nor a run of the same model on the same cohort with the same settings")
        }
        guard modelSHA256 == sha else {
            throw ReportsError.invalidInput(what: "nightly verdict", problem: "it judged the model with weights \(modelSHA256.prefix(12))…, not this run's \(sha.prefix(12))…")
        }
        var out: [GateResult] = []
        for c in cohorts {
            let group = "Cohort \(c.name): run \(c.run)" + (c.baselineRun.map { " against baseline run \($0)" } ?? ", no baseline run")
                + (c.run == run ? " (this report)" : equivalent.contains(c.run) ? " (same model, cohort and settings as run \(run))" : "")
                + " · \(c.gates.status.uppercased())"
            for o in c.gates.outcomes {
                let (name, criterion) = Self.split(rule: o.rule)
                let outcome: GateOutcome = o.status == "pass" ? .pass : o.status == "fail" ? .fail : .error
                out.append(GateResult(name: name, criterion: criterion, observed: Self.measured(o.measured), outcome: outcome,
                                      group: group, detail: Self.shorten(scrub(o.detail))))
            }
        }
        return out
    }
}
