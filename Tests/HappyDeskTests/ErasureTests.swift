import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// GDPR Art. 17: one requester's personal data erased everywhere, to the bytes on disk (SQLite).
private let address = "erin.erase@example.com"
private let secrets = ["erin.erase@example.com", "ERIN.ERASE@EXAMPLE.COM", "Erin Eraseme", "comment xyzzy", "message plugh", "reply frobozz"]

final class ErasureTests: XCTestCase {

    func seed(_ h: PrivacyHarness) async throws -> [(invitationID: Int64, responseID: Int64)] {
        let at = Date().addingTimeInterval(-3 * 86_400)
        var cases: [(Int64, Int64)] = []
        for n in 1...2 {
            cases.append(
                try await h.makeCase(
                    ticket: "INC-ERASE-\(n)", email: n == 1 ? address : "Erin.Erase@Example.com", name: "Erin Eraseme",
                    comment: "my comment xyzzy \(n)",
                    message: "my message plugh \(n)", reply: "analyst reply frobozz \(n)", at: at.addingTimeInterval(Double(n) * 60)))
        }
        try await h.makeCase(
            ticket: "INC-KEEP", email: "kim.keep@example.com", name: "Kim Keep", comment: "keep this comment", message: "keep this message",
            reply: "keep this reply", score: 9, at: at)
        // The requester also has an account and a session.
        let (_, token) = try await h.server.users.add(name: "Erin Eraseme", email: address, role: .analyst)
        let session = try await h.server.users.startSession(token: token)
        XCTAssertNotNil(session)
        // And asked for a sign-in link, whose row holds the address.
        try await h.server.database.write { db in
            _ = try SignInStore.createLink(db, tokenHash: SurveyToken.hash(SurveyToken.generate().value), email: address, next: nil, now: Date())
        }
        return cases
    }

    func testErasureRemovesTheRequesterEverywhereAndKeepsOthersAndTheFigures() async throws {
        let directory = try makeTemporaryDirectory()
        let h = try await PrivacyHarness(directory: directory)
        let cases = try await seed(h)
        let figuresBefore = try h.dashboardFigures()
        let filesBefore = try FileManager.default.contentsOfDirectory(atPath: h.outbox.path).sorted()
        XCTAssertEqual(filesBefore.count, 6)

        // A dry run reports what would go and changes nothing.
        let dry = try await h.personalData.erase(requester: "ERIN.ERASE@example.com", dryRun: true, actor: .cli)
        XCTAssertTrue(dry.dryRun)
        XCTAssertEqual(dry.removed.tables["invitations"], 2)
        XCTAssertEqual(dry.removed.tables["messages"], 4)
        XCTAssertEqual(dry.removed.tables["users"], 1)
        XCTAssertEqual(dry.removed.tables["outbox_files"], 4)
        let stillThere = try await h.count("SELECT count(*) FROM invitations WHERE lower(requester_email) = ?", [address])
        XCTAssertEqual(stillThere, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: h.outbox.path).sorted(), filesBefore)
        let auditAfterDry = try await h.count("SELECT count(*) FROM audit WHERE action = 'erasure'")
        XCTAssertEqual(auditAfterDry, 0)

        let report = try await h.personalData.erase(requester: "ERIN.ERASE@example.com", actor: .cli)
        XCTAssertFalse(report.dryRun)
        XCTAssertEqual(report.removed.tables["closures"], 2)
        XCTAssertEqual(report.removed.tables["invitations"], 2)
        XCTAssertEqual(report.removed.tables["responses"], 2)
        XCTAssertEqual(report.removed.tables["messages"], 4, "the whole thread, the analyst's replies included")
        XCTAssertEqual(report.removed.tables["deliveries"], 4)
        XCTAssertEqual(report.removed.tables["delivery_attempts"], 4)
        XCTAssertEqual(report.removed.tables["users"], 1)
        XCTAssertEqual(report.removed.tables["sessions"], 1)
        XCTAssertEqual(report.removed.tables["signin_links"], 1)
        XCTAssertEqual(report.removed.tables["outbox_files"], 4)
        XCTAssertNotNil(report.storageNote)

        try await h.server.database.read { db in
            for (invitationID, responseID) in cases {
                XCTAssertEqual(try String.fetchOne(db, sql: "SELECT requester_email FROM invitations WHERE id = ?", arguments: [invitationID]), "")
                XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT score FROM responses WHERE id = ?", arguments: [responseID]), 3, "answers stay")
                XCTAssertNil(try String.fetchOne(db, sql: "SELECT comment FROM responses WHERE id = ?", arguments: [responseID]))
            }
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT comment FROM responses WHERE comment IS NOT NULL"), "keep this comment")
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM messages"), 2, "the other requester's thread stays")
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM closures WHERE requester_email = 'kim.keep@example.com'"), 1)
        }
        XCTAssertEqual(try h.dashboardFigures(), figuresBefore, "the figures are the same: the answers stay as anonymous figures")
        let files = try FileManager.default.contentsOfDirectory(atPath: h.outbox.path)
        XCTAssertEqual(files.count, 2)
        for file in files {
            let bytes = fileBytes(h.outbox.appendingPathComponent(file).path)
            for secret in secrets { XCTAssertFalse(contains(bytes, secret), "\(file) holds \(secret)") }
        }
        // The audit trail names the erasure by a keyed hash, never the address.
        let trail = try await AuditLog.list(h.server.database, AuditQuery())
        let entry = try XCTUnwrap(trail.last { $0.action == "erasure" })
        XCTAssertEqual(entry.actor_kind, "cli")
        XCTAssertEqual(entry.remote, "cli")
        XCTAssertTrue(entry.details.contains(h.server.vault.addressHash(address)), entry.details)
        XCTAssertFalse(entry.details.contains("erin"), entry.details)

        // Nothing left in the database file (free pages included) or its WAL: SQLite only, by nature.
        guard h.server.database is SQLiteStorage else { return }
        let path = h.server.settings.databasePath
        let db = fileBytes(path)
        let wal = fileBytes(path + "-wal")
        XCTAssertGreaterThan(db.count, 0)
        XCTAssertTrue(contains(db, "keep this comment"), "the search sees what stays")
        for secret in secrets {
            XCTAssertFalse(contains(db, secret), "the database file holds \(secret)")
            XCTAssertFalse(contains(wal, secret), "the WAL holds \(secret)")
        }
    }

    func testWithAnswersDeletesTheAnswersAndCorrectsTheRollups() async throws {
        let directory = try makeTemporaryDirectory()
        let h = try await PrivacyHarness(directory: directory)
        _ = try await seed(h)
        let report = try await h.personalData.erase(requester: address, withAnswers: true, actor: .cli)
        XCTAssertEqual(report.removed.tables["responses"], 2)
        XCTAssertEqual(report.removed.tables["closures"], 2)
        let responses = try await h.count("SELECT count(*) FROM responses")
        XCTAssertEqual(responses, 1, "only the other requester's answer is left")
        try await h.server.database.read { db in
            let recount = try storedAndRecountedDailyRollups(db)
            XCTAssertEqual(recount.stored, recount.recount)
        }
        let figures = try h.dashboardFigures()
        XCTAssertTrue(figures["overall"]?.contains("\"responses\":1") ?? false, figures["overall"] ?? "")
        guard h.server.database is SQLiteStorage else { return }
        let bytes = fileBytes(h.server.settings.databasePath) + fileBytes(h.server.settings.databasePath + "-wal")
        for secret in secrets { XCTAssertFalse(contains(bytes, secret), "the database holds \(secret)") }
    }

    func testEraseOverHTTPIsForAdminsAndReportsTableByTable() async throws {
        let directory = try makeTemporaryDirectory()
        let h = try await PrivacyHarness(directory: directory)
        _ = try await seed(h)
        try await buildApplication(h.server).test(.live) { client in
            let path = "/api/v1/requesters/\(address.replacingOccurrences(of: "@", with: "%40"))"
            let anonymous = try await client.execute(uri: path, method: .delete)
            XCTAssertEqual(anonymous.status, .unauthorized)
            let manager = try await client.execute(uri: path, method: .delete, headers: [.authorization: "Bearer \(h.managerToken)"])
            XCTAssertEqual(manager.status, .forbidden)
            let bad = try await client.execute(
                uri: "/api/v1/requesters/not-an-address", method: .delete, headers: [.authorization: "Bearer \(h.adminToken)"])
            XCTAssertEqual(bad.status, .badRequest)
            // Durations too large for a date, or not finite, are bad input, not a trap in the date codec.
            for since in ["1e300w", "infs", "nand", "100000000d"] {
                let huge = try await client.execute(
                    uri: "/api/v1/audit?since=\(since)", method: .get, headers: [.authorization: "Bearer \(h.adminToken)"])
                XCTAssertEqual(huge.status, .badRequest, since)
            }
            XCTAssertTrue(bad.errorMessage.contains("not an email address"), bad.errorMessage)
            let dry = try await client.execute(uri: path + "?dry_run=true", method: .delete, headers: [.authorization: "Bearer \(h.adminToken)"])
            XCTAssertEqual(dry.status, .ok)
            XCTAssertEqual(dry.json["dry_run"] as? Bool, true)
            let admin = try await client.execute(uri: path, method: .delete, headers: [.authorization: "Bearer \(h.adminToken)"])
            XCTAssertEqual(admin.status, .ok, admin.text)
            let removed = try XCTUnwrap(admin.json["removed"] as? [String: Any])
            XCTAssertEqual(removed["invitations"] as? Int, 2)
            XCTAssertEqual(removed["messages"] as? Int, 4)
            XCTAssertEqual(admin.json["with_answers"] as? Bool, false)
            let nobody = try await client.execute(
                uri: "/api/v1/requesters/nobody%40example.com", method: .delete, headers: [.authorization: "Bearer \(h.adminToken)"])
            XCTAssertEqual(nobody.status, .ok)
            XCTAssertEqual(((nobody.json["removed"] as? [String: Any])?["invitations"] as? Int) ?? 0, 0)

            // The erasure is audited with the admin and the client address.
            let audit = try await client.execute(uri: "/api/v1/audit?since=1d", method: .get, headers: [.authorization: "Bearer \(h.adminToken)"])
            XCTAssertEqual(audit.status, .ok)
            let entries = try XCTUnwrap(audit.json["entries"] as? [[String: Any]])
            let erasure = try XCTUnwrap(entries.first { $0["action"] as? String == "erasure" })
            XCTAssertEqual(erasure["actor_kind"] as? String, "user")
            XCTAssertEqual(erasure["actor_role"] as? String, "admin")
            XCTAssertEqual(erasure["remote"] as? String, "127.0.0.1")
            XCTAssertFalse(audit.text.contains(address))
        }
    }
}

/// The audit trail: recorded at the existing points, append-only, listed for admins only.
final class AuditTrailTests: XCTestCase {
    func testActionsAreRecordedWithActorAndAddressAndTheTrailIsAdminOnly() async throws {
        let directory = try makeTemporaryDirectory()
        let h = try await PrivacyHarness(directory: directory)
        let (_, responseID) = try await h.makeCase(
            ticket: "INC-AUDIT", email: "ann@example.com", name: "Ann", comment: "fine", message: "thanks", reply: "you are welcome",
            at: Date().addingTimeInterval(-3600))
        try await buildApplication(h.server).test(.live) { client in
            let manager: HTTPFields = [.authorization: "Bearer \(h.managerToken)"]
            let view = try await client.execute(uri: "/dashboard", method: .get, headers: manager)
            XCTAssertEqual(view.status, .ok)
            let export = try await client.execute(uri: "/api/v1/metrics?format=csv", method: .get, headers: manager)
            XCTAssertEqual(export.status, .ok)
            var kudosHeaders = manager
            kudosHeaders[.contentType] = "application/json"
            let kudos = try await client.execute(
                uri: "/api/v1/responses/\(responseID)/kudos", method: .post, headers: kudosHeaders,
                body: ByteBuffer(string: #"{"text":"great work"}"#))
            XCTAssertEqual(kudos.status, .created, kudos.text)
            let ack = try await client.execute(
                uri: "/api/v1/responses/\(responseID)/ack", method: .post, headers: kudosHeaders, body: ByteBuffer(string: "{}"))
            XCTAssertEqual(ack.status, .ok, ack.text)

            let forbidden = try await client.execute(uri: "/api/v1/audit", method: .get, headers: manager)
            XCTAssertEqual(forbidden.status, .forbidden)
            let anonymous = try await client.execute(uri: "/api/v1/audit", method: .get)
            XCTAssertEqual(anonymous.status, .unauthorized)
            let bad = try await client.execute(
                uri: "/api/v1/audit?since=yesterday", method: .get, headers: [.authorization: "Bearer \(h.adminToken)"])
            XCTAssertEqual(bad.status, .badRequest)

            let page = try await client.execute(
                uri: "/api/v1/audit?actor=mia@example.com&limit=2", method: .get, headers: [.authorization: "Bearer \(h.adminToken)"])
            XCTAssertEqual(page.status, .ok, page.text)
            let first = try XCTUnwrap(page.json["entries"] as? [[String: Any]])
            XCTAssertEqual(first.count, 2)
            let cursor = try XCTUnwrap(page.json["next_after"] as? Int)
            let rest = try await client.execute(
                uri: "/api/v1/audit?actor=\(h.manager.id)&after=\(cursor)", method: .get, headers: [.authorization: "Bearer \(h.adminToken)"])
            let more = try XCTUnwrap(rest.json["entries"] as? [[String: Any]])
            let actions = (first + more).compactMap { $0["action"] as? String }
            // The reply (made in-process, remote unknown) then the requests over the socket.
            XCTAssertEqual(actions, ["reply", "dashboard.view", "export", "kudos", "acknowledge"])
            for entry in first + more {
                XCTAssertEqual(entry["actor_user_id"] as? Int, Int(h.manager.id))
                XCTAssertEqual(entry["actor_role"] as? String, "manager")
            }
            XCTAssertEqual(more.last?["remote"] as? String, "127.0.0.1")
            XCTAssertEqual(more.last?["target"] as? String, "response:\(responseID)")
        }
    }

    func testTheTrailIsAppendOnly() async throws {
        let directory = try makeTemporaryDirectory()
        let server = try makeServer(directory: directory)
        try await server.database.write { db in _ = try AuditLog.record(db, .outboxPurge, actor: .cli, target: "deliveries") }
        do {
            try await server.database.write { db in try db.execute(sql: "UPDATE audit SET remote = 'elsewhere'") }
            XCTFail("an UPDATE of the audit trail was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("append-only"), "\(error)")
        }
        do {
            try await server.database.write { db in try db.execute(sql: "DELETE FROM audit") }
            XCTFail("a DELETE of the audit trail was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("append-only"), "\(error)")
        }
        let rows = try await AuditLog.list(server.database, AuditQuery())
        XCTAssertEqual(rows.map(\.remote), ["cli"])
    }

    func testSinceReadsDatesDateTimesAndDurations() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        XCTAssertEqual(try AuditQuery.parseSince("7d", now: now), now.addingTimeInterval(-7 * 86_400))
        XCTAssertEqual(try AuditQuery.parseSince("90m", now: now), now.addingTimeInterval(-5400))
        XCTAssertEqual(try AuditQuery.parseSince("2026-11-01", now: now), ISO8601.parse("2026-11-01T00:00:00Z"))
        XCTAssertEqual(try AuditQuery.parseSince("2026-11-01T08:00:00Z", now: now), ISO8601.parse("2026-11-01T08:00:00Z"))
        XCTAssertThrowsError(try AuditQuery.parseSince("last week", now: now))
        XCTAssertThrowsError(try AuditQuery.parseSince("1e300w", now: now))
        XCTAssertThrowsError(try AuditQuery.parseSince("infd", now: now))
        XCTAssertEqual(SQLDate.string(Date(timeIntervalSince1970: .infinity)), "9999-12-31 23:59:59.999")
        XCTAssertEqual(SQLDate.string(Date(timeIntervalSince1970: -1e300)), "0000-01-01 00:00:00.000")
    }
}
