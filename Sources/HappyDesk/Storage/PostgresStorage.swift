import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// Where a PostgreSQL database is, read from `postgres://user:password@host:5432/name[?sslmode=…]`.
public struct PostgresLocation: Sendable, Equatable {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// `host:port/name`: what messages name, never the password.
    public var displayName: String { "\(host):\(port)/\(database)" }

    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses the URL; every error names the part that is wrong and never repeats the password.
    public init(url text: String) throws {
        guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
            throw StartupError("database URL must look like postgres://user:password@host:5432/name")
        }
        guard let host = components.host, !host.isEmpty else { throw StartupError("database URL has no host") }
        guard let user = components.user, !user.isEmpty else { throw StartupError("database URL for \(host) has no user name") }
        let name = String(components.path.drop(while: { $0 == "/" }))
        guard !name.isEmpty, !name.contains("/") else { throw StartupError("database URL for \(host) must name one database after the host") }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = name.removingPercentEncoding ?? name
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value {
                case "disable": tls = .disable
                case "allow", "prefer": tls = .prefer
                case "require", "verify-ca", "verify-full": tls = .require
                default: throw StartupError("database URL: sslmode must be disable, prefer or require")
                }
            default:
                throw StartupError("database URL: unknown parameter '\(item.name)' (only sslmode is read)")
            }
        }
        self.tls = tls
    }

    func configuration() throws -> PostgresConnection.Configuration {
        let tlsSetting: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable: tlsSetting = .disable
        case .prefer: tlsSetting = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tlsSetting = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tlsSetting)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// A one-line explanation of a failure to connect or to run a statement.
    func explain(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                switch state {
                case "28P01": return "PostgreSQL at \(host):\(port) refused the password for user \(user)"
                case "28000": return "PostgreSQL at \(host):\(port) does not let user \(user) connect (pg_hba.conf)"
                case "3D000": return "PostgreSQL at \(host):\(port) has no database \(database)"
                case "53300": return "PostgreSQL at \(host):\(port) has no free connection slot"
                case "57P03": return "PostgreSQL at \(host):\(port) is starting up or shutting down"
                default: return "PostgreSQL at \(host):\(port): \(error.serverInfo?[.message] ?? "error \(state)") (SQLSTATE \(state))"
                }
            }
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
                let reason = error.underlying.map { "\($0)" } ?? "the connection was closed"
                return "cannot reach PostgreSQL at \(host):\(port): \(reason)"
            case .authMechanismRequiresPassword:
                return "PostgreSQL at \(host):\(port) asks for a password for user \(user): put it in the URL"
            case .sslUnsupported:
                return "PostgreSQL at \(host):\(port) does not offer TLS, which sslmode=require asks for"
            default:
                return "PostgreSQL at \(host):\(port): \(error.code)"
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return "cannot reach PostgreSQL at \(host):\(port): no answer within 5 s"
        }
        return "cannot reach PostgreSQL at \(host):\(port): \(error)"
    }
}

/// PostgreSQL through postgres-nio, behind the same stores as SQLite. Store code is synchronous (it runs inside
/// `WriteBatcher`'s transactions), so each call runs on this storage's own thread pool and waits there for the
/// server; it never blocks an event loop. Connections are pooled and replaced when lost: a store call that
/// meets a lost connection fails with `StorageUnavailable` (503) and the next call connects again.
public final class PostgresStorage: AppStorage {
    public let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private let threads: NIOThreadPool
    private let slots: DispatchSemaphore
    // Lock boxes rather than `Mutex`/`Atomic`: a non-copyable stored property in a class whose init throws
    // crashes the Swift 6.3 optimiser (release builds).
    private let idle = NIOLockedValueBox<[PostgresConnection]>([])
    private let closedFlag = NIOLockedValueBox(false)
    private let ids = NIOLockedValueBox(1)
    let logger: Logger

    public var dialect: SQLDialect { .postgres }
    public var displayName: String { location.displayName }

    /// Connects once (so a wrong URL fails at start-up with one line) and keeps that connection in the pool.
    public init(url: String, poolSize: Int = 8, logger: Logger = Logger(label: "happydesk.postgres")) throws {
        let location = try PostgresLocation(url: url)
        let configuration = try location.configuration()
        self.location = location
        self.configuration = configuration
        self.logger = logger
        let size = max(2, poolSize)
        self.slots = DispatchSemaphore(value: size)
        self.threads = NIOThreadPool(numberOfThreads: size)
        threads.start()
        let first = try connect()
        idle.withLockedValue { $0.append(first) }
    }

    deinit {
        let connections = idle.withLockedValue { $0 }
        // Each connection is kept alive until its close completes (postgres-nio asserts it is closed first).
        for connection in connections { connection.close().whenComplete { _ in withExtendedLifetime(connection) {} } }
        threads.shutdownGracefully { _ in }
    }

    private var isClosed: Bool { closedFlag.withLockedValue { $0 } }

    private func nextConnectionID() -> Int {
        ids.withLockedValue { id in
            defer { id += 1 }
            return id
        }
    }

    private func connect() throws -> PostgresConnection {
        let id = nextConnectionID()
        var quiet = logger
        quiet.logLevel = .critical
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: id, logger: quiet
            ).wait()
        } catch {
            throw StorageUnavailable(location.explain(error))
        }
    }

    /// Runs `body` with a pooled connection; a connection that failed underneath is dropped, not returned.
    func withConnection<T>(_ body: (PostgresSQLConnection) throws -> T) throws -> T {
        guard !isClosed else { throw StorageUnavailable("the database is closed") }
        slots.wait()
        defer { slots.signal() }
        var connection = idle.withLockedValue { $0.popLast() }
        if let existing = connection, existing.isClosed { connection = nil }
        let live = try connection ?? connect()
        let wrapper = PostgresSQLConnection(connection: live, storage: self)
        defer {
            if !wrapper.broken && !live.isClosed {
                idle.withLockedValue { $0.append(live) }
            } else {
                live.close().whenComplete { _ in withExtendedLifetime(live) {} }
            }
        }
        return try body(wrapper)
    }

    private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await threads.runIfActive(body)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await onThread { try self.readSync(body) }
    }

    public func readSync<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try withConnection { connection in
            let result = try body(connection)
            try connection.flush()
            return result
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await onThread { try self.writeSync(body) }
    }

    public func writeSync<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try withConnection { connection in try connection.transaction { try body(connection) } }
    }

    public func migrate(directory: URL) throws -> [String] {
        try withConnection { connection in try PostgresMigrator(directory: directory).migrate(connection) }
    }

    public func checkMigrated(directory: URL) throws {
        try withConnection { connection in try PostgresMigrator(directory: directory).checkMigrated(connection) }
    }

    public func reclaimFreedSpace() async throws -> String {
        "PostgreSQL: rows deleted and updated; their space is reused after VACUUM (autovacuum), run VACUUM FULL to return it at once"
    }

    public func close() async {
        closedFlag.withLockedValue { $0 = true }
        let connections = idle.withLockedValue { all -> [PostgresConnection] in
            defer { all.removeAll() }
            return all
        }
        for connection in connections { try? await connection.close() }
    }

    /// Calls `handle` for every notification on `channel` until the task is cancelled; reconnects after a
    /// lost connection (calling `reconnected`, so the caller can catch up on what it missed).
    public func listen(channel: String, reconnected: @escaping @Sendable () async -> Void, handle: @escaping @Sendable (String) async -> Void) async {
        var first = true
        while !Task.isCancelled && !isClosed {
            let id = nextConnectionID()
            var quiet = logger
            quiet.logLevel = .critical
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: id, logger: quiet)
                if !first { await reconnected() }
                first = false
                do {
                    try await connection.listen(on: channel) { notifications in
                        for try await notification in notifications { await handle(notification.payload) }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                logger.warning("lost the PostgreSQL notification connection; retrying", metadata: ["reason": "\(location.explain(error))"])
            }
            first = false
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

/// One pooled PostgreSQL connection as the stores see it. `?` placeholders become `$1…$n`.
final class PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    unowned let storage: PostgresStorage
    /// The connection failed underneath (lost, or a transaction it could not end): dropped after use.
    private(set) var broken = false
    private var changes = 0
    private var savepoints = 0
    /// Channels to notify just before COMMIT (delivered by PostgreSQL at commit, once per transaction).
    private var notifyOnCommit: Set<String> = []

    func notify(_ channel: String) {
        notifyOnCommit.insert(channel)
    }

    func secureDelete(_ on: Bool) throws {}

    init(connection: PostgresConnection, storage: PostgresStorage) {
        self.connection = connection
        self.storage = storage
    }

    var dialect: SQLDialect { .postgres }
    var changeCount: Int { changes }

    private static let translations = Mutex<[String: String]>([:])

    /// `?` → `$n` and `?n` → `$n`, outside quoted literals and identifiers; cached per SQL text.
    static func translate(_ sql: String) -> String {
        if let cached = translations.withLock({ $0[sql] }) { return cached }
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var index = 0
        var quote: Character?
        let characters = Array(sql)
        for (offset, character) in characters.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                // `?NNN` (SQLite's numbered parameter) keeps its number; a bare `?` takes the next one.
                if offset + 1 < characters.count, characters[offset + 1].isNumber {
                    result.append("$")
                } else {
                    index += 1
                    result += "$\(index)"
                }
            } else {
                result.append(character)
            }
        }
        translations.withLock { cache in
            if cache.count > 4096 { cache.removeAll() }
            cache[sql] = result
        }
        return result
    }

    /// Statements sent but not yet waited for (`executeDeferred`), oldest first, with their SQL for errors.
    private var pending: [(EventLoopFuture<PostgresQueryResult>, String)] = []

    private func start(_ sql: String, _ arguments: [SQLValue]) -> EventLoopFuture<PostgresQueryResult> {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .integer(let value): bindings.append(value)
            case .real(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .blob(let value): bindings.append(ByteBuffer(bytes: value))
            }
        }
        return connection.query(PostgresQuery(unsafeSQL: Self.translate(sql), binds: bindings), logger: storage.logger)
    }

    private func finish(_ future: EventLoopFuture<PostgresQueryResult>, _ sql: String) throws -> PostgresQueryResult {
        do {
            return try future.wait()
        } catch let error as PSQLError {
            // Any failure spoils the surrounding transaction on PostgreSQL, so the batcher must undo it.
            changes += 1
            if error.code == .server, let state = error.serverInfo?[.sqlState] {
                // A duplicate key, or a deadlock or serialisation failure between instances: worth one more try.
                if ["23505", "23503", "23514", "23502", "40P01", "40001"].contains(state) {
                    throw StorageConstraintViolation(error.serverInfo?[.message] ?? "constraint \(state)")
                }
                if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" {
                    broken = true
                    throw StorageUnavailable(storage.location.explain(error))
                }
                throw StorageQueryError(state: state, message: error.serverInfo?[.message] ?? "", sql: sql)
            }
            broken = true
            throw StorageUnavailable(storage.location.explain(error))
        } catch {
            changes += 1
            broken = true
            throw StorageUnavailable(storage.location.explain(error))
        }
    }

    /// Waits for every deferred statement; the first failure is thrown (later ones were refused as a result).
    func flush() throws {
        guard !pending.isEmpty else { return }
        let waiting = pending
        pending = []
        var failure: (any Error)?
        for (future, sql) in waiting {
            do {
                _ = try finish(future, sql)
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
    }

    /// Sends a statement without waiting: PostgreSQL runs a connection's statements in order, so the next
    /// statement waited for (or `flush`) also waits for this one. Saves a round trip per statement whose result
    /// nobody reads (factor rows, status marks, roll-up upserts).
    func executeDeferred(_ sql: String, _ arguments: [SQLValue]) throws {
        changes += 1
        pending.append((start(sql, arguments), sql))
    }

    private func run(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
        let future = start(sql, arguments)
        try flush()
        return try finish(future, sql)
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        let result = try run(sql, arguments)
        let count = result.metadata.rows ?? 0
        if result.metadata.command != "SELECT" { changes += count }
        return count
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let result = try run(sql, arguments)
        if result.metadata.command != "SELECT" { changes += result.metadata.rows ?? 0 }
        guard let first = result.rows.first else { return [] }
        let columns = first.map(\.columnName)
        do {
            return try result.rows.map { row in SQLRow(values: try row.map(Self.value), columns: columns) }
        } catch {
            throw StorageQueryError(state: "", message: "cannot read a column: \(error)", sql: sql)
        }
    }

    func insert(_ sql: String, _ arguments: [SQLValue]) throws -> Int64 {
        let result = try run(sql + " RETURNING id", arguments)
        changes += result.metadata.rows ?? 1
        guard let row = result.rows.first, let cell = row.first(where: { _ in true }) else {
            throw StorageQueryError(state: "", message: "INSERT returned no id", sql: sql)
        }
        guard case .integer(let id) = try Self.value(cell) else {
            throw StorageQueryError(state: "", message: "INSERT returned a non-integer id", sql: sql)
        }
        return id
    }

    func savepoint<T>(_ body: () throws -> T) throws -> T {
        savepoints += 1
        let name = "happydesk_sp\(savepoints)"
        defer { savepoints -= 1 }
        try executeDeferred("SAVEPOINT \(name)", [])
        changes -= 1
        do {
            let result = try body()
            try flush()
            _ = try run("RELEASE SAVEPOINT \(name)", [])
            return result
        } catch {
            _ = try? flush()
            if !broken { _ = try run("ROLLBACK TO SAVEPOINT \(name)", []) }
            throw error
        }
    }

    /// Runs `body` between BEGIN and COMMIT (ROLLBACK when it throws).
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try executeDeferred("BEGIN", [])
        changes -= 1
        let result: T
        do {
            result = try body()
        } catch {
            _ = try? flush()
            if !broken {
                do { _ = try run("ROLLBACK", []) } catch { broken = true }
            }
            throw error
        }
        if notifyOnCommit.isEmpty == false {
            for channel in notifyOnCommit.sorted() { try executeDeferred("SELECT pg_notify('\(channel)', '')", []) }
            notifyOnCommit = []
        }
        _ = try run("COMMIT", [])
        return result
    }

    /// Runs a script of several statements (a migration file), one statement at a time: postgres-nio speaks only
    /// the extended protocol, which takes one statement per message.
    func script(_ sql: String) throws {
        for statement in Self.statements(in: sql) { _ = try run(statement, []) }
    }

    /// Splits SQL text at top-level semicolons: not inside quotes, comments or `$tag$ … $tag$` bodies.
    static func statements(in sql: String) -> [String] {
        let chars = Array(sql.unicodeScalars)
        var result: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            // A chunk of only comments is no statement.
            let meaningful = text.split(separator: "\n").contains {
                !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") && !$0.trimmingCharacters(in: .whitespaces).isEmpty
            }
            if meaningful { result.append(text) }
            current = String.UnicodeScalarView()
        }
        while index < chars.count {
            let c = chars[index]
            if c == "-", index + 1 < chars.count, chars[index + 1] == "-" {
                while index < chars.count, chars[index] != "\n" { current.append(chars[index]); index += 1 }
                continue
            }
            if c == "/", index + 1 < chars.count, chars[index + 1] == "*" {
                while index < chars.count, !(chars[index] == "*" && index + 1 < chars.count && chars[index + 1] == "/") {
                    current.append(chars[index]); index += 1
                }
                if index < chars.count { current.append(chars[index]); current.append(chars[index + 1]); index += 2 }
                continue
            }
            if c == "'" || c == "\"" {
                current.append(c)
                index += 1
                while index < chars.count, chars[index] != c { current.append(chars[index]); index += 1 }
                if index < chars.count { current.append(chars[index]); index += 1 }
                continue
            }
            if c == "$" {
                // A dollar-quote tag: $$ or $name$.
                var end = index + 1
                while end < chars.count,
                    chars[end] == "_" || chars[end].properties.isAlphabetic || (end > index + 1 && ("0"..."9").contains(chars[end]))
                { end += 1 }
                if end < chars.count, chars[end] == "$" {
                    let tag = Array(chars[index...end])
                    current.append(contentsOf: tag)
                    index = end + 1
                    while index < chars.count {
                        if chars[index] == "$", index + tag.count <= chars.count, Array(chars[index..<index + tag.count]) == tag {
                            current.append(contentsOf: tag)
                            index += tag.count
                            break
                        }
                        current.append(chars[index])
                        index += 1
                    }
                    continue
                }
            }
            if c == ";" {
                flush()
                index += 1
                continue
            }
            current.append(c)
            index += 1
        }
        flush()
        return result
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8:
            return .integer(try cell.decode(Int64.self))
        case .float4, .float8:
            return .real(try cell.decode(Double.self))
        case .numeric:
            let decimal = try cell.decode(Decimal.self)
            let number = NSDecimalNumber(decimal: decimal)
            if decimal == Decimal(number.int64Value) { return .integer(number.int64Value) }
            return .real(number.doubleValue)
        case .bool:
            return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        default:
            return .text(try cell.decode(String.self))
        }
    }
}

/// A statement PostgreSQL refused for a reason other than a constraint or a lost connection: a bug in a
/// store's SQL, reported with its SQLSTATE.
public struct StorageQueryError: Error, CustomStringConvertible, Sendable {
    public var state: String
    public var message: String
    public var sql: String
    public var description: String { "PostgreSQL refused a statement (SQLSTATE \(state)): \(message) [\(sql.prefix(120))]" }
}

/// Applies `Migrations/postgres/NNNN_name.sql` in order, each in its own transaction with its bookkeeping row,
/// under an advisory lock so instances starting together apply each file once.
struct PostgresMigrator {
    let directory: URL
    static let lockKey: Int64 = 0x6861_7070_7964_6b00  // "happydk\0"

    var folder: URL { directory.appendingPathComponent("postgres") }

    func files() throws -> [URL] {
        try AppDatabase.migrationFiles(in: folder)
    }

    func applied(_ connection: PostgresSQLConnection) throws -> Set<String> {
        let exists =
            try connection.scalar(
                Int64.self, "SELECT count(*) FROM pg_tables WHERE tablename = 'happydesk_migrations' AND schemaname = current_schema()") ?? 0
        guard exists > 0 else { return [] }
        return Set(try connection.column(String.self, "SELECT name FROM happydesk_migrations"))
    }

    func migrate(_ connection: PostgresSQLConnection) throws -> [String] {
        let files = try files()
        return try connection.transaction {
            try connection.execute("SELECT pg_advisory_xact_lock(?)", Self.lockKey)
            try connection.execute("CREATE TABLE IF NOT EXISTS happydesk_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            let done = try applied(connection)
            var now: [String] = []
            for file in files {
                let name = file.deletingPathExtension().lastPathComponent
                guard !done.contains(name) else { continue }
                let sql = try String(contentsOf: file, encoding: .utf8)
                do {
                    try connection.script(sql)
                } catch let error as StorageQueryError {
                    throw StartupError("migration \(name) failed on PostgreSQL: \(error.message) (SQLSTATE \(error.state))")
                }
                try connection.execute("INSERT INTO happydesk_migrations (name, applied_at) VALUES (?, ?)", name, Date())
                now.append(name)
            }
            return now
        }
    }

    func checkMigrated(_ connection: PostgresSQLConnection) throws {
        let names = Set(try files().map { $0.deletingPathExtension().lastPathComponent })
        guard names.isSubset(of: try applied(connection)) else {
            throw StartupError("database is not migrated: run `happydesk migrate` first")
        }
    }
}
