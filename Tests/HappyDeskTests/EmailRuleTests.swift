import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// Intake accepts exactly the addresses delivery can send: internationalised domains in their ASCII form, a
/// non-ASCII local part only when the relay offers SMTPUTF8; anything else is a 400 that says why.
final class EmailRuleTests: XCTestCase {
    func testTheRuleNormalisesDomainsAndRefusesWhatCannotBeSent() throws {
        XCTAssertEqual(try EmailAddress.deliverable("anna@bücher.example"), "anna@xn--bcher-kva.example")
        XCTAssertEqual(try EmailAddress.deliverable("x@MÜNCHEN.de"), "x@xn--mnchen-3ya.de")
        XCTAssertEqual(Punycode.encode("bücher"), "bcher-kva")
        XCTAssertEqual(Punycode.encode("例え"), "r8jz45g")
        // Decomposed ö (o + U+0308) is composed first, so both spellings are one address.
        XCTAssertEqual(try EmailAddress.deliverable("jo\u{0308}rg@example.test"), "jörg@example.test")
        XCTAssertThrowsError(try EmailAddress.deliverable("jörg@example.test", utf8LocalPart: false)) { error in
            XCTAssertTrue("\(error)".contains("SMTPUTF8"), "\(error)")
        }
        for bad in [
            "ann\u{FF20}example.com", "ann@exa mple.com", "an\u{0000}n@example.com", "\u{0301}ann@example.com", "ann@ex\u{200B}ample.com",
            "\"ann\"@example.com", "ann@", "@example.com", "ann@example..com", "ann@-example.com", "ann@[127.0.0.1]",
        ] {
            XCTAssertThrowsError(try EmailAddress.deliverable(bad), bad.debugDescription)
        }
    }

    private static func post(_ client: some TestClientProtocol, ticket: String, email: String) async throws -> TestResponse {
        try await client.postJSON(
            "/api/v1/closures", closureJSON(ticket: ticket, email: email), headers: [.authorization: "Bearer \(testIntegrationToken)"])
    }

    func testWithoutSMTPUTF8AnIDNDomainIsSentInASCIIAndANonASCIILocalPartIsRefusedAtIntake() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", arguments: ["--no-smtputf8"], log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) { $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)" }
        XCTAssertFalse(harness.server.settings.delivery.smtpUTF8, "the relay's EHLO does not offer SMTPUTF8")
        try await buildApplication(harness.server).test(.live) { client in
            let refused = try await Self.post(client, ticket: "INC-UTF8-1", email: "jörg@example.test")
            XCTAssertEqual(refused.status, .badRequest, refused.text)
            XCTAssertTrue(refused.errorMessage.contains("requester.email"), refused.errorMessage)
            XCTAssertTrue(refused.errorMessage.contains("SMTPUTF8"), refused.errorMessage)
            let accepted = try await Self.post(client, ticket: "INC-IDN-1", email: "anna@bücher.example")
            XCTAssertEqual(accepted.status, .created, accepted.text)
        }
        try await harness.deliverAll()
        let mails = await smtp.waitForRecords(1)
        XCTAssertEqual(mails.first?["rcpt_tos"] as? [String], ["anna@xn--bcher-kva.example"])
        let rows = try await harness.deliveries()
        XCTAssertEqual(rows.map { $0["status"] as String }, ["sent"], "nothing dead-lettered, the refused closure stored nothing")
        let stored = try await harness.server.database.read { db in try String.fetchAll(db, sql: "SELECT requester_email FROM closures") }
        XCTAssertEqual(stored, ["anna@xn--bcher-kva.example"])
    }

    func testWithSMTPUTF8ANonASCIILocalPartIsAcceptedAndDelivered() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) { $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)" }
        XCTAssertTrue(harness.server.settings.delivery.smtpUTF8, "aiosmtpd's EHLO offers SMTPUTF8")
        try await buildApplication(harness.server).test(.live) { client in
            let accepted = try await Self.post(client, ticket: "INC-UTF8-2", email: "jörg@example.test")
            XCTAssertEqual(accepted.status, .created, accepted.text)
        }
        try await harness.deliverAll()
        let mails = await smtp.waitForRecords(1)
        let outcome = try await harness.deliveries().map { "\($0["status"] as String) \($0["last_error"] as String? ?? "")" }
        let mail = try XCTUnwrap(
            mails.first, "\(outcome) \((try? String(contentsOf: dir.appendingPathComponent("mail.jsonl"), encoding: .utf8))?.prefix(400) ?? "no log")"
        )
        XCTAssertEqual(mail["rcpt_tos"] as? [String], ["jörg@example.test"])
        XCTAssertTrue((mail["mail_options"] as? [String] ?? []).contains("SMTPUTF8"), "\(mail["mail_options"] ?? "")")
        let rows = try await harness.deliveries()
        XCTAssertEqual(rows.map { $0["status"] as String }, ["sent"])
    }
}
