import Foundation
import GRDB

@testable import HappyDesk

// GRDB-shaped helpers over `SQLConnection`, so a test reads and writes rows the same way on SQLite and on
// PostgreSQL (`db` in `server.database.read { db in … }` is the backend-neutral connection).

extension SQLConnection {
    func execute(sql: String, arguments: [(any SQLBindable)?] = []) throws {
        try execute(sql, arguments.map { $0?.sqlValue ?? .null })
    }

    /// The id of the last row inserted by `insertReturningID`; tests that need an id use that.
    func insertReturningID(sql: String, arguments: [(any SQLBindable)?] = []) throws -> Int64 {
        try insert(sql, arguments.map { $0?.sqlValue ?? .null })
    }
}

extension SQLDecodable {
    static func fetchOne(_ db: any SQLConnection, sql: String, arguments: [(any SQLBindable)?] = []) throws -> Self? {
        try db.scalar(Self.self, sql, arguments.map { $0?.sqlValue ?? .null })
    }

    static func fetchAll(_ db: any SQLConnection, sql: String, arguments: [(any SQLBindable)?] = []) throws -> [Self] {
        try db.column(Self.self, sql, arguments.map { $0?.sqlValue ?? .null })
    }
}

extension SQLRow {
    static func fetchOne(_ db: any SQLConnection, sql: String, arguments: [(any SQLBindable)?] = []) throws -> SQLRow? {
        try db.fetchOne(sql, arguments.map { $0?.sqlValue ?? .null })
    }

    static func fetchAll(_ db: any SQLConnection, sql: String, arguments: [(any SQLBindable)?] = []) throws -> [SQLRow] {
        try db.fetchAll(sql, arguments.map { $0?.sqlValue ?? .null })
    }
}

extension SQLiteStorage {
    /// A storage over a GRDB pool a test opened itself.
    convenience init(_ pool: DatabasePool) {
        self.init(pool: pool, path: pool.path)
    }
}
