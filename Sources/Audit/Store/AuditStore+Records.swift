import Foundation
import Model

/// Registering models and cohorts, and the runs' rows.
extension AuditStore {
    /// The model's row id, inserting it on first sight (identity: the file's SHA-256).
    public func registerModel(_ w: WeightFile) throws -> Int {
        if let id = try db.scalar("SELECT id FROM models WHERE sha256 = ?", [w.fileSHA256])?.int { return id }
        return Int(try db.run("""
            INSERT INTO models (sha256, slice_digest, patient_digest, name, version, classes_json, config_json, path, added_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [w.fileSHA256, w.sliceNetworkDigest, w.patientNetworkDigest, w.modelName, w.modelVersion,
                  Self.json(w.classes), w.config.canonicalJSON, w.path, Self.now()]))
    }

    /// The cohort's row id, inserting it and its manifest rows on first sight (identity: the
    /// manifest's path and the SHA-256 of its bytes).
    public func registerCohort(_ m: CohortManifest) throws -> Int {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: m.path))) ?? Data()
        let digest = SHA256.hex(bytes)
        let path = URL(fileURLWithPath: m.path).standardizedFileURL.path
        if let id = try db.scalar("SELECT id FROM cohorts WHERE manifest_path = ? AND manifest_sha256 = ?", [path, digest])?.int {
            return id
        }
        return try db.transaction {
            let id = Int(try db.run("INSERT INTO cohorts (manifest_path, manifest_sha256, metadata_columns_json, added_at) VALUES (?, ?, ?, ?)",
                                    [path, digest, Self.json(m.metadataColumns), Self.now()]))
            for (i, e) in m.entries.enumerated() {
                try db.run("""
                    INSERT INTO cohort_patients (cohort_id, patient_id, position, label, path, series_uid, metadata_json, line)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, [id, e.patientID, i, e.label, e.rawPath, e.seriesUID, Self.json(e.metadata), e.line])
            }
            return id
        }
    }

    /// A run's row.
    public struct RunRecord: Sendable, Equatable, Codable {
        public var id: Int
        public var kind: String
        public var modelID: Int?
        public var cohortID: Int
        public var label: String
        public var settingsJSON: String
        public var toolVersion: String
        public var host: String
        public var startedAt: String
        public var endedAt: String?
        public var status: String
    }

    static let runColumns = "id, kind, model_id, cohort_id, label, settings_json, tool_version, host, started_at, ended_at, status"

    static func runRecord(_ r: [SQLValue]) -> RunRecord {
        RunRecord(id: r[0].int ?? 0, kind: r[1].string ?? "", modelID: r[2].int, cohortID: r[3].int ?? 0,
                  label: r[4].string ?? "", settingsJSON: r[5].string ?? "", toolVersion: r[6].string ?? "",
                  host: r[7].string ?? "", startedAt: r[8].string ?? "", endedAt: r[9].string, status: r[10].string ?? "")
    }

    public func run(id: Int) throws -> RunRecord? {
        try db.query("SELECT \(Self.runColumns) FROM runs WHERE id = ?", [id]).first.map(Self.runRecord)
    }

    public func runs() throws -> [RunRecord] {
        try db.query("SELECT \(Self.runColumns) FROM runs ORDER BY id").map(Self.runRecord)
    }

    /// The newest run of the same model, cohort, label and settings.
    public func latestRun(kind: String, modelID: Int?, cohortID: Int, label: String, settingsJSON: String) throws -> RunRecord? {
        try db.query("""
            SELECT \(Self.runColumns) FROM runs
            WHERE kind = ? AND model_id IS ? AND cohort_id = ? AND label = ? AND settings_json = ?
            ORDER BY id DESC LIMIT 1
            """, [kind, modelID, cohortID, label, settingsJSON]).first.map(Self.runRecord)
    }

    public func createRun(kind: String, modelID: Int?, cohortID: Int, label: String, settingsJSON: String) throws -> Int {
        Int(try db.run("""
            INSERT INTO runs (kind, model_id, cohort_id, label, settings_json, tool_version, host, started_at, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running')
            """, [kind, modelID, cohortID, label, settingsJSON, AuditLibrary.toolVersion,
                  ProcessInfo.processInfo.hostName, Self.now()]))
    }

    public func finishRun(_ id: Int, status: String) throws {
        try db.run("UPDATE runs SET status = ?, ended_at = ? WHERE id = ?", [status, Self.now(), id])
    }

    /// Patients of a run that already have a result (ok or failed).
    public func finishedPatients(run: Int) throws -> Set<String> {
        Set(try db.query("SELECT patient_id FROM patient_results WHERE run_id = ?", [run]).compactMap { $0[0].string })
    }

    /// The cohort's manifest rows in manifest order.
    public func cohortPatients(_ cohortID: Int) throws -> [(patientID: String, label: Int?, metadata: [String: String])] {
        try db.query("SELECT patient_id, label, metadata_json FROM cohort_patients WHERE cohort_id = ? ORDER BY position", [cohortID]).map { r in
            let meta = (r[2].string.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }) ?? [:]
            return (r[0].string ?? "", r[1].int, meta)
        }
    }
}
