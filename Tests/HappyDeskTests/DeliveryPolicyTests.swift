import Foundation
import GRDB
import XCTest

@testable import HappyDesk

/// Reminders, expiry and the policy notes shown by `happydesk outbox list`.
final class DeliveryPolicyTests: XCTestCase {
    func testOneReminderGoesOutAfterReminderDaysIfUnanswered() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir)
        let unanswered = try await harness.invite(ticket: "INC-REM-1")
        let answered = try await harness.invite(ticket: "INC-REM-2", email: "bob@example.com")
        try await harness.deliverAll()
        try await harness.server.database.write { db in
            try db.execute(sql: "UPDATE invitations SET status = 'answered' WHERE id = ?", arguments: [answered.id])
        }

        let early = try await harness.dispatcher.applyPolicy(now: Date().addingTimeInterval(2 * 86_400))
        XCTAssertEqual(early.reminders, 0, "the incident survey reminds after 3 days")
        let later = Date().addingTimeInterval(3 * 86_400 + 60)
        let due = try await harness.dispatcher.applyPolicy(now: later)
        XCTAssertEqual(due.reminders, 1)
        let again = try await harness.dispatcher.applyPolicy(now: later.addingTimeInterval(86_400))
        XCTAssertEqual(again.reminders, 0, "never a second reminder")
        try await harness.dispatcher.runOnce(now: later)

        let reminderFound = try await harness.deliveries().first { $0["purpose"] == "reminder" }
        let reminder = try XCTUnwrap(reminderFound)
        XCTAssertEqual(reminder["invitation_id"], unanswered.id)
        XCTAssertEqual(reminder["status"], "sent")
        let file = URL(fileURLWithPath: harness.server.settings.outboxDirectory)
            .appendingPathComponent("invitation-\(unanswered.id).reminder@happydesk.test.eml")
        let eml = try String(contentsOf: file, encoding: .utf8)
        XCTAssertTrue(eml.contains("In-Reply-To: <invitation-\(unanswered.id).survey@happydesk.test>"))
        XCTAssertTrue(eml.contains("\(unanswered.url)?score=0"))
    }

    func testExpiredInvitationsAreMarkedAndTheirUnsentMessagesCancelled() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir)
        let sent = try await harness.invite(ticket: "INC-EXP-1")
        try await harness.deliverAll()
        let waiting = try await harness.invite(ticket: "INC-EXP-2", email: "bob@example.com")

        let result = try await harness.dispatcher.applyPolicy(now: Date().addingTimeInterval(29 * 86_400))

        XCTAssertEqual(result.expired, 2)
        let sentStatus = try await harness.invitationStatus(sent.id)
        let waitingStatus = try await harness.invitationStatus(waiting.id)
        XCTAssertEqual(sentStatus, "expired")
        XCTAssertEqual(waitingStatus, "expired")
        let rowFound = try await harness.deliveries().first { $0["invitation_id"] == waiting.id }
        let row = try XCTUnwrap(rowFound)
        XCTAssertEqual(row["status"], "dead")
        XCTAssertEqual(row["last_error"], "cancelled: invitation expired before it was sent")
    }

    func testOutboxListShowsSkipsDelaysAndRetriesInWords() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir) { $0.smtpURL = "smtp://127.0.0.1:\(freeTCPPort())" }
        var sampledOut = harness.server.intake
        sampledOut.sample = { _ in false }
        let skipped = try await sampledOut.ingest(
            Closure(ticketID: "INC-SKIP", source: "jira", kind: .request, requester: .init(email: "cy@example.com"), assignee: .init(id: "a1"))
        )
        XCTAssertEqual(skipped.status, "skipped")
        let failing = try await harness.invite(ticket: "INC-RETRY")
        try await harness.dispatcher.runOnce()
        try await harness.server.database.write { db in
            try Outbox.enqueue(
                db, invitationID: failing.id, purpose: .reminder, channel: .email, sealedToken: nil, dueAt: Date().addingTimeInterval(86_400),
                now: Date())
        }

        let entries = try await OutboxAdmin(database: harness.server.database).list()

        let skip = try XCTUnwrap(entries.first { $0.ticketID == "INC-SKIP" })
        XCTAssertEqual(skip.status, "skipped")
        XCTAssertTrue(skip.note.hasPrefix("policy: sampled out"), skip.note)
        let retry = try XCTUnwrap(entries.first { $0.ticketID == "INC-RETRY" && $0.purpose == .survey })
        XCTAssertEqual(retry.status, "pending")
        XCTAssertEqual(retry.attempts, 1)
        XCTAssertTrue(retry.note.hasPrefix("retry 2 at"), retry.note)
        XCTAssertTrue((retry.lastError ?? "").contains("curl error 7"))
        let reminder = try XCTUnwrap(entries.first { $0.purpose == .reminder })
        XCTAssertTrue(reminder.note.hasPrefix("policy: reminder due"), reminder.note)
    }
}
