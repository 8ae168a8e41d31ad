import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

final class IntakeTests: XCTestCase {
    func testFirstClosureCreatesAnInvitationAndTheSameClosureAgainReturnsIt() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        try await buildApplication(server).test(.router) { client in
            let first = try await client.postJSON("/api/v1/closures", closureJSON(), headers: [.authorization: "Bearer \(testIntegrationToken)"])
            XCTAssertEqual(first.status, .created)
            let id = try XCTUnwrap(first.json["id"] as? Int)
            let link = try XCTUnwrap(first.json["survey_url"] as? String)
            XCTAssertTrue(link.hasPrefix("http://surveys.test/s/"))

            let again = try await client.postJSON("/api/v1/closures", closureJSON(), headers: [.authorization: "Bearer \(testIntegrationToken)"])
            XCTAssertEqual(again.status, .ok)
            XCTAssertEqual(again.json["id"] as? Int, id)
            XCTAssertEqual(again.json["duplicate"] as? Bool, true)
            XCTAssertNil(again.json["survey_url"], "the clear link is never stored, so a replay cannot return it")
        }
        let counts = try await server.database.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM invitations"), try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries"))
        }
        XCTAssertEqual(counts.0, 1)
        XCTAssertEqual(counts.1, 1, "the outbox row is written with the invitation")
    }

    func testTokenIsStoredOnlyAsItsHash() async throws {
        try sqliteOnly("it searches the SQLite file and its WAL for the token")
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        let token = try await buildApplication(server).test(.router) { client in
            try await client.createInvitation()
        }
        XCTAssertEqual(token.count, 43, "256 bits in base64url")
        let stored = try await server.database.read { db in try Data.fetchOne(db, sql: "SELECT token_hash FROM invitations") }
        XCTAssertEqual(stored, SurveyToken.hash(token))
        let file =
            try Data(contentsOf: URL(fileURLWithPath: server.settings.databasePath + "-wal"))
            + Data(contentsOf: URL(fileURLWithPath: server.settings.databasePath))
        XCTAssertNil(file.range(of: Data(token.utf8)), "the clear token must not appear anywhere in the database files")
    }

    func testAssigneeIsSnapshottedAtClosure() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        try await buildApplication(server).test(.router) { client in
            _ = try await client.createInvitation()
        }
        let row = try await server.database.read { db in
            try SQLRow.fetchOne(db, sql: "SELECT assignee_id, assignee_name, group_name, service, locale FROM invitations")
        }
        XCTAssertEqual(row?["assignee_id"], "analyst-7")
        XCTAssertEqual(row?["assignee_name"], "Sam Analyst")
        XCTAssertEqual(row?["group_name"], "Service Desk")
        XCTAssertEqual(row?["service"], "VPN")
        XCTAssertEqual(row?["locale"], "en")
    }

    func testSignedClosuresAreCheckedWhenASecretIsSet() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir, secret: "s3cret")
        let signer = SignatureVerifier(secret: "s3cret")
        let body = closureJSON()
        let header = HTTPField.Name("X-Happydesk-Signature")!
        try await buildApplication(server).test(.router) { client in
            let unsigned = try await client.postJSON("/api/v1/closures", body)
            XCTAssertEqual(unsigned.status, .unauthorized)
            XCTAssertTrue(unsigned.errorMessage.contains("missing X-Happydesk-Signature"))

            let wrong = try await client.postJSON(
                "/api/v1/closures", body, headers: [header: SignatureVerifier(secret: "other").sign(body: Data(body.utf8))])
            XCTAssertEqual(wrong.status, .unauthorized)
            XCTAssertTrue(wrong.errorMessage.contains("does not match"))

            let old = signer.sign(body: Data(body.utf8), now: Date().addingTimeInterval(-301))
            let expired = try await client.postJSON("/api/v1/closures", body, headers: [header: old])
            XCTAssertEqual(expired.status, .unauthorized)
            XCTAssertTrue(expired.errorMessage.contains("5 minutes"))

            let garbage = try await client.postJSON("/api/v1/closures", body, headers: [header: "v1=zz"])
            XCTAssertEqual(garbage.status, .unauthorized)

            let tampered = try await client.postJSON(
                "/api/v1/closures", body.replacingOccurrences(of: "INC0010001", with: "INC0010002"),
                headers: [header: signer.sign(body: Data(body.utf8))])
            XCTAssertEqual(tampered.status, .unauthorized)

            let good = try await client.postJSON("/api/v1/closures", body, headers: [header: signer.sign(body: Data(body.utf8))])
            XCTAssertEqual(good.status, .created)
        }
        let count = try await server.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM closures") }
        XCTAssertEqual(count, 1, "rejected requests leave nothing behind")
    }

    func testJiraResolvedWebhookCreatesAnInvitation() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        let sample = try String(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/jira_issue_updated_resolved.json"), encoding: .utf8)
        try await buildApplication(server).test(.router) { client in
            let response = try await client.postJSON("/api/v1/closures/jira", sample)
            XCTAssertEqual(response.status, .created, response.text)
            let replay = try await client.postJSON("/api/v1/closures/jira", sample)
            XCTAssertEqual(replay.status, .ok)

            let notDone = sample.replacingOccurrences(of: "\"toString\": \"Resolved\"", with: "\"toString\": \"Waiting for customer\"")
                .replacingOccurrences(of: "\"key\": \"done\"", with: "\"key\": \"indeterminate\"")
                .replacingOccurrences(of: "ITSM-42", with: "ITSM-43")
            let ignored = try await client.postJSON("/api/v1/closures/jira", notDone)
            XCTAssertEqual(ignored.status, .accepted)
            XCTAssertEqual(ignored.json["status"] as? String, "ignored")
        }
        let row = try await server.database.read { db in
            try SQLRow.fetchOne(
                db,
                sql:
                    "SELECT c.ticket_id, c.source, c.kind, c.requester_email, i.assignee_email, i.locale, i.service FROM closures c JOIN invitations i ON i.closure_id = c.id"
            )
        }
        XCTAssertEqual(row?["ticket_id"], "ITSM-42")
        XCTAssertEqual(row?["source"], "jira")
        XCTAssertEqual(row?["kind"], "incident")
        XCTAssertEqual(row?["requester_email"], "jonas.weber@example.com")
        XCTAssertEqual(row?["assignee_email"], "mia.krueger@example.com")
        XCTAssertEqual(row?["locale"], "de")
        XCTAssertEqual(row?["service"], "VPN")
    }

    func testBadClosuresGetA4xxThatNamesTheProblemAndStoreNothing() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        let cases: [(String, HTTPResponse.Status, String)] = [
            ("{\"ticket_id\":", .badRequest, "not valid JSON"),
            ("[1,2]", .badRequest, "JSON object"),
            ("{\"source\":\"jira\",\"kind\":\"incident\",\"requester\":{\"email\":\"a@b.co\"}}", .badRequest, "ticket_id"),
            (closureJSON().replacingOccurrences(of: "\"reassignments\":1", with: "\"reassignments\":\"one\""), .badRequest, "reassignments"),
            (closureJSON(kind: "outage"), .badRequest, "kind must be 'incident' or 'request'"),
            (closureJSON(email: "not-an-address"), .badRequest, "requester.email"),
            (closureJSON(source: "Service Now"), .badRequest, "source"),
            (closureJSON().replacingOccurrences(of: "Ann Example", with: "Ann\\r\\nBcc: x@evil.test"), .badRequest, "requester.name"),
            (closureJSON().replacingOccurrences(of: "2026-11-20T14:05:00Z", with: "yesterday"), .badRequest, "closed_at"),
            ("{\"ticket_id\":\"" + String(repeating: "x", count: 70_000) + "\"}", .contentTooLarge, "64 KB"),
        ]
        try await buildApplication(server).test(.router) { client in
            for (body, status, fragment) in cases {
                let response = try await client.postJSON("/api/v1/closures", body)
                XCTAssertEqual(response.status, status, "\(body.prefix(80))")
                XCTAssertTrue(response.errorMessage.contains(fragment), "\(response.errorMessage) should mention \(fragment)")
                XCTAssertEqual(response.headers[.contentType], "application/json; charset=utf-8")
            }
        }
        let count = try await server.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM closures") }
        XCTAssertEqual(count, 0)
    }

    func testClosureInTheWrongStateForItsSourceIsIgnored() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        let body = closureJSON().replacingOccurrences(of: "\"kind\":\"incident\"", with: "\"kind\":\"incident\",\"state\":\"closed\"")
        try await buildApplication(server).test(.router) { client in
            let response = try await client.postJSON("/api/v1/closures", body)
            XCTAssertEqual(response.status, .accepted)
            XCTAssertTrue((response.json["skip_reason"] as? String ?? "").contains("triggers surveys on 'resolved'"))
        }
    }
}
