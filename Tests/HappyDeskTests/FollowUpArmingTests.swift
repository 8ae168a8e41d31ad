import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

@testable import HappyDesk

/// Follow-up webhooks cannot be used to spam: one alert and one reopen call per response until an analyst
/// acknowledges it, and requester text arrives in chat tools as plain text. Webhooks go to a real HTTP
/// listener; answers are real form posts to the survey page over a live socket.
final class FollowUpArmingTests: XCTestCase {
    static let hostileComment = "<!channel> <https://evil|Reset password> & co"

    func testFlippingAnAnswerQueuesOneAlertAndOneReopenUntilAnAcknowledgementReArmsThem() async throws {
        let dir = try makeTemporaryDirectory()
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("http.jsonl"))
        let base = "http://127.0.0.1:\(listener.port)"
        let harness = try DeliveryHarness(directory: dir) {
            $0.alertWebhooks = ["*": "\(base)/ok/alert"]
            $0.reopenWebhookURL = "\(base)/ok/reopen"
        }
        let (_, sam) = try await harness.server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst, assigneeID: "analyst-7")
        let invitation = try await harness.invite(ticket: "INC-FLIP-1")
        let token = String(invitation.url.split(separator: "/").last ?? "")
        let comment = try XCTUnwrap(Self.hostileComment.addingPercentEncoding(withAllowedCharacters: .alphanumerics))

        try await buildApplication(harness.server).test(.live) { client in
            /// Negative with "not solved", then positive, and so on: every other post is a turn for the worse.
            func flip(_ times: Int) async throws {
                for index in 0..<times {
                    let form = index % 2 == 0 ? "score=1&factors=not_solved&comment=\(comment)" : "score=10&factors=speed&comment=fine"
                    let response = try await client.postForm("/s/\(token)", form)
                    XCTAssertEqual(response.status, .ok, response.text)
                }
            }
            func calls() async throws -> (alerts: [[String: Any]], reopens: [[String: Any]]) {
                try await harness.deliverAll()
                let records = listener.records()
                return (records.filter { $0.string("path") == "/ok/alert" }, records.filter { $0.string("path") == "/ok/reopen" })
            }
            func rows() async throws -> [String] {
                try await harness.server.database.read { db in
                    try String.fetchAll(db, sql: "SELECT purpose FROM deliveries WHERE purpose IN ('alert', 'reopen') ORDER BY id")
                }
            }

            try await flip(10)
            var received = try await calls()
            XCTAssertEqual(received.alerts.count, 1, "ten flips, one alert")
            XCTAssertEqual(received.reopens.count, 1, "ten flips, one reopen call")
            var queued = try await rows()
            XCTAssertEqual(queued, ["alert", "reopen"])

            let responseID = try await harness.server.database.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM responses") }
            let ack = try await client.post("/api/v1/responses/\(try XCTUnwrap(responseID))/ack", json: "", token: sam)
            XCTAssertEqual(ack.status, .ok, ack.text)

            try await flip(10)
            received = try await calls()
            XCTAssertEqual(received.alerts.count, 2, "the acknowledgement re-armed the alert once")
            XCTAssertEqual(received.reopens.count, 2, "the acknowledgement re-armed the reopen call once")
            queued = try await rows()
            XCTAssertEqual(queued, ["alert", "reopen", "alert", "reopen"])

            // The requester's comment arrives as text: no channel ping, no link with made-up words.
            let alertText = try XCTUnwrap(
                (try JSONSerialization.jsonObject(with: Data(received.alerts[0].string("body").utf8)) as? [String: Any])?["text"] as? String)
            XCTAssertTrue(alertText.contains("&lt;!channel&gt; &lt;https://evil|Reset password&gt; &amp; co"), alertText)
            XCTAssertFalse(alertText.contains("<!channel>"), alertText)
            XCTAssertFalse(alertText.contains("<https://evil"), alertText)
            XCTAssertTrue(alertText.contains("1/10 on INC-FLIP-1"), alertText)
            // The reopen call goes to the ITSM as data, not chat markup: its comment is the requester's own text.
            let reopen = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(received.reopens[0].string("body").utf8)) as? [String: Any])
            XCTAssertEqual(reopen["ticket_id"] as? String, "INC-FLIP-1")
            XCTAssertEqual(reopen["comment"] as? String, Self.hostileComment)
        }
    }

    func testAnAcknowledgementWithoutANewTurnForTheWorseQueuesNothing() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir) {
            $0.alertWebhooks = ["*": "http://127.0.0.1:9/alert"]
            $0.reopenWebhookURL = "http://127.0.0.1:9/reopen"
        }
        let (_, sam) = try await harness.server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst, assigneeID: "analyst-7")
        let invitation = try await harness.invite(ticket: "INC-STAY-1")
        let token = String(invitation.url.split(separator: "/").last ?? "")
        try await buildApplication(harness.server).test(.live) { client in
            let first = try await client.postForm("/s/\(token)", "score=2&factors=not_solved")
            XCTAssertEqual(first.status, .ok, first.text)
            let responseID = try await harness.server.database.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM responses") }
            let ack = try await client.post("/api/v1/responses/\(try XCTUnwrap(responseID))/ack", json: "", token: sam)
            XCTAssertEqual(ack.status, .ok, ack.text)
            // Still negative and still "not solved": an amendment is not news.
            let amended = try await client.postForm("/s/\(token)", "score=1&factors=not_solved&comment=still")
            XCTAssertEqual(amended.status, .ok, amended.text)
            let queued = try await harness.server.database.read { db in
                try String.fetchAll(db, sql: "SELECT purpose FROM deliveries WHERE purpose IN ('alert', 'reopen') ORDER BY id")
            }
            XCTAssertEqual(queued, ["alert", "reopen"])
        }
    }

    func testUpgradingKeepsResponsesAlertedBeforeTheirLastAcknowledgementArmedAndTheOthersDisarmed() async throws {
        try sqliteOnly("it upgrades a SQLite file migrated by a release before 0008; PostgreSQL starts at its 0001")
        let dir = try makeTemporaryDirectory()
        // A database migrated by the release before 0008, with two responses that each had an alert and a reopen
        // call; the second was acknowledged after its calls.
        let before = dir.appendingPathComponent("migrations-before")
        try FileManager.default.createDirectory(at: before, withIntermediateDirectories: true)
        let all = repositoryRoot.appendingPathComponent("Migrations")
        // 0010 only adds the settings table the server needs at start (the secret key's check value).
        for file in try FileManager.default.contentsOfDirectory(atPath: all.path)
        where file.hasSuffix(".sql") && (file < "0008" || file.hasPrefix("0010")) {
            try FileManager.default.copyItem(at: all.appendingPathComponent(file), to: before.appendingPathComponent(file))
        }
        let path = dir.appendingPathComponent("happydesk.sqlite").path
        do {
            let database = try AppDatabase.open(path: path)
            _ = try AppDatabase.migrate(database, directory: before)
        }
        var settings = makeSettings(directory: dir)
        settings.migrationsDirectory = before
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        do {
            let server = try HappyDeskServer.open(settings: settings, logger: logger)
            for ticket in ["INC-OLD-1", "INC-OLD-2"] {
                let result = try await server.intake.ingest(
                    Closure(
                        ticketID: ticket, source: "servicenow", kind: .incident, requester: .init(email: "ann@example.com", name: nil, locale: "en"),
                        assignee: .init(id: "analyst-7", name: "Sam", email: "sam@example.com")))
                let invitationID = try XCTUnwrap(result.invitationID)
                try await server.database.write { db in
                    let responseID = try db.insertReturningID(
                        sql: """
                            INSERT INTO responses (invitation_id, score, revision, first_answered_at, last_changed_at)
                            VALUES (?, 1, 1, '2026-11-20 10:00:00.000', '2026-11-20 10:00:00.000')
                            """, arguments: [invitationID])
                    for purpose in ["alert", "reopen"] {
                        try db.execute(
                            sql: """
                                INSERT INTO deliveries (invitation_id, purpose, channel, status, payload, due_at, created_at)
                                VALUES (?, ?, 'webhook', 'sent', '{}', '2026-11-20 10:00:00.000', '2026-11-20 10:00:00.000')
                                """, arguments: [invitationID, purpose])
                    }
                    if ticket == "INC-OLD-2" {
                        try db.execute(
                            sql: "INSERT INTO response_follow_ups (response_id, needed, handled_at) VALUES (?, 0, '2026-11-21 09:00:00.000')",
                            arguments: [responseID])
                    }
                }
            }
        }

        let database = try AppDatabase.open(path: path)
        let applied = try AppDatabase.migrate(database, directory: all)
        XCTAssertTrue(applied.contains { $0.hasPrefix("0008") }, "\(applied)")
        let state = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.ticket_id, f.alert_queued_at, f.reopen_queued_at FROM response_follow_ups f
                    JOIN responses r ON r.id = f.response_id JOIN invitations i ON i.id = r.invitation_id JOIN closures c ON c.id = i.closure_id
                    ORDER BY c.ticket_id
                    """)
        }
        XCTAssertEqual(state.map { $0["ticket_id"] as String }, ["INC-OLD-1", "INC-OLD-2"])
        XCTAssertEqual(state[0]["alert_queued_at"] as String?, "2026-11-20 10:00:00.000", "alerted and never acknowledged: disarmed")
        XCTAssertEqual(state[0]["reopen_queued_at"] as String?, "2026-11-20 10:00:00.000")
        XCTAssertNil(state[1]["alert_queued_at"] as String?, "acknowledged after its alert: armed")
        XCTAssertNil(state[1]["reopen_queued_at"] as String?)
    }

    func testChatTextEscapesMarkupAndNothingElse() {
        XCTAssertEqual(ChatText.escape(Self.hostileComment), "&lt;!channel&gt; &lt;https://evil|Reset password&gt; &amp; co")
        XCTAssertEqual(ChatText.escape("Grüße, Jörg 👍🏽 e\u{301}"), "Grüße, Jörg 👍🏽 e\u{301}")
        XCTAssertEqual(ChatText.escape("&amp;"), "&amp;amp;", "an entity typed by the requester shows as typed")
        // Random strings over a markup-heavy alphabet: the result never holds markup, and unescaping gives the input back.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("<>&!|@#amp;lt;gt; é\u{301}\n")
        for _ in 0..<500 {
            let input = String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? "a" })
            let escaped = ChatText.escape(input)
            XCTAssertFalse(escaped.contains("<") || escaped.contains(">"), escaped)
            let back = escaped.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&amp;", with: "&")
            XCTAssertEqual(back, input)
        }
    }
}
