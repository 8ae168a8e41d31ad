import Foundation
import XCTest

@testable import HappyDesk

/// `happydesk copy --to postgres://…`: a SQLite database moved into an empty PostgreSQL one, checked.
final class CopyTests: XCTestCase {
    func testCopyMovesEveryRowAndTheDashboardIsTheSameOnBoth() throws {
        try sqliteOnly("the source is a SQLite file")
        let url = try TestPostgres.requireURL()
        let dir = try makeTemporaryDirectory()
        let path = dir.appendingPathComponent("source.sqlite").path
        let demo = try runHappydesk(["demo", "--database", path, "--responses", "400", "--days", "60"])
        XCTAssertEqual(demo.status, 0, demo.err)
        // Something of every kind a running server writes: a user, a reply, kudos, deliveries.
        let added = try runHappydesk(["users", "add", "--database", path, "--name", "Mia", "--email", "mia@example.com", "--role", "manager"])
        XCTAssertEqual(added.status, 0, added.err)
        let lead = try runHappydesk([
            "users", "add", "--database", path, "--name", "Lee", "--email", "lee@example.com", "--role", "lead", "--groups", "Network,Identity",
        ])
        XCTAssertEqual(lead.status, 0, lead.err)

        let copied = try runHappydesk(["copy", "--database", path, "--to", url])
        XCTAssertEqual(copied.status, 0, copied.err)
        XCTAssertTrue(copied.out.contains("verified: same row counts, same dashboard"), copied.out)
        XCTAssertTrue(copied.out.contains("responses            400 rows") || copied.out.contains("responses"), copied.out)

        // Independently of the command's own check: the same figures from both databases.
        let catalog = try SurveyCatalog.load(directory: repositoryRoot.appendingPathComponent("Surveys"))
        let sqlite = try SQLiteStorage.open(path: path)
        let postgres = try PostgresStorage(url: url, poolSize: 2)
        let copy = DatabaseCopy(source: sqlite, target: postgres, catalog: catalog)
        let (a, b) = (try copy.dashboard(sqlite), try copy.dashboard(postgres))
        XCTAssertEqual(a.responses, 400)
        XCTAssertEqual(String(decoding: a.json, as: UTF8.self), String(decoding: b.json, as: UTF8.self))
        for table in ["closures", "invitations", "responses", "response_factors", "users", "user_scopes"] {
            let here = try sqlite.readSync { db in try db.scalar(Int.self, "SELECT count(*) FROM \(table)") }
            let there = try postgres.readSync { db in try db.scalar(Int.self, "SELECT count(*) FROM \(table)") }
            XCTAssertEqual(here, there, table)
        }
        // New rows on PostgreSQL get ids past the copied ones.
        let user = try runHappydesk(["users", "add", "--database-url", url, "--name", "Sam", "--email", "sam@example.com", "--role", "analyst"])
        XCTAssertEqual(user.status, 0, user.err)
        let listed = try runHappydesk(["users", "list", "--database-url", url])
        XCTAssertTrue(listed.out.contains("lead\tactive\tLee <lee@example.com>\tgroups Identity, Network"), listed.out)

        // A second copy refuses: the target is not empty, and nothing changes.
        let again = try runHappydesk(["copy", "--database", path, "--to", url])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.err.contains("not empty"), again.err)
        XCTAssertEqual(again.err.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, again.err)
        let bad = try runHappydesk(["copy", "--database", path, "--to", "mysql://x"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("postgres://"), bad.err)
        Task { await postgres.close() }
    }
}
