import Foundation
import Model

/// The audit store: one SQLite file (WAL) holding models, cohorts, series, runs and every
/// output of every run. Schema changes are named migrations, applied once, in order.
/// The schema is documented in docs/store.md.
public final class AuditStore {
    public let db: Database
    public var path: String { db.path }

    /// Named migrations in order. A migration, once released, never changes: add a new one.
    static let migrations: [(name: String, sql: String)] = [
        ("0001_initial", """
        CREATE TABLE models (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            slice_digest TEXT NOT NULL,
            patient_digest TEXT NOT NULL,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            classes_json TEXT NOT NULL,
            config_json TEXT NOT NULL,
            path TEXT NOT NULL,
            added_at TEXT NOT NULL
        );
        CREATE TABLE cohorts (
            id INTEGER PRIMARY KEY,
            manifest_path TEXT NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            metadata_columns_json TEXT NOT NULL,
            added_at TEXT NOT NULL,
            UNIQUE (manifest_path, manifest_sha256)
        );
        CREATE TABLE cohort_patients (
            cohort_id INTEGER NOT NULL REFERENCES cohorts(id),
            patient_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            label INTEGER,
            path TEXT NOT NULL,
            series_uid TEXT,
            metadata_json TEXT NOT NULL,
            line INTEGER NOT NULL,
            PRIMARY KEY (cohort_id, patient_id)
        );
        CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            series_uid TEXT NOT NULL,
            content_sha256 TEXT NOT NULL UNIQUE,
            file_count INTEGER NOT NULL,
            metadata_json TEXT NOT NULL,
            problems_json TEXT NOT NULL
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('inference', 'imported')),
            model_id INTEGER REFERENCES models(id),
            cohort_id INTEGER NOT NULL REFERENCES cohorts(id),
            label TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            host TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed'))
        );
        CREATE TABLE slice_caches (
            key TEXT PRIMARY KEY,
            series_content_sha256 TEXT NOT NULL,
            preprocess_json TEXT NOT NULL,
            slice_digest TEXT NOT NULL,
            slice_count INTEGER NOT NULL,
            feature_dim INTEGER NOT NULL,
            map_size INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE slice_outputs (
            cache_key TEXT NOT NULL REFERENCES slice_caches(key),
            slice_index INTEGER NOT NULL,
            instance_uid TEXT NOT NULL,
            position REAL NOT NULL,
            lesion_p0 REAL NOT NULL, lesion_p1 REAL NOT NULL,
            class_p0 REAL NOT NULL, class_p1 REAL NOT NULL, class_p2 REAL NOT NULL, class_p3 REAL NOT NULL,
            q0 REAL NOT NULL, q1 REAL NOT NULL, q2 REAL NOT NULL, q3 REAL NOT NULL,
            predicted INTEGER NOT NULL,
            crop_row0 INTEGER NOT NULL, crop_col0 INTEGER NOT NULL, crop_row1 INTEGER NOT NULL, crop_col1 INTEGER NOT NULL,
            crop_failed INTEGER NOT NULL,
            lung_area INTEGER NOT NULL, left_area INTEGER NOT NULL, right_area INTEGER NOT NULL,
            features BLOB NOT NULL,
            lesion_map BLOB NOT NULL,
            lesion_map_scale REAL NOT NULL,
            lesion_map_offset REAL NOT NULL,
            PRIMARY KEY (cache_key, slice_index)
        );
        CREATE TABLE patient_results (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            patient_id TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
            error TEXT,
            series_id INTEGER REFERENCES series(id),
            cache_key TEXT REFERENCES slice_caches(key),
            reused INTEGER NOT NULL DEFAULT 0,
            slice_count INTEGER,
            p0 REAL, p1 REAL, p2 REAL, p3 REAL,
            predicted INTEGER,
            np0 REAL, np1 REAL, np2 REAL, np3 REAL,
            np_predicted INTEGER,
            seconds REAL,
            finished_at TEXT NOT NULL,
            PRIMARY KEY (run_id, patient_id)
        );
        CREATE INDEX runs_by_cohort ON runs (cohort_id, model_id);
        """),
        // The per-store secret of report pseudonyms (AuditStore+Reports.swift): one row, made once.
        ("0002_report_secret", """
        CREATE TABLE report_secret (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            secret BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        """),
        // Failure-mode flags (AuditStore+Flags.swift, docs/flags.md).
        ("0003_flags", AuditStore.flagsMigrationSQL),
    ]

    public init(path: String) throws {
        db = try Database(path: path)
        try migrate()
    }

    /// Applies every migration not yet recorded, each in its own transaction.
    func migrate() throws {
        try db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        let applied = Set(try db.query("SELECT name FROM schema_migrations").compactMap { $0[0].string })
        for m in Self.migrations where !applied.contains(m.name) {
            try db.transaction {
                try db.execute(m.sql)
                try db.run("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", [m.name, Self.now()])
            }
        }
    }

    public var appliedMigrations: [String] {
        get throws { try db.query("SELECT name FROM schema_migrations ORDER BY name").compactMap { $0[0].string } }
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}
