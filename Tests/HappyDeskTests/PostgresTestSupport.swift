import Foundation
import Synchronization
import XCTest

@testable import HappyDesk

/// The PostgreSQL server `make test` starts (scripts/postgres.sh): its URL is `HAPPYDESK_TEST_DATABASE_URL`.
/// Each test gets a database of its own, created here and named after nothing but a random suffix.
enum TestPostgres {
    static var adminURL: String? { ProcessInfo.processInfo.environment["HAPPYDESK_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// `HAPPYDESK_TEST_BACKEND=postgres` runs every storage test on PostgreSQL instead of SQLite.
    static var isDefaultBackend: Bool { ProcessInfo.processInfo.environment["HAPPYDESK_TEST_BACKEND"] == "postgres" }

    private static let admin: PostgresStorage? = {
        guard let url = adminURL else { return nil }
        return try? PostgresStorage(url: url, poolSize: 2)
    }()

    private static let byDirectory = Mutex<[String: String]>([:])

    /// The database that stands for a test's data folder: created on first use, the same one after.
    static func databaseURL(for directory: URL) throws -> String {
        if let url = byDirectory.withLock({ $0[directory.path] }) { return url }
        let url = try freshDatabaseURL()
        byDirectory.withLock { $0[directory.path] = url }
        return url
    }

    /// A new empty database on the test server; its URL.
    static func freshDatabaseURL() throws -> String {
        guard let url = adminURL, let admin else {
            throw XCTSkip("no PostgreSQL: HAPPYDESK_TEST_DATABASE_URL is not set (make test starts one)")
        }
        let name = "hd_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try admin.readSync { db in _ = try db.execute("CREATE DATABASE \(name)") }
        var components = try XCTUnwrap(URLComponents(string: url))
        components.path = "/\(name)"
        return try XCTUnwrap(components.string)
    }

    /// A URL for PostgreSQL: fails under CI when no server was started, skips (saying why) elsewhere.
    static func requireURL() throws -> String {
        if adminURL == nil, ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail("HAPPYDESK_TEST_DATABASE_URL is not set under CI: .ci/run must start PostgreSQL (scripts/postgres.sh)")
        }
        return try freshDatabaseURL()
    }
}

/// For a test about SQLite itself (its file, WAL, GRDB migrations): it runs in the SQLite pass of `make test`
/// and says so in the PostgreSQL pass.
func sqliteOnly(_ why: String = "the test is about the SQLite file itself") throws {
    if TestPostgres.isDefaultBackend { throw XCTSkip("SQLite only: \(why); it runs in the SQLite pass") }
}

/// The CLI flags that point a subcommand at the test's database, whichever the backend.
func databaseArguments(_ settings: Settings) -> [String] {
    if let url = settings.databaseURL { return ["--database-url", url] }
    return ["--database", settings.databasePath]
}
