import Foundation
import Synchronization
import XCTest

@testable import HappyDesk

/// `happydesk backup`, `retention run`, `erase` and `audit list`, run as the built binary.
final class OperatingCLITests: XCTestCase {
    /// Runs the binary off the cooperative pool, so in-process writers keep going meanwhile.
    func runDetached(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, out: String, err: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runHappydesk(arguments, environment: environment) })
            }
        }
    }

    func sqlite3(_ path: String, _ sql: String) throws -> String {
        try requirePeer(FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "the sqlite3 command-line tool (apt install sqlite3)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testBackupWhileAWriterKeepsInsertingIsConsistentAndChecked() async throws {
        try sqliteOnly("the online backup copies the SQLite file")
        var fixture = try DashboardFixture()
        try fixture.seedNovember()
        for n in 0..<300 { try fixture.add(day: "2026-10-\(String(format: "%02d", n % 28 + 1))", score: n % 11, comment: "comment \(n)") }
        let storage = fixture.storage
        let stop = Atomic(false)
        let inserted = Atomic(0)
        let writer = Task.detached {
            var n = 0
            while !stop.load(ordering: .relaxed) {
                n += 1
                let ticket = "W\(n)"
                try await storage.write { db in
                    _ = try db.insert(
                        """
                        INSERT INTO closures (source, ticket_id, kind, requester_email, closed_at, received_at)
                        VALUES ('writer', ?, 'incident', 'w@example.com', ?, ?)
                        """, ticket, Date(), Date())
                }
                inserted.add(1, ordering: .relaxed)
            }
        }
        while inserted.load(ordering: .relaxed) < 20 { try await Task.sleep(for: .milliseconds(5)) }
        let copy = fixture.directory.appendingPathComponent("backups/copy.sqlite").path
        let result = try await runDetached(["backup", "--database", fixture.path, "--out", copy])
        let duringBackup = inserted.load(ordering: .relaxed)
        while inserted.load(ordering: .relaxed) < duringBackup + 20 { try await Task.sleep(for: .milliseconds(5)) }
        stop.store(true, ordering: .relaxed)
        try await writer.value
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.contains("integrity ok, migrations complete"), result.out)
        XCTAssertTrue(result.out.contains("bytes"), result.out)
        XCTAssertTrue(result.out.contains("responses"), result.out)

        XCTAssertEqual(try sqlite3(copy, "PRAGMA integrity_check"), "ok")
        XCTAssertEqual(try sqlite3(copy, "PRAGMA journal_mode"), "delete", "one self-contained file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: copy + "-wal"))
        // The row counts printed are the copy's, and the copy is one snapshot: it holds some of the writer's rows,
        // not those written after it finished.
        let closures = Int(try sqlite3(copy, "SELECT count(*) FROM closures")) ?? -1
        XCTAssertTrue(result.out.contains("closures                 \(closures) rows"), result.out)
        let responses = Int(try sqlite3(copy, "SELECT count(*) FROM responses")) ?? -1
        XCTAssertEqual(responses, 324)
        let written = Int(try sqlite3(copy, "SELECT count(*) FROM closures WHERE source = 'writer'")) ?? -1
        XCTAssertGreaterThanOrEqual(written, 20)
        let total = try await storage.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM closures WHERE source = 'writer'") ?? 0 }
        XCTAssertLessThan(written, total, "the writer went on after the copy's snapshot")
        let migrations = Int(try sqlite3(copy, "SELECT count(*) FROM grdb_migrations")) ?? -1
        let files = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("Migrations").path)
        XCTAssertEqual(migrations, files.filter { $0.hasSuffix(".sql") }.count, "every migration is recorded in the copy")

        // An existing file is never replaced without --force; with it, it is.
        let again = try await runDetached(["backup", "--database", fixture.path, "--out", copy])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.err.contains("exists") && again.err.contains("--force"), again.err)
        XCTAssertEqual(again.err.split(separator: "\n").count, 1)
        let forced = try await runDetached(["backup", "--database", fixture.path, "--out", copy, "--force"])
        XCTAssertEqual(forced.status, 0, forced.err)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.directory.appendingPathComponent("backups").path)
        XCTAssertEqual(leftovers, ["copy.sqlite"], "no temporary file left behind")
    }

    func testBackupOnPostgresPointsToPgDump() async throws {
        let result = try await runDetached(["backup", "--database-url", "postgres://u:p@127.0.0.1:1/db", "--out", "/tmp/x.sqlite"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.err.contains("pg_dump"), result.err)
        XCTAssertEqual(result.err.split(separator: "\n").count, 1)
    }

    func testRetentionAndEraseAndAuditFromTheCommandLine() async throws {
        let directory = try makeTemporaryDirectory()
        let h = try await PrivacyHarness(directory: directory)
        try await h.makeCase(
            ticket: "INC-CLI", email: "cli.person@example.com", name: "Cli Person", comment: "cli comment", message: "cli message",
            reply: "cli reply", at: Date().addingTimeInterval(-50 * 86_400))
        let settings = h.server.settings
        var environment = ["HAPPYDESK_OUTBOX_DIR": settings.outboxDirectory]
        environment["HAPPYDESK_SECRET_KEY_FILE"] = settings.resolvedSecretKeyFile
        let database = databaseArguments(settings)

        let off = try await runDetached(["retention", "run"] + database, environment: environment)
        XCTAssertEqual(off.status, 1)
        XCTAssertTrue(off.err.contains("HAPPYDESK_RETENTION_DAYS"), off.err)
        var badEnvironment = environment
        badEnvironment["HAPPYDESK_RETENTION_DAYS"] = "soon"
        let bad = try await runDetached(["retention", "run"] + database, environment: badEnvironment)
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.err.split(separator: "\n").count, 1, bad.err)

        var retention = environment
        retention["HAPPYDESK_RETENTION_DAYS"] = "30"
        let dry = try await runDetached(["retention", "run", "--dry-run"] + database, environment: retention)
        XCTAssertEqual(dry.status, 0, dry.err)
        XCTAssertTrue(dry.out.contains("dry run"), dry.out)
        XCTAssertTrue(dry.out.contains("messages"), dry.out)
        let run = try await runDetached(["retention", "run", "--json"] + database, environment: retention)
        XCTAssertEqual(run.status, 0, run.err)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
        XCTAssertEqual((report["removed"] as? [String: Any])?["messages"] as? Int, 2)
        XCTAssertEqual(report["days"] as? Int, 30)

        let erase = try await runDetached(["erase", "--requester", "nobody@example.com", "--json"] + database, environment: environment)
        XCTAssertEqual(erase.status, 0, erase.err)
        let badErase = try await runDetached(["erase", "--requester", "not an address"] + database, environment: environment)
        XCTAssertEqual(badErase.status, 1)
        XCTAssertTrue(badErase.err.contains("not an email address"), badErase.err)

        let users = try await runDetached(["users", "add"] + database + ["--name", "Lee Lead", "--email", "lee@example.com", "--role", "manager"])
        XCTAssertEqual(users.status, 0, users.err)
        let list = try await runDetached(["audit", "list", "--format", "json", "--since", "1d"] + database)
        XCTAssertEqual(list.status, 0, list.err)
        let rows = list.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let actions = rows.compactMap { $0["action"] as? String }
        XCTAssertTrue(actions.contains("retention.run"), "\(actions)")
        XCTAssertTrue(actions.contains("erasure"), "\(actions)")
        XCTAssertTrue(actions.contains("user.add"), "\(actions)")
        XCTAssertEqual(rows.first { $0["action"] as? String == "user.add" }?["remote"] as? String, "cli")
        XCTAssertFalse(list.out.contains("nobody@example.com"), "no address in clear")
        let byManager = try await runDetached(["audit", "list", "--actor", "mia@example.com"] + database)
        XCTAssertEqual(byManager.status, 0, byManager.err)
        XCTAssertTrue(byManager.out.contains("reply"), byManager.out)
        XCTAssertFalse(byManager.out.contains("retention.run"), byManager.out)
        let unknown = try await runDetached(["audit", "list", "--actor", "ghost@example.com"] + database)
        XCTAssertEqual(unknown.status, 1)
    }

    func testServeAppliesTheRetentionPolicyAtStartUp() async throws {
        let directory = try makeTemporaryDirectory()
        let h = try await PrivacyHarness(directory: directory)
        try await h.makeCase(
            ticket: "INC-SERVE", email: "sid.serve@example.com", name: "Sid Serve", comment: "serve comment", message: "serve message",
            reply: "serve reply", at: Date().addingTimeInterval(-40 * 86_400))
        let settings = h.server.settings
        let environment = [
            "HAPPYDESK_RETENTION_DAYS": "30", "HAPPYDESK_OUTBOX_DIR": settings.outboxDirectory,
            "HAPPYDESK_SECRET_KEY_FILE": settings.resolvedSecretKeyFile, "HAPPYDESK_DELIVERY_DISABLED": "1",
        ]
        let bad = try await runDetached(["serve", "--retention-days", "0"] + databaseArguments(settings), environment: environment)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("HAPPYDESK_RETENTION_DAYS"), bad.err)
        let server = try startHappydesk(["serve", "--port", "\(freeTCPPort())"] + databaseArguments(settings), environment)
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(20)
        var messages = -1
        while Date() < deadline {
            messages = try await h.count("SELECT count(*) FROM messages")
            if messages == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(messages, 0, "the start-up run removed the old conversation")
        let comments = try await h.count("SELECT count(*) FROM responses WHERE comment IS NOT NULL")
        XCTAssertEqual(comments, 0)
        var runs: [AuditEntry] = []
        while Date() < deadline {
            runs = try await AuditLog.list(h.server.database, AuditQuery()).filter { $0.action == "retention.run" }
            if !runs.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(runs.first?.actor_kind, "system")
        XCTAssertEqual(runs.first?.remote, "system")
    }
}
