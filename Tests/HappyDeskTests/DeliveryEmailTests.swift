import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// Survey emails sent through libcurl to a real aiosmtpd on loopback, parsed by Python's `email` package.
final class DeliveryEmailTests: XCTestCase {
    func testSurveyEmailArrivesAsMultipartWithOneClickLinksThatWork() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) { $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)" }
        let invitation = try await harness.invite(ticket: "INC0010001")

        try await harness.deliverAll()

        let mails = await smtp.waitForRecords(1)
        XCTAssertEqual(mails.count, 1)
        let mail = try XCTUnwrap(mails.first)
        XCTAssertEqual(mail["rcpt_tos"] as? [String], ["ann@example.com"])
        XCTAssertEqual(mail.string("mail_from"), "desk@happydesk.test")
        XCTAssertEqual(mail.string("content_type"), "multipart/alternative")
        XCTAssertEqual(mail["defects"] as? [String], [])
        XCTAssertEqual(mail.string("subject"), "How did we do? – INC0010001")
        XCTAssertEqual(mail.string("message_id"), "<invitation-\(invitation.id).survey@happydesk.test>")
        XCTAssertEqual(mail.string("to"), "Ann Example <ann@example.com>")
        XCTAssertTrue(mail.string("raw").contains("\r\n"), "CRLF line endings")
        XCTAssertFalse(mail.string("raw").replacingOccurrences(of: "\r\n", with: "").contains("\n"), "no bare LF")

        let text = mail.string("text")
        let html = mail.string("html")
        XCTAssertTrue(text.contains("How happy are you with the way your incident was handled?"))
        XCTAssertTrue(text.contains(invitation.url))
        XCTAssertTrue(html.contains("How happy are you with the way your incident was handled?"))
        for score in 0...10 {
            XCTAssertTrue(html.contains("href=\"\(invitation.url)?score=\(score)\""), "button \(score)")
            XCTAssertTrue(text.contains("\(invitation.url)?score=\(score)"))
        }
        XCTAssertTrue(html.contains(">\(invitation.url)</a>"), "plain link in the HTML part")

        // The link in the email opens the survey page.
        let token = try XCTUnwrap(invitation.url.split(separator: "/").last)
        try await buildApplication(harness.server).test(.router) { client in
            let page = try await client.execute(uri: "/s/\(token)?score=9", method: .get)
            XCTAssertEqual(page.status, .ok)
        }

        let status = try await harness.invitationStatus(invitation.id)
        XCTAssertEqual(status, "sent")
        let deliveryIDFound: Int64? = try await harness.deliveries().first?["id"]
        let deliveryID: Int64 = try XCTUnwrap(deliveryIDFound)
        let attempts = try await harness.attempts(deliveryID)
        XCTAssertEqual(attempts.map(\.outcome), ["sent"])
        XCTAssertEqual(attempts.first?.statusCode, 250)
    }

    func testGermanRequesterGetsUTF8SubjectNameAndTextInTheirLanguage() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) { $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)" }
        try await harness.invite(ticket: "INC-DE-1", email: "joerg@example.com", name: "Jörg Müller-Lüdenscheidt", locale: "de-DE")

        try await harness.deliverAll()

        let mailFound = await smtp.waitForRecords(1).first
        let mail = try XCTUnwrap(mailFound)
        XCTAssertEqual(mail.string("subject"), "Wie waren wir? – INC-DE-1")
        XCTAssertEqual(mail.string("to"), "Jörg Müller-Lüdenscheidt <joerg@example.com>")
        let rawHeaders = try XCTUnwrap(mail["raw_headers"] as? [[String]])
        let rawSubject = try XCTUnwrap(rawHeaders.first { $0.first == "Subject" }?.last)
        XCTAssertTrue(rawSubject.hasPrefix("=?UTF-8?B?"), "subject is RFC 2047 encoded: \(rawSubject)")
        XCTAssertTrue(rawHeaders.allSatisfy { $0.joined().unicodeScalars.allSatisfy(\.isASCII) }, "headers are 7-bit")
        XCTAssertTrue(mail.string("text").contains("Wie zufrieden sind Sie mit der Bearbeitung Ihrer Störung?"))
        XCTAssertTrue(mail.string("html").contains("Hallo Jörg Müller-Lüdenscheidt,"))
    }

    func testStartTLSWithAuthAndACAFileDelivers() async throws {
        let dir = try makeTemporaryDirectory()
        let (cert, key) = try makeSelfSignedCertificate(in: dir)
        let smtp = try PythonPeer(
            script: "smtp_server.py",
            arguments: ["--tls-cert", cert.path, "--tls-key", key.path, "--require-tls", "--auth", "desk:s3cret"],
            log: dir.appendingPathComponent("mail.jsonl")
        )
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://localhost:\(smtp.port)"
            $0.delivery.smtpTLS = "required"
            $0.delivery.smtpCAFile = cert.path
            $0.delivery.smtpUser = "desk"
            $0.delivery.smtpPassword = "s3cret"
        }
        let invitation = try await harness.invite(ticket: "INC-TLS-1")

        try await harness.deliverAll()

        let mailFound = await smtp.waitForRecords(1).first
        let mail = try XCTUnwrap(mailFound)
        XCTAssertEqual(mail["tls"] as? Bool, true)
        XCTAssertEqual(mail.string("auth"), "desk")
        XCTAssertTrue(mail.string("html").contains("\(invitation.url)?score=10"))
    }

    func testWrongPasswordIsRecordedAndDeadLettered() async throws {
        let dir = try makeTemporaryDirectory()
        let (cert, key) = try makeSelfSignedCertificate(in: dir)
        let smtp = try PythonPeer(
            script: "smtp_server.py", arguments: ["--tls-cert", cert.path, "--tls-key", key.path, "--auth", "desk:s3cret"],
            log: dir.appendingPathComponent("mail.jsonl")
        )
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://localhost:\(smtp.port)"
            $0.delivery.smtpTLS = "required"
            $0.delivery.smtpCAFile = cert.path
            $0.delivery.smtpUser = "desk"
            $0.delivery.smtpPassword = "wrong"
            $0.delivery.maxAttempts = 2
        }
        try await harness.invite(ticket: "INC-AUTH-1")

        try await harness.deliverAll()

        let rowFound = try await harness.deliveries().first
        let row = try XCTUnwrap(rowFound)
        XCTAssertEqual(row["status"], "dead")
        let attempts = try await harness.attempts(row["id"])
        XCTAssertFalse(attempts.isEmpty)
        XCTAssertTrue(attempts.allSatisfy { $0.curlCode == 67 }, "login denied: \(attempts.map { $0.detail ?? "" })")
        XCTAssertEqual(smtp.records().count, 0)
    }

    func testControlCharactersInNamesCannotInjectHeaders() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) { $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)" }
        let invitation = try await harness.invite(ticket: "INC-EVE-1")
        // Intake refuses control characters; this simulates a row written by some other path.
        try await harness.server.database.write { db in
            try db.execute(
                sql: "UPDATE invitations SET requester_name = ? WHERE id = ?",
                arguments: ["Eve\r\nBcc: victim@example.com\r\nSubject: pwned", invitation.id]
            )
        }

        try await harness.deliverAll()

        let mailFound = await smtp.waitForRecords(1).first
        let mail = try XCTUnwrap(mailFound)
        let headers = try XCTUnwrap(mail["headers"] as? [[String]]).compactMap(\.first).map { $0.lowercased() }
        XCTAssertFalse(headers.contains("bcc"))
        XCTAssertEqual(headers.filter { $0 == "subject" }.count, 1)
        XCTAssertEqual(mail["rcpt_tos"] as? [String], ["ann@example.com"])
        XCTAssertEqual(mail.string("subject"), "How did we do? – INC-EVE-1")
        XCTAssertTrue(mail.string("to").hasSuffix("<ann@example.com>"))
        XCTAssertFalse(mail.string("to").contains("\n"))
    }

    func testABatchReusesConnectionsInsteadOfOnePerEmail() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)"
            $0.delivery.concurrency = 3
        }
        for number in 1...30 {
            try await harness.invite(ticket: "INC-BATCH-\(number)", email: "user\(number)@example.com")
        }

        try await harness.deliverAll()

        let mails = await smtp.waitForRecords(30)
        XCTAssertEqual(mails.count, 30)
        XCTAssertEqual(Set(mails.map { $0.string("message_id") }).count, 30)
        let connections = Set(mails.compactMap { $0["connection"] as? Int })
        XCTAssertLessThanOrEqual(connections.count, 3, "30 emails over at most one connection per worker")
    }

    func testAnalystReplyReachesTheRequesterWithTheSurveyLink() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) { $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)" }
        let invitation = try await harness.invite(ticket: "INC-REPLY-1")
        try await harness.deliverAll()
        try await harness.server.database.write { db in
            let sealed = try Data.fetchOne(
                db, sql: "SELECT sealed_token FROM deliveries WHERE invitation_id = ? AND purpose = 'survey'", arguments: [invitation.id])
            try Outbox.enqueue(
                db, invitationID: invitation.id, purpose: .reply, channel: .email, sealedToken: sealed,
                payload: #"{"text":"Thanks Ann! <b>Fixed</b> the VPN profile.\nPing me if it happens again.","author":"Zoë Analyst"}"#, dueAt: Date(),
                now: Date()
            )
        }

        try await harness.deliverAll()

        let mails = await smtp.waitForRecords(2)
        let reply = try XCTUnwrap(mails.last)
        XCTAssertEqual(reply.string("subject"), "Zoë Analyst replied to your feedback on INC-REPLY-1")
        XCTAssertTrue(reply.string("message_id").hasPrefix("<invitation-\(invitation.id).reply-"))
        XCTAssertTrue(reply.string("text").contains("> Thanks Ann! <b>Fixed</b> the VPN profile."))
        XCTAssertTrue(reply.string("html").contains("Thanks Ann! &lt;b&gt;Fixed&lt;/b&gt; the VPN profile."))
        XCTAssertTrue(reply.string("html").contains(invitation.url))
        XCTAssertTrue(reply.string("text").contains(invitation.url))
    }
}
