import Foundation
import GRDB
import XCTest

@testable import HappyDesk

/// Each fault is recorded on the attempt with curl's text, retried or dead-lettered, and never stops other sends.
final class DeliveryFaultTests: XCTestCase {
    func testUnreachableHostIsRetriedThenDeadLettered() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(freeTCPPort())"
            $0.delivery.maxAttempts = 3
        }
        let invitation = try await harness.invite(ticket: "INC-UNREACH-1")

        try await harness.deliverAll()

        let rowFound = try await harness.deliveries().first
        let row = try XCTUnwrap(rowFound)
        XCTAssertEqual(row["status"], "dead")
        XCTAssertEqual(row["attempts"], 3)
        let attempts = try await harness.attempts(row["id"])
        XCTAssertEqual(attempts.map(\.outcome), ["retry", "retry", "dead"])
        XCTAssertTrue(attempts.allSatisfy { $0.curlCode == 7 && ($0.detail ?? "").contains("onnect") }, "\(attempts)")
        let status = try await harness.invitationStatus(invitation.id)
        XCTAssertEqual(status, "failed")

        // An operator fixes the server and requeues: the invitation is pending again.
        let requeued = try await OutboxAdmin(database: harness.server.database).retry(ids: nil)
        XCTAssertEqual(requeued, 1)
        let after = try await harness.invitationStatus(invitation.id)
        XCTAssertEqual(after, "pending")
    }

    func testRequiredSTARTTLSAgainstAPlainServerFailsWithCurlsTLSText() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)"
            $0.delivery.smtpTLS = "required"
            $0.delivery.maxAttempts = 2
        }
        try await harness.invite(ticket: "INC-TLS-FAIL")

        try await harness.deliverAll()

        let rowFound = try await harness.deliveries().first
        let row = try XCTUnwrap(rowFound)
        XCTAssertEqual(row["status"], "dead")
        let attempts = try await harness.attempts(row["id"])
        XCTAssertTrue(attempts.allSatisfy { $0.curlCode == 64 }, "CURLE_USE_SSL_FAILED: \(attempts.map { $0.detail ?? "" })")
        XCTAssertEqual(smtp.records().count, 0, "nothing sent in clear")
    }

    func testUntrustedCertificateIsATLSFailure() async throws {
        let dir = try makeTemporaryDirectory()
        let (cert, key) = try makeSelfSignedCertificate(in: dir)
        let smtp = try PythonPeer(
            script: "smtp_server.py", arguments: ["--tls-cert", cert.path, "--tls-key", key.path], log: dir.appendingPathComponent("mail.jsonl")
        )
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://localhost:\(smtp.port)"
            $0.delivery.smtpTLS = "required"
            $0.delivery.maxAttempts = 1
        }
        try await harness.invite(ticket: "INC-TLS-CA")

        try await harness.deliverAll()

        let rowFound = try await harness.deliveries().first
        let row = try XCTUnwrap(rowFound)
        XCTAssertEqual(row["status"], "dead")
        let attemptFound = try await harness.attempts(row["id"]).first
        let attempt = try XCTUnwrap(attemptFound)
        XCTAssertEqual(attempt.curlCode, 60, "peer certificate cannot be authenticated: \(attempt.detail ?? "")")
    }

    func testPermanentAndTemporarySMTPRepliesAreTreatedDifferentlyWithoutBlockingOthers() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(
            script: "smtp_server.py", arguments: ["--reject", "bounce", "--tempfail", "later"], log: dir.appendingPathComponent("mail.jsonl")
        )
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)"
            $0.delivery.maxAttempts = 3
        }
        let bounce = try await harness.invite(ticket: "INC-550", email: "bounce@example.com")
        let later = try await harness.invite(ticket: "INC-451", email: "later@example.com")
        let fine = try await harness.invite(ticket: "INC-OK", email: "fine@example.com")

        // A 451 is "not now" (issue 12, item 8): the row is deferred without spending its attempt budget, so it
        // stays pending however often the relay says it. Run rounds until it has been deferred past maxAttempts.
        let deadline = Date().addingTimeInterval(15)
        var deferrals: [DeliveryAttempt] = []
        while Date() < deadline {
            try await harness.dispatcher.runOnce()
            let laterRow = try await harness.deliveries().first { $0["invitation_id"] == later.id }
            if let laterRow { deferrals = try await harness.attempts(laterRow["id"]) }
            if deferrals.count >= 5 { break }
            try await Task.sleep(for: .milliseconds(20))
        }

        let rows = try await harness.deliveries()
        func row(_ invitation: Int64) throws -> SQLRow { try XCTUnwrap(rows.first { $0["invitation_id"] == invitation }) }
        XCTAssertEqual(try row(bounce.id)["status"], "dead")
        XCTAssertEqual(try row(bounce.id)["attempts"], 1, "5xx is final at once")
        let bounceAttempts = try await harness.attempts(try row(bounce.id)["id"])
        XCTAssertEqual(bounceAttempts.first?.statusCode, 550)
        XCTAssertEqual(try row(later.id)["status"], "pending", "a 451 never dead-letters")
        XCTAssertEqual(try row(later.id)["attempts"], 0, "deferrals do not count towards the 3 attempts")
        XCTAssertGreaterThanOrEqual(deferrals.count, 5, "deferred more often than maxAttempts")
        XCTAssertTrue(deferrals.allSatisfy { $0.statusCode == 451 && $0.outcome == "retry" && ($0.detail ?? "").hasPrefix("deferred") })
        XCTAssertEqual(try row(fine.id)["status"], "sent")
        let mails = await smtp.waitForRecords(1)
        XCTAssertEqual(mails.map { $0["rcpt_tos"] as? [String] ?? [] }, [["fine@example.com"]])
    }

    func testASlowServerTimesOutAndIsRetried() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", arguments: ["--delay", "3"], log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)"
            $0.delivery.timeout = 0.5
            $0.delivery.connectTimeout = 0.5
            $0.delivery.maxAttempts = 2
        }
        try await harness.invite(ticket: "INC-SLOW")

        try await harness.deliverAll()

        let rowFound = try await harness.deliveries().first
        let row = try XCTUnwrap(rowFound)
        let attempts = try await harness.attempts(row["id"])
        XCTAssertEqual(attempts.map(\.outcome), ["retry", "dead"])
        XCTAssertTrue(attempts.allSatisfy { $0.curlCode == 28 }, "operation timed out: \(attempts.map { $0.detail ?? "" })")
    }

    func testAnInvalidRecipientAddressIsDeadLetteredWithoutContactingTheServer() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) { $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)" }
        let bad = try await harness.invite(ticket: "INC-BADADDR")
        let good = try await harness.invite(ticket: "INC-GOODADDR", email: "good@example.com")
        try await harness.server.database.write { db in
            try db.execute(
                sql: "UPDATE invitations SET requester_email = ? WHERE id = ?", arguments: ["ann@example.com>\r\nRCPT TO:<x@evil.test", bad.id])
        }

        try await harness.deliverAll()

        let rows = try await harness.deliveries()
        let badRow = try XCTUnwrap(rows.first { $0["invitation_id"] == bad.id })
        XCTAssertEqual(badRow["status"], "dead")
        XCTAssertTrue((badRow["last_error"] as String? ?? "").contains("invalid email address"))
        let mails = await smtp.waitForRecords(1)
        XCTAssertEqual(mails.map { $0["rcpt_tos"] as? [String] ?? [] }, [["good@example.com"]])
        let status = try await harness.invitationStatus(good.id)
        XCTAssertEqual(status, "sent")
    }

    func testEmailRowsWithoutAnSMTPServerSayWhatToConfigure() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir)
        let invitation = try await harness.invite(ticket: "INC-NOSMTP")
        try await harness.server.database.write { db in
            try db.execute(sql: "UPDATE deliveries SET channel = 'email' WHERE invitation_id = ?", arguments: [invitation.id])
        }

        try await harness.deliverAll()

        let rowFound = try await harness.deliveries().first
        let row = try XCTUnwrap(rowFound)
        XCTAssertEqual(row["status"], "dead")
        XCTAssertTrue((row["last_error"] as String? ?? "").contains("HAPPYDESK_SMTP_URL"))
    }
}
