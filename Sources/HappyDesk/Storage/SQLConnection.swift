import Foundation

/// Which SQL engine a connection talks to. Stores write one SQL text for both and ask the dialect only for
/// the few spellings that differ (case-insensitive comparison, string aggregation, index hints, locking).
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres

    /// `column = ?` compared case-insensitively, as SQLite's `COLLATE NOCASE` indexes do (ASCII case).
    public func equalsIgnoringCase(_ column: String) -> String {
        switch self {
        case .sqlite: return "\(column) = ? COLLATE NOCASE"
        case .postgres: return "lower(\(column)) = lower(?)"
        }
    }

    /// Joins `expression` over a group with `separator` (a literal).
    public func stringAggregate(_ expression: String, separator: String) -> String {
        switch self {
        case .sqlite: return "group_concat(\(expression), '\(separator)')"
        case .postgres: return "string_agg(\(expression), '\(separator)')"
        }
    }

    /// SQLite's `INDEXED BY` hint; PostgreSQL's planner takes no hints.
    public func indexedBy(_ index: String) -> String {
        self == .sqlite ? " INDEXED BY \(index)" : ""
    }

    /// Row locks for a claim: PostgreSQL lets concurrent instances skip each other's rows; SQLite's single
    /// writer already makes a claim exclusive.
    public var forUpdateSkipLocked: String {
        self == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
    }
}

/// The connection (inside its transaction) that store methods are handed. Stores are the only code that
/// holds SQL; other steps call store methods with the connection they were given, so one change, its event,
/// its outbox row and its roll-up mark commit together (see `WriteBatcher`).
public protocol SQLConnection: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs a statement and returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int
    /// Runs a query and returns every row.
    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs an `INSERT` into a table whose key is `id` and returns the new row's id.
    func insert(_ sql: String, _ arguments: [SQLValue]) throws -> Int64
    /// Rows changed on this connection so far (and, on PostgreSQL, statements that failed, since a failure
    /// spoils the transaction): the write batcher's "did this job leave anything to undo".
    var changeCount: Int { get }
    /// Runs `body` in a savepoint: rolled back to it when `body` throws, and the error rethrown.
    func savepoint<T>(_ body: () throws -> T) throws -> T
    /// Runs a statement whose result nobody reads; on PostgreSQL it is sent without waiting (pipelined), and
    /// any failure surfaces at the next statement or `flush()`. SQLite runs it at once.
    func executeDeferred(_ sql: String, _ arguments: [SQLValue]) throws
    /// Waits for deferred statements; the write batcher calls it at the end of every job.
    func flush() throws
    /// Asks for `NOTIFY channel` when the transaction commits (PostgreSQL; nothing on SQLite).
    func notify(_ channel: String)
    /// SQLite's `PRAGMA secure_delete`: while on, deleted and overwritten content (and freed pages) is zeroed in
    /// the file, so erased personal data leaves no bytes behind. Nothing on PostgreSQL (space is reused by VACUUM).
    func secureDelete(_ on: Bool) throws
}

extension SQLConnection {
    @discardableResult
    public func execute(_ sql: String, _ arguments: any SQLBindable...) throws -> Int {
        try execute(sql, arguments.map(\.sqlValue))
    }

    public func executeDeferred(_ sql: String, _ arguments: any SQLBindable...) throws {
        try executeDeferred(sql, arguments.map(\.sqlValue))
    }

    public func fetchAll(_ sql: String, _ arguments: any SQLBindable...) throws -> [SQLRow] {
        try fetchAll(sql, arguments.map(\.sqlValue))
    }

    public func fetchOne(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? {
        try fetchAll(sql, arguments).first
    }

    public func fetchOne(_ sql: String, _ arguments: any SQLBindable...) throws -> SQLRow? {
        try fetchAll(sql, arguments.map(\.sqlValue)).first
    }

    /// The first column of the first row, or `nil` when there is no row or it is NULL.
    public func scalar<T: SQLDecodable>(_ type: T.Type = T.self, _ sql: String, _ arguments: [SQLValue]) throws -> T? {
        guard let row = try fetchAll(sql, arguments).first, let value = row.values.first, value != .null else { return nil }
        return T.decode(value)
    }

    public func scalar<T: SQLDecodable>(_ type: T.Type = T.self, _ sql: String, _ arguments: any SQLBindable...) throws -> T? {
        try scalar(type, sql, arguments.map(\.sqlValue))
    }

    /// The first column of every row.
    public func column<T: SQLDecodable>(_ type: T.Type = T.self, _ sql: String, _ arguments: [SQLValue]) throws -> [T] {
        try fetchAll(sql, arguments).compactMap { row in row.values.first.flatMap(T.decode) }
    }

    public func column<T: SQLDecodable>(_ type: T.Type = T.self, _ sql: String, _ arguments: any SQLBindable...) throws -> [T] {
        try column(type, sql, arguments.map(\.sqlValue))
    }

    public func insert(_ sql: String, _ arguments: any SQLBindable...) throws -> Int64 {
        try insert(sql, arguments.map(\.sqlValue))
    }

}

/// `?, ?, ?` for an `IN (…)` list of `count` values.
public func sqlPlaceholders(_ count: Int) -> String {
    Array(repeating: "?", count: max(1, count)).joined(separator: ", ")
}

/// A storage failure a client did not cause but may retry: the database is unreachable or lost its
/// connection. The web layer answers 503 with `Retry-After`, never a crash.
public struct StorageUnavailable: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A constraint the store's caller must handle (a duplicate key), the same on both backends.
public struct StorageConstraintViolation: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Where the data lives: one SQLite file (the default) or a PostgreSQL server. Every step is written against
/// this and `SQLConnection`, never against GRDB or postgres-nio directly.
public protocol AppStorage: AnyObject, Sendable {
    var dialect: SQLDialect { get }
    /// A name for messages (the file path, or the PostgreSQL host and database, never the password).
    var displayName: String { get }
    /// Runs `body` with a connection that sees one consistent snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// The same, blocking the calling thread (CLI commands, never an event loop).
    func readSync<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Runs `body` in its own write transaction, rolled back when it throws.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// The same, blocking the calling thread.
    func writeSync<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Applies pending migrations and returns the names of those applied now.
    func migrate(directory: URL) throws -> [String]
    /// Throws a `StartupError` when migrations this build knows about are missing.
    func checkMigrated(directory: URL) throws
    /// Closes connections; later calls fail.
    func close() async
    /// After an erasure: leaves no copy of deleted rows in the storage's files. SQLite: `VACUUM` (rewrites the
    /// file from live rows only, free pages included), then a `TRUNCATE` checkpoint of the WAL, retried while
    /// readers hold it. PostgreSQL: nothing here (a later VACUUM reuses the space); returns what it did, for reports.
    func reclaimFreedSpace() async throws -> String
}
