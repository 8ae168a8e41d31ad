import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import XCTest

@testable import HappyDesk

/// Item 9 of issue 9: leases, shutdown, replies on the webhook channel, and a purge that keeps what replies need.
final class DeliveryLeaseTests: XCTestCase {
    func testAStaleSendersResultDoesNotOverwriteTheNewerClaimsResult() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir)
        let invitation = try await harness.invite(ticket: "INC-LEASE-1")
        let start = Date()
        let backoff = Backoff(base: 1, max: 1)

        let outcomes = try await harness.server.database.write { db -> [String] in
            // Sender A claims, then stalls past its lease; sender B claims the row again and delivers it.
            let a = try XCTUnwrap(try Outbox.claim(db, leaseID: "lease-a", now: start, lease: 10, limit: 10).first)
            let b = try XCTUnwrap(try Outbox.claim(db, leaseID: "lease-b", now: start.addingTimeInterval(11), lease: 10, limit: 10).first)
            XCTAssertEqual(a.deliveryID, b.deliveryID)
            let bOutcome = try Outbox.record(
                db, job: b, result: .sent(status: 250, "SMTP 250"), startedAt: start, now: start.addingTimeInterval(12), maxAttempts: 5,
                backoff: backoff)
            // A wakes up with a failure: it must not turn B's delivered row back into a retry or a dead letter.
            let aOutcome = try Outbox.record(
                db, job: a, result: .permanent("550 no such user", status: 550), startedAt: start, now: start.addingTimeInterval(13),
                maxAttempts: 5, backoff: backoff)
            return [bOutcome, aOutcome]
        }

        XCTAssertEqual(outcomes, ["sent", "stale"])
        let row = try await harness.deliveries()[0]
        XCTAssertEqual(row["status"], "sent")
        XCTAssertEqual(row["attempts"], 1)
        XCTAssertNil(row["last_error"] as String?)
        XCTAssertNil(row["lease_id"] as String?)
        let attempts = try await harness.attempts(row["id"])
        XCTAssertEqual(attempts.map(\.outcome), ["sent"], "the stale attempt is not counted")
        let status = try await harness.invitationStatus(invitation.id)
        XCTAssertEqual(status, "sent", "not 'failed' from the stale sender")
    }

    func testAStaleSenderCannotRecordWhileTheNewerClaimIsStillSending() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir)
        try await harness.invite(ticket: "INC-LEASE-2")
        let start = Date()
        let backoff = Backoff(base: 1, max: 1)

        let outcome = try await harness.server.database.write { db -> String in
            let a = try XCTUnwrap(try Outbox.claim(db, leaseID: "lease-a", now: start, lease: 10, limit: 10).first)
            _ = try Outbox.claim(db, leaseID: "lease-b", now: start.addingTimeInterval(11), lease: 10, limit: 10)
            return try Outbox.record(
                db, job: a, result: .sent(status: 250, "SMTP 250"), startedAt: start, now: start.addingTimeInterval(12), maxAttempts: 5,
                backoff: backoff)
        }

        XCTAssertEqual(outcome, "stale")
        let row = try await harness.deliveries()[0]
        XCTAssertEqual(row["status"], "sending")
        XCTAssertEqual(row["lease_id"], "lease-b")
        XCTAssertEqual(row["attempts"], 0)
    }

    func testGracefulShutdownReleasesUnfinishedClaimsAtOnce() async throws {
        let dir = try makeTemporaryDirectory()
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("http.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.deliveryWebhookURL = "http://127.0.0.1:\(listener.port)/slow"
            $0.delivery.concurrency = 1
            $0.delivery.timeout = 30
            $0.delivery.shutdownGrace = 0.2
        }
        for n in 1...3 { try await harness.invite(ticket: "INC-STOP-\(n)") }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let group = ServiceGroup(services: [DeliveryService(dispatcher: harness.dispatcher, logger: logger)], logger: logger)

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // One send is in flight at the slow receiver (it answers after 5 s); two rows wait behind it.
            let received = await listener.waitForRecords(1, timeout: 10)
            XCTAssertEqual(received.count, 1)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }

        let rows = try await harness.deliveries()
        XCTAssertEqual(rows.count, 3)
        for row in rows {
            XCTAssertEqual(row["status"], "pending", "\(row)")
            XCTAssertNil(row["claimed_until"] as String?)
            XCTAssertNil(row["lease_id"] as String?)
            XCTAssertEqual(row["attempts"], 0, "an interrupted send is not a failed attempt")
        }
        // The next sender takes them now, not after the lease.
        let claimed = try await harness.server.database.write { db in
            try Outbox.claim(db, leaseID: "next-start", now: Date(), lease: 60, limit: 10)
        }
        XCTAssertEqual(claimed.count, 3)
    }

    func testAnAnalystReplyOnTheWebhookChannelArrivesAsASignedSurveyReply() async throws {
        let dir = try makeTemporaryDirectory()
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("http.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.deliveryWebhookURL = "http://127.0.0.1:\(listener.port)/ok/chat"
            $0.delivery.webhookSecret = "outbound-secret"
        }
        let (_, sam) = try await harness.server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst, assigneeID: "analyst-7")
        let token = try await buildApplication(harness.server).test(.live) { client -> String in
            let token = try await client.invitation(ticket: "INC-REPLY-HOOK")
            try await harness.deliverAll()
            let responseID = try await client.answer(token, score: 4, comment: "VPN still drops")
            let reply = try await client.post("/api/v1/responses/\(responseID)/replies", json: #"{"text":"We replaced the profile."}"#, token: sam)
            XCTAssertEqual(reply.status, .created, reply.text)
            return token
        }

        try await harness.deliverAll()

        let requests = await listener.waitForRecords(2)
        XCTAssertEqual(requests.count, 2, "the survey and the reply, both to the delivery webhook")
        let request = try XCTUnwrap(requests.last)
        let headers = try XCTUnwrap(request["headers"] as? [String: String])
        let body = Data(request.string("body").utf8)
        XCTAssertNoThrow(try SignatureVerifier(secret: "outbound-secret").verify(header: headers["X-Happydesk-Signature"], body: body))
        XCTAssertTrue(headers["Idempotency-Key"]?.hasPrefix("happydesk-delivery-") == true)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        XCTAssertEqual(json["type"] as? String, "survey.reply")
        XCTAssertEqual((json["reply"] as? [String: Any])?["text"] as? String, "We replaced the profile.")
        XCTAssertEqual((json["reply"] as? [String: Any])?["author"] as? String, "Sam Analyst")
        XCTAssertEqual(json["survey_url"] as? String, "http://surveys.test/s/\(token)")
        XCTAssertEqual(json["ticket_id"] as? String, "INC-REPLY-HOOK")
        XCTAssertEqual((json["requester"] as? [String: Any])?["email"] as? String, "ann@example.com")
        let rows = try await harness.deliveries()
        XCTAssertEqual(rows.map { $0["channel"] as String }, ["webhook", "webhook"])
        XCTAssertEqual(rows.map { $0["status"] as String }, ["sent", "sent"])
        let files = (try? FileManager.default.contentsOfDirectory(atPath: harness.server.settings.outboxDirectory)) ?? []
        XCTAssertEqual(files, [], "no .eml file")
    }

    func testPurgeKeepsTheSurveyRowsAndRemindersThatLaterRepliesAndThePolicyNeed() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir)
        let (_, sam) = try await harness.server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst, assigneeID: "analyst-7")
        let open = try await harness.invite(ticket: "INC-OPEN")
        let lapsed = try await harness.invite(ticket: "INC-LAPSED")
        let (answeredToken, responseID) = try await buildApplication(harness.server).test(.router) { client -> (String, Int64) in
            let token = try await client.invitation(ticket: "INC-ANSWERED")
            try await harness.deliverAll()
            return (token, try await client.answer(token, score: 6))
        }
        // Four days on: the open invitation gets its reminder; the lapsed one has run out.
        let later = Date().addingTimeInterval(4 * 86_400)
        try await harness.server.database.write { db in
            try db.execute(sql: "UPDATE invitations SET expires_at = ? WHERE id = ?", arguments: [Date().addingTimeInterval(-1), lapsed.id])
        }
        try await harness.dispatcher.applyPolicy(now: later)
        try await harness.dispatcher.drain(now: { later })

        let purged = try await OutboxAdmin(database: harness.server.database).purge(
            olderThan: later.addingTimeInterval(86_400), includeDead: true)

        XCTAssertEqual(purged, 1, "only the lapsed invitation's survey row")
        let kept = try await harness.deliveries().map { "\($0["invitation_id"] as Int64):\($0["purpose"] as String)" }
        XCTAssertEqual(kept, ["\(open.id):survey", "3:survey", "\(open.id):reminder"])
        // The policy does not queue a second reminder for the open invitation.
        try await harness.dispatcher.applyPolicy(now: later.addingTimeInterval(86_400))
        let reminders = try await harness.deliveries().filter { ($0["purpose"] as String) == "reminder" }
        XCTAssertEqual(reminders.count, 1)

        // A reply written after the purge still carries the link and threads under the survey.
        let found = try await harness.server.users.user(token: sam)
        let analyst = try XCTUnwrap(found)
        _ = try await harness.server.feedback.reply(by: analyst, responseID: responseID, text: "Thanks, noted")
        try await harness.deliverAll()
        let lastRow = try await harness.deliveries().last
        let replyRow = try XCTUnwrap(lastRow)
        XCTAssertEqual(replyRow["purpose"], "reply")
        XCTAssertEqual(replyRow["status"], "sent", "\(replyRow)")
        let replyFile = "\(harness.server.settings.outboxDirectory)/invitation-3.reply-\(replyRow["id"] as Int64)@happydesk.test.eml"
        let mail = try String(contentsOfFile: replyFile, encoding: .utf8)
        XCTAssertTrue(mail.contains("http://surveys.test/s/\(answeredToken)"))
        XCTAssertTrue(mail.contains("In-Reply-To: <invitation-3.survey@happydesk.test>"))
    }
}
