import Foundation
internal import CSQLite

/// A value bound to or read from SQLite.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    public var int: Int? { if case .integer(let v) = self { return Int(v) }; return nil }
    public var double: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }
    public var string: String? { if case .text(let v) = self { return v }; return nil }
    public var data: Data? { if case .blob(let v) = self { return v }; return nil }
}

/// Values convertible to `SQLValue`, so statements read naturally: `["a", 1, 2.5, nil]`.
public protocol SQLBindable { var sqlValue: SQLValue { get } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension Float: SQLBindable { public var sqlValue: SQLValue { .real(Double(self)) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Data: SQLBindable { public var sqlValue: SQLValue { .blob(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// Errors of the audit store, with the database path and SQLite's message.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// One SQLite connection (a `final class` owning the handle, closed in `deinit`).
/// Not shared between threads: each thread that writes opens its own.
public final class Database {
    let handle: OpaquePointer
    public let path: String
    private var statements: [String: OpaquePointer] = [:]

    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    public init(path: String) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw StoreError(path: path, message: "cannot open the audit store: \(message)")
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, 10_000)
        try execute("PRAGMA journal_mode = WAL")
        try execute("PRAGMA synchronous = NORMAL")
        try execute("PRAGMA foreign_keys = ON")
    }

    deinit {
        for (_, s) in statements { sqlite3_finalize(s) }
        sqlite3_close_v2(handle)
    }

    private func error(_ what: String) -> StoreError {
        StoreError(path: path, message: "\(what): \(String(cString: sqlite3_errmsg(handle)))")
    }

    /// Runs one or more statements without parameters.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &message) != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw StoreError(path: path, message: "\(text) (in: \(sql.prefix(120)))")
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let s = statements[sql] {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
            return s
        }
        var s: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &s, nil) == SQLITE_OK, let s else {
            throw error("cannot prepare \(sql.prefix(120))")
        }
        statements[sql] = s
        return s
    }

    private func bind(_ s: OpaquePointer, _ values: [SQLBindable]) throws {
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch v.sqlValue {
            case .null: rc = sqlite3_bind_null(s, index)
            case .integer(let x): rc = sqlite3_bind_int64(s, index, x)
            case .real(let x): rc = sqlite3_bind_double(s, index, x)
            case .text(let x): rc = sqlite3_bind_text(s, index, x, -1, Self.transient)
            case .blob(let x):
                rc = x.withUnsafeBytes { raw in
                    sqlite3_bind_blob(s, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), Self.transient)
                }
            }
            guard rc == SQLITE_OK else { throw error("cannot bind parameter \(i + 1)") }
        }
    }

    /// Runs a statement with parameters; returns the last inserted row id.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLBindable] = []) throws -> Int64 {
        let s = try prepared(sql)
        try bind(s, values)
        let rc = sqlite3_step(s)
        sqlite3_reset(s)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw error("cannot run \(sql.prefix(120))") }
        return sqlite3_last_insert_rowid(handle)
    }

    /// Rows of a query, each as an array of values in column order.
    public func query(_ sql: String, _ values: [SQLBindable] = []) throws -> [[SQLValue]] {
        let s = try prepared(sql)
        try bind(s, values)
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                sqlite3_reset(s)
                throw error("cannot query \(sql.prefix(120))")
            }
            let n = sqlite3_column_count(s)
            var row: [SQLValue] = []
            row.reserveCapacity(Int(n))
            for c in 0..<n {
                switch sqlite3_column_type(s, c) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(s, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(s, c)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(s, c))))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(s, c))
                    if let p = sqlite3_column_blob(s, c), count > 0 {
                        row.append(.blob(Data(bytes: p, count: count)))
                    } else {
                        row.append(.blob(Data()))
                    }
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        sqlite3_reset(s)
        return rows
    }

    /// The first column of the first row, if any.
    public func scalar(_ sql: String, _ values: [SQLBindable] = []) throws -> SQLValue? {
        try query(sql, values).first?.first
    }

    /// Runs `body` in one transaction (`BEGIN IMMEDIATE`), committed only if it returns.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}
