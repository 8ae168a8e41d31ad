import Foundation
import GRDB
import XCTest

@testable import HappyDesk

/// At-least-once delivery with recognisable resends: an SMTP outage, then a crash mid-send.
final class DeliveryOutageTests: XCTestCase {
    func testEveryInvitationArrivesExactlyOnceAfterAnSMTPOutage() async throws {
        let dir = try makeTemporaryDirectory()
        let port = freeTCPPort()
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(port)"
            $0.delivery.maxAttempts = 100
        }
        var invitations: [Int64] = []
        for number in 1...12 {
            invitations.append(try await harness.invite(ticket: "INC-OUT-\(number)", email: "user\(number)@example.com").id)
        }

        // The server is down: every round fails, is recorded and rescheduled.
        let downUntil = Date().addingTimeInterval(0.6)
        while Date() < downUntil {
            try await harness.dispatcher.runOnce()
            try await Task.sleep(for: .milliseconds(30))
        }
        let failed = try await harness.server.database.read { db in
            try SQLRow.fetchAll(db, sql: "SELECT outcome, curl_code, detail FROM delivery_attempts")
        }
        XCTAssertGreaterThanOrEqual(failed.count, 12)
        XCTAssertTrue(failed.allSatisfy { $0["outcome"] == "retry" && $0["curl_code"] == 7 }, "connection refused is retried")
        let pending = try await harness.deliveries()
        XCTAssertTrue(pending.allSatisfy { $0["status"] == "pending" && ($0["last_error"] as String? ?? "").contains("curl error 7") })

        // It comes back on the same port.
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"), port: port)
        try await harness.deliverAll()

        let mails = await smtp.waitForRecords(12)
        let ids = mails.map { $0.string("message_id") }
        XCTAssertEqual(ids.count, 12, "none lost, none doubled")
        XCTAssertEqual(Set(ids), Set(invitations.map { "<invitation-\($0).survey@happydesk.test>" }))
        let rows = try await harness.deliveries()
        XCTAssertTrue(rows.allSatisfy { $0["status"] == "sent" && ($0["attempts"] as Int) >= 2 })
        for id in invitations {
            let status = try await harness.invitationStatus(id)
            XCTAssertEqual(status, "sent")
        }
    }

    func testARowClaimedByASenderThatDiedIsSentAgainWithTheSameMessageID() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) { $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)" }
        let invitation = try await harness.invite(ticket: "INC-CRASH-1")

        // A sender claims the row and dies before recording anything.
        let claimed = try await harness.server.database.write { db in try Outbox.claim(db, leaseID: "died", now: Date(), lease: 60, limit: 10) }
        XCTAssertEqual(claimed.count, 1)
        let whileLeased = try await harness.dispatcher.runOnce()
        XCTAssertEqual(whileLeased, 0, "a leased row is not sent twice at once")

        // After the lease runs out, another round picks it up.
        let handled = try await harness.dispatcher.runOnce(now: Date().addingTimeInterval(61))
        XCTAssertEqual(handled, 1)
        let mails = await smtp.waitForRecords(1)
        XCTAssertEqual(mails.map { $0.string("message_id") }, ["<invitation-\(invitation.id).survey@happydesk.test>"])
        let rowFound = try await harness.deliveries().first
        let row = try XCTUnwrap(rowFound)
        XCTAssertEqual(row["status"], "sent")
    }
}
