import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Intake is locked by default: beyond loopback `serve` needs a secret (or an explicit opt-out), an
/// integration token may stand in for the signature, and only an authenticated caller sees `survey_url`.
final class IntakeLockTests: XCTestCase {
    func testServeRefusesToListenOnTheNetworkWithoutASecretInOneLine() throws {
        let dir = try makeTemporaryDirectory()
        let database = dir.appendingPathComponent("lock.sqlite").path
        for host in ["0.0.0.0", "::", "192.0.2.10"] {
            let result = try runHappydesk(["serve", "--host", host, "--port", "\(freeTCPPort())", "--database", database, "--no-delivery"])
            XCTAssertEqual(result.status, 1, "\(host): \(result.err)")
            let lines = result.err.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.err)
            XCTAssertTrue(result.err.contains("HAPPYDESK_WEBHOOK_SECRET"), result.err)
            XCTAssertTrue(result.err.contains("--allow-unsigned-intake"), result.err)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: database), "refused before opening anything")
        let bad = try runHappydesk(["serve", "--host", "0.0.0.0", "--database", database], environment: ["HAPPYDESK_ALLOW_UNSIGNED_INTAKE": "maybe"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("HAPPYDESK_ALLOW_UNSIGNED_INTAKE must be 1 or 0"), bad.err)
    }

    func testServeStartsOnTheNetworkWithASecretOrWhenUnsignedIntakeIsAllowed() async throws {
        let dir = try makeTemporaryDirectory()
        let options: [(String, [String], [String: String])] = [
            ("flag", ["--allow-unsigned-intake"], [:]),
            ("variable", [], ["HAPPYDESK_ALLOW_UNSIGNED_INTAKE": "1"]),
            ("secret", [], ["HAPPYDESK_WEBHOOK_SECRET": "s3cret"]),
        ]
        for (name, flags, environment) in options {
            let port = freeTCPPort()
            let database = dir.appendingPathComponent("\(name).sqlite").path
            let server = try startHappydesk(
                ["serve", "--host", "0.0.0.0", "--port", "\(port)", "--database", database, "--no-delivery"] + flags, environment)
            defer {
                server.terminate()
                server.waitUntilExit()
            }
            let status = try await waitForHealth(port: port, while: server)
            XCTAssertEqual(status, 200, "\(name): serve did not start")
        }
    }

    func testLoopbackAddressesAreTheOnlyOnesThatNeedNoSecret() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]", "0:0:0:0:0:0:0:1"] {
            XCTAssertTrue(IntakeLock.isLoopback(host), host)
            XCTAssertNil(IntakeLock.refusal(host: host, webhookSecret: nil, allowUnsigned: false), host)
        }
        for host in ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::2", "happy.example.com", "", "127.0.0.1.evil", "::ffff:127.0.0.1"] {
            XCTAssertFalse(IntakeLock.isLoopback(host), host)
            XCTAssertNotNil(IntakeLock.refusal(host: host, webhookSecret: nil, allowUnsigned: false), host)
            XCTAssertNotNil(IntakeLock.refusal(host: host, webhookSecret: "", allowUnsigned: false), "an empty secret is no secret: \(host)")
            XCTAssertNil(IntakeLock.refusal(host: host, webhookSecret: "s", allowUnsigned: false), host)
            XCTAssertNil(IntakeLock.refusal(host: host, webhookSecret: nil, allowUnsigned: true), host)
        }
    }

    func testAnIntegrationTokenPostsClosuresAndGetsTheLinkWhileUnsignedCallersDoNot() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let (integration, token) = try await server.users.add(name: "ServiceNow", email: nil, role: .integration)
        XCTAssertNil(integration.email)
        try await buildApplication(server).test(.live) { client in
            let unsigned = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-UNSIGNED"))
            XCTAssertEqual(unsigned.status, .created)
            XCTAssertNotNil(unsigned.json["id"])
            XCTAssertNil(unsigned.json["survey_url"], "an unauthenticated caller never sees the requester's link")

            let bearer = try await client.postJSON(
                "/api/v1/closures", closureJSON(ticket: "INC-BEARER"), headers: [.authorization: "Bearer \(token)"])
            XCTAssertEqual(bearer.status, .created, bearer.text)
            XCTAssertTrue((bearer.json["survey_url"] as? String)?.hasPrefix("http://surveys.test/s/") == true, bearer.text)

            let jira = try String(
                contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/jira_issue_updated_resolved.json"), encoding: .utf8)
            let fromJira = try await client.postJSON("/api/v1/closures/jira", jira, headers: [.authorization: "Bearer \(token)"])
            XCTAssertEqual(fromJira.status, .created, fromJira.text)
            XCTAssertNotNil(fromJira.json["survey_url"])
        }
    }

    func testWithASecretAnIntegrationTokenStandsInForTheSignature() async throws {
        let secret = "intake-secret"
        let server = try makeServer(directory: try makeTemporaryDirectory(), secret: secret)
        let (_, token) = try await server.users.add(name: "Zendesk", email: nil, role: .integration)
        try await buildApplication(server).test(.live) { client in
            let unsigned = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-S1"))
            XCTAssertEqual(unsigned.status, .unauthorized)

            let bearer = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-S2"), headers: [.authorization: "Bearer \(token)"])
            XCTAssertEqual(bearer.status, .created, bearer.text)
            XCTAssertNotNil(bearer.json["survey_url"])

            let body = closureJSON(ticket: "INC-S3")
            let signature = SignatureVerifier(secret: secret).sign(body: Data(body.utf8))
            let signed = try await client.postJSON("/api/v1/closures", body, headers: [.happydeskSignature: signature])
            XCTAssertEqual(signed.status, .created, signed.text)
            XCTAssertNotNil(signed.json["survey_url"], "a valid signature authenticates too")
        }
    }

    func testPeoplesTokensAndUnknownTokensCannotPostClosures() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        let (integration, token) = try await server.users.add(name: "ServiceNow", email: nil, role: .integration)
        try await buildApplication(server).test(.live) { client in
            let analyst = try await client.postJSON(
                "/api/v1/closures", closureJSON(ticket: "INC-P1"), headers: [.authorization: "Bearer \(people.sam)"])
            XCTAssertEqual(analyst.status, .forbidden)
            XCTAssertTrue(analyst.errorMessage.contains("integration token"), analyst.errorMessage)
            let manager = try await client.postJSON(
                "/api/v1/closures/jira", "{}", headers: [.authorization: "Bearer \(people.morgan)"])
            XCTAssertEqual(manager.status, .forbidden)
            let unknown = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-P2"), headers: [.authorization: "Bearer hd_nobody"])
            XCTAssertEqual(unknown.status, .unauthorized)
            XCTAssertTrue(unknown.errorMessage.contains("unknown or revoked"), unknown.errorMessage)
            let basic = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-P3"), headers: [.authorization: "Basic eDp5"])
            XCTAssertEqual(basic.status, .unauthorized)

            let revoked = try await server.users.revoke(id: integration.id)
            XCTAssertTrue(revoked)
            let afterRevoke = try await client.postJSON(
                "/api/v1/closures", closureJSON(ticket: "INC-P4"), headers: [.authorization: "Bearer \(token)"])
            XCTAssertEqual(afterRevoke.status, .unauthorized)
            let count = try await server.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM invitations") }
            XCTAssertEqual(count, 0, "no refused call created anything")
        }
    }

    func testAnIntegrationTokenOpensNoAnalystOrManagerRoute() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        try await buildApplication(server).test(.live) { client in
            for path in ["/api/v1/me", "/api/v1/events", "/api/v1/stream", "/api/v1/responses/1/messages", "/dashboard", "/api/v1/metrics"] {
                let response = try await client.get(path, token: testIntegrationToken)
                XCTAssertEqual(response.status, .forbidden, path)
            }
            for path in ["/api/v1/responses/1/replies", "/api/v1/responses/1/ack", "/api/v1/responses/1/kudos"] {
                let response = try await client.post(path, json: #"{"text":"hi"}"#, token: testIntegrationToken)
                XCTAssertEqual(response.status, .forbidden, path)
                XCTAssertTrue(response.errorMessage.contains("integration token may only post closures"), response.errorMessage)
            }
            let page = try await client.execute(uri: "/analyst", method: .get, headers: [.authorization: "Bearer \(testIntegrationToken)"])
            XCTAssertFalse(page.text.contains("/api/v1/stream"), "no analyst page for an integration")
            let signIn = try await client.execute(uri: "/analyst", method: .get)
            let csrfCookie = try XCTUnwrap(signIn.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let csrf = String(csrfCookie.split(separator: "=", maxSplits: 1).last ?? "")
            let login = try await client.execute(
                uri: "/analyst/login", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .cookie: csrfCookie, .origin: testOrigin],
                body: ByteBuffer(string: "token=\(testIntegrationToken)&csrf=\(csrf)"))
            XCTAssertEqual(login.status, .unauthorized, "an integration token opens no browser session")
        }
    }

    func testUsersAddIntegrationPrintsATokenWithoutAnEmailButPeopleNeedOne() throws {
        let dir = try makeTemporaryDirectory()
        let db = dir.appendingPathComponent("u.sqlite").path
        let added = try runHappydesk(["users", "add", "--database", db, "--role", "integration", "--name", "ServiceNow"])
        XCTAssertEqual(added.status, 0, added.err)
        XCTAssertTrue(added.out.contains("added integration ServiceNow (id 1)"), added.out)
        XCTAssertTrue(added.out.contains("API token (shown once): hd_"), added.out)
        let second = try runHappydesk(["users", "add", "--database", db, "--role", "integration", "--name", "Jira"])
        XCTAssertEqual(second.status, 0, "several integrations may go without an email: \(second.err)")
        let analyst = try runHappydesk(["users", "add", "--database", db, "--role", "analyst", "--name", "Sam"])
        XCTAssertEqual(analyst.status, 1)
        XCTAssertTrue(analyst.err.contains("needs an email"), analyst.err)
        let listed = try runHappydesk(["users", "list", "--database", db])
        XCTAssertTrue(listed.out.contains("1\tintegration\tactive\tServiceNow\n"), listed.out)
        let revoked = try runHappydesk(["users", "revoke", "--database", db, "--id", "1"])
        XCTAssertEqual(revoked.status, 0, revoked.err)
        let after = try runHappydesk(["users", "list", "--database", db])
        XCTAssertTrue(after.out.contains("1\tintegration\trevoked\tServiceNow"), after.out)
    }

    func testTheIntegrationMigrationKeepsUsersTheirSessionsAndEveryReference() throws {
        let dir = try makeTemporaryDirectory()
        let pool = try AppDatabase.open(path: dir.appendingPathComponent("m.sqlite").path)
        let migrator = try AppDatabase.migrator(directory: repositoryRoot.appendingPathComponent("Migrations"))
        try migrator.migrate(pool, upTo: "0006_rollups_off_write_path")
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO users (id, name, email, assignee_id, role, token_hash, created_at) VALUES
                        (7, 'Sam', 'sam@example.com', 'a7', 'analyst', x'01', '2026-11-01 10:00:00.000'),
                        (9, 'Mo', 'mo@example.com', NULL, 'manager', x'02', '2026-11-01 10:00:00.000');
                    INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (x'aa', 7, '2026-11-01 10:00:00.000', '2999-01-01 00:00:00.000');
                    """)
        }
        try migrator.migrate(pool)
        try pool.read { db in
            XCTAssertEqual(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count, 0)
            XCTAssertEqual(try Int64.fetchAll(db, sql: "SELECT id FROM users ORDER BY id"), [7, 9])
            XCTAssertEqual(try Int64.fetchOne(db, sql: "SELECT user_id FROM sessions"), 7, "sessions survive the rebuild")
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT last_seen_at FROM sessions"), "2026-11-01 10:00:00.000")
            let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('users', 'sessions')")
            XCTAssertTrue(indexes.contains("users_assignee"), "\(indexes)")
            XCTAssertTrue(indexes.contains("sessions_user"), "\(indexes)")
            let references = try String.fetchAll(
                db, sql: "SELECT sql FROM sqlite_master WHERE name IN ('sessions', 'messages', 'kudos', 'response_follow_ups')")
            XCTAssertEqual(references.count, 4)
            for sql in references { XCTAssertTrue(sql.contains("REFERENCES users(id)"), sql) }
        }
        try pool.write { db in
            XCTAssertThrowsError(
                try db.execute(
                    sql: "INSERT INTO users (name, email, role, token_hash, created_at) VALUES ('X', 'SAM@example.com', 'analyst', x'03', '')"),
                "email stays unique, ignoring case")
            XCTAssertThrowsError(
                try db.execute(sql: "INSERT INTO users (name, email, role, token_hash, created_at) VALUES ('X', NULL, 'analyst', x'04', '')"),
                "only an integration may go without an email")
            XCTAssertThrowsError(
                try db.execute(sql: "INSERT INTO users (name, email, role, token_hash, created_at) VALUES ('X', NULL, 'robot', x'05', '')"))
            try db.execute(sql: "INSERT INTO users (name, email, role, token_hash, created_at) VALUES ('ITSM', NULL, 'integration', x'06', '')")
            // The foreign keys act on the new table: deleting a user still cascades to their sessions.
            try db.execute(sql: "DELETE FROM users WHERE id = 7")
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions"), 0)
        }
    }
}

/// The status of `GET /healthz` once the server answers, or nil if it exits or stays silent for 30 seconds.
func waitForHealth(port: Int, while process: Process? = nil) async throws -> Int? {
    let url = try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)/healthz"))
    let deadline = ContinuousClock.now + .seconds(30)
    while process?.isRunning ?? true, ContinuousClock.now < deadline {
        if let (_, response) = try? await URLSession.shared.data(from: url), let http = response as? HTTPURLResponse {
            return http.statusCode
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    return nil
}
