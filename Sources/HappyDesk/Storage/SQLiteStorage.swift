import Foundation
import GRDB

/// The embedded default: one SQLite file through GRDB (WAL, foreign keys on, one writer).
public final class SQLiteStorage: AppStorage {
    public let pool: DatabasePool
    public let path: String
    public let readOnly: Bool

    public init(pool: DatabasePool, path: String, readOnly: Bool = false) {
        self.pool = pool
        self.path = path
        self.readOnly = readOnly
    }

    /// Opens or creates the database file (see `AppDatabase.open`).
    public static func open(path: String, readOnly: Bool = false) throws -> SQLiteStorage {
        SQLiteStorage(pool: try AppDatabase.open(path: path, readOnly: readOnly), path: path, readOnly: readOnly)
    }

    public var dialect: SQLDialect { .sqlite }
    public var displayName: String { path }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.read { db in try body(SQLiteConnection(db)) }
    }

    public func readSync<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteConnection(db)) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in try Self.immediate(db, body) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw StorageReadOnly(path: path)
        }
    }

    public func writeSync<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in try Self.immediate(db, body) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw StorageReadOnly(path: path)
        }
    }

    /// `BEGIN IMMEDIATE`: the write lock is taken up front, so a transaction never fails half-way for it.
    private static func immediate<T>(_ db: Database, _ body: (any SQLConnection) throws -> T) throws -> T {
        var result: T?
        try db.inTransaction(.immediate) {
            result = try body(SQLiteConnection(db))
            return .commit
        }
        guard let result else { preconditionFailure("transaction committed without a result") }
        return result
    }

    public func migrate(directory: URL) throws -> [String] {
        try AppDatabase.migrate(pool, directory: directory)
    }

    public func checkMigrated(directory: URL) throws {
        try AppDatabase.checkMigrated(pool, directory: directory)
    }

    public func close() async {
        try? pool.close()
    }

    public func reclaimFreedSpace() async throws -> String {
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = OFF") }
            try db.execute(sql: "VACUUM")
        }
        let attempts = try await checkpointTruncate()
        return "SQLite: VACUUM rewrote \(path); WAL checkpointed and truncated\(attempts > 1 ? " after \(attempts) tries" : "")"
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)` until it completes (a reader on an old snapshot makes it busy), up to about
    /// 30 s; returns the number of tries.
    @discardableResult
    public func checkpointTruncate(timeout: TimeInterval = 30) async throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        var tries = 0
        while true {
            tries += 1
            let busy = try await pool.writeWithoutTransaction { db -> Bool in
                guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") else { return false }
                return (row[0] as Int? ?? 0) != 0
            }
            if !busy { return tries }
            guard Date() < deadline else {
                throw StorageUnavailable("the WAL of \(path) could not be checkpointed: readers kept it busy for \(Int(timeout)) s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// The database file cannot be written (its permissions, or a read-only mount).
public struct StorageReadOnly: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var description: String { "the database \(path) is read-only" }
}

/// A GRDB `Database` as the stores see it; every statement goes through GRDB's statement cache, since
/// compiling was a measurable share of the hot paths.
final class SQLiteConnection: SQLConnection {
    let db: Database

    init(_ db: Database) { self.db = db }

    var dialect: SQLDialect { .sqlite }
    var changeCount: Int { db.totalChangesCount }

    private func statement(_ sql: String, _ arguments: [SQLValue]) throws -> Statement {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(StatementArguments(arguments.map(\.databaseValue)))
        return statement
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        // `changesCount` keeps the last INSERT/UPDATE/DELETE's count through other statements; the total moves
        // only when something changed.
        let before = db.totalChangesCount
        try statement(sql, arguments).execute()
        return db.totalChangesCount == before ? 0 : db.changesCount
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try statement(sql, arguments)
        let columns = statement.columnNames
        var rows: [SQLRow] = []
        let cursor = try Row.fetchCursor(statement)
        while let row = try cursor.next() {
            rows.append(SQLRow(values: row.databaseValues.map(SQLValue.init), columns: columns))
        }
        return rows
    }

    func executeDeferred(_ sql: String, _ arguments: [SQLValue]) throws {
        try statement(sql, arguments).execute()
    }

    func flush() throws {}

    func notify(_ channel: String) {}

    func secureDelete(_ on: Bool) throws {
        try db.execute(sql: on ? "PRAGMA secure_delete = ON" : "PRAGMA secure_delete = OFF")
    }

    func insert(_ sql: String, _ arguments: [SQLValue]) throws -> Int64 {
        try statement(sql, arguments).execute()
        return db.lastInsertedRowID
    }

    func savepoint<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try db.inSavepoint {
            result = try body()
            return .commit
        }
        guard let result else { preconditionFailure("savepoint released without a result") }
        return result
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let value): return value.databaseValue
        case .real(let value): return value.databaseValue
        case .text(let value): return value.databaseValue
        case .blob(let value): return Data(value).databaseValue
        }
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let value): self = .integer(value)
        case .double(let value): self = .real(value)
        case .string(let value): self = .text(value)
        case .blob(let value): self = .blob([UInt8](value))
        }
    }
}
