import Foundation
import GRDB
import XCTest

@testable import HappyDesk

/// Webhook posts through libcurl to a real HTTP listener on loopback, signature checked with the intake's verifier.
final class DeliveryWebhookTests: XCTestCase {
    func testSurveyWebhookIsSignedJSONWithStableIdempotencyKey() async throws {
        let dir = try makeTemporaryDirectory()
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("http.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.deliveryWebhookURL = "http://127.0.0.1:\(listener.port)/ok/surveys"
            $0.webhookSecret = "inbound-and-outbound"
        }
        let invitation = try await harness.invite(ticket: "INC-HOOK-1", locale: "de")

        try await harness.deliverAll()

        let requestFound = await listener.waitForRecords(1).first
        let request = try XCTUnwrap(requestFound)
        XCTAssertEqual(request.string("path"), "/ok/surveys")
        let headers = try XCTUnwrap(request["headers"] as? [String: String])
        let body = Data(request.string("body").utf8)
        XCTAssertNoThrow(try SignatureVerifier(secret: "inbound-and-outbound").verify(header: headers["X-Happydesk-Signature"], body: body))
        XCTAssertEqual(headers["Idempotency-Key"], "happydesk-invitation-\(invitation.id)-survey")
        XCTAssertEqual(headers["Content-Type"], "application/json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        XCTAssertEqual(json["type"] as? String, "survey.invitation")
        XCTAssertEqual(json["survey_url"] as? String, invitation.url)
        XCTAssertEqual((json["score_urls"] as? [String])?.last, "\(invitation.url)?score=10")
        XCTAssertEqual(json["question"] as? String, "Wie zufrieden sind Sie mit der Bearbeitung Ihrer Störung?")
        let status = try await harness.invitationStatus(invitation.id)
        XCTAssertEqual(status, "sent")
    }

    func testAnalystReplyOnTheWebhookChannelIsPostedToTheDeliveryWebhook() async throws {
        let dir = try makeTemporaryDirectory()
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("http.jsonl"))
        let harness = try DeliveryHarness(directory: dir) { $0.deliveryWebhookURL = "http://127.0.0.1:\(listener.port)/ok/chat" }
        let invitation = try await harness.invite(ticket: "INC-HOOK-REPLY")
        try await harness.deliverAll()
        try await harness.server.database.write { db in
            let sealed = try Data.fetchOne(db, sql: "SELECT sealed_token FROM deliveries WHERE invitation_id = ?", arguments: [invitation.id])
            try Outbox.enqueue(
                db, invitationID: invitation.id, purpose: .reply, channel: Outbox.defaultChannel(settings: harness.server.settings),
                sealedToken: sealed, payload: #"{"text":"Glad it works again!","author":"Sam Analyst"}"#, dueAt: Date(), now: Date()
            )
        }

        try await harness.deliverAll()

        let requests = await listener.waitForRecords(2)
        let reply = try XCTUnwrap(
            try requests.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.string("body").utf8)) as? [String: Any] })
        XCTAssertEqual(reply["type"] as? String, "survey.reply")
        XCTAssertEqual((reply["reply"] as? [String: Any])?["text"] as? String, "Glad it works again!")
        XCTAssertEqual(reply["survey_url"] as? String, invitation.url)
    }

    func testPayloadWebhookPostsTheBodyAndA500IsRetriedUntilDead() async throws {
        let dir = try makeTemporaryDirectory()
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("http.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.delivery.webhookSecret = "outbound"
            $0.delivery.maxAttempts = 3
        }
        let invitation = try await harness.invite(ticket: "INC-ALERT-1")
        let base = "http://127.0.0.1:\(listener.port)"
        try await harness.server.database.write { db in
            try Outbox.enqueue(
                db, invitationID: invitation.id, purpose: .alert, channel: .webhook, sealedToken: nil,
                payload: #"{"url":"\#(base)/ok/alert","body":{"score":0,"ticket":"INC-ALERT-1","factors":["not_solved"]}}"#, dueAt: Date(),
                now: Date()
            )
            try Outbox.enqueue(
                db, invitationID: invitation.id, purpose: .reopen, channel: .webhook, sealedToken: nil,
                payload: #"{"url":"\#(base)/fail/reopen","body":{"ticket":"INC-ALERT-1"}}"#, dueAt: Date(), now: Date()
            )
        }

        try await harness.deliverAll()

        let requests = await listener.waitForRecords(4)
        let alert = try XCTUnwrap(requests.first { $0.string("path") == "/ok/alert" })
        let alertBody = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(alert.string("body").utf8)) as? [String: Any])
        XCTAssertEqual(alertBody["score"] as? Int, 0, "a score of 0 is posted as 0")
        XCTAssertEqual(alertBody["factors"] as? [String], ["not_solved"])
        let headers = try XCTUnwrap(alert["headers"] as? [String: String])
        XCTAssertNoThrow(
            try SignatureVerifier(secret: "outbound").verify(header: headers["X-Happydesk-Signature"], body: Data(alert.string("body").utf8)))

        let reopens = requests.filter { $0.string("path") == "/fail/reopen" }
        XCTAssertEqual(reopens.count, 3)
        let keys = Set(reopens.compactMap { ($0["headers"] as? [String: String])?["Idempotency-Key"] })
        XCTAssertEqual(keys.count, 1, "the same key on every retry")
        let rows = try await harness.deliveries()
        let reopen = try XCTUnwrap(rows.first { $0["purpose"] == "reopen" })
        XCTAssertEqual(reopen["status"], "dead")
        let attempts = try await harness.attempts(reopen["id"])
        XCTAssertEqual(attempts.map(\.statusCode), [500, 500, 500])
        XCTAssertTrue(attempts.allSatisfy { ($0.detail ?? "").hasPrefix("HTTP 500") })
    }

    func testASlowReceiverTimesOutWithoutHoldingUpTheOthers() async throws {
        let dir = try makeTemporaryDirectory()
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("http.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.delivery.timeout = 1
            $0.delivery.maxAttempts = 1
        }
        let invitation = try await harness.invite(ticket: "INC-SLOWHOOK")
        let base = "http://127.0.0.1:\(listener.port)"
        try await harness.server.database.write { db in
            for path in ["slow", "ok/1", "ok/2", "ok/3", "redirect", "gone", "big"] {
                try Outbox.enqueue(
                    db, invitationID: invitation.id, purpose: .alert, channel: .webhook, sealedToken: nil,
                    payload: #"{"url":"\#(base)/\#(path)","body":{"n":1}}"#, dueAt: Date(), now: Date()
                )
            }
        }

        let started = Date()
        try await harness.deliverAll()
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)

        let rows = try await harness.deliveries().filter { $0["purpose"] == "alert" }
        let byPath = Dictionary(
            uniqueKeysWithValues: rows.map { row -> (String, SQLRow) in
                let payload: String = row["payload"]
                let path = payload.components(separatedBy: base).last?.components(separatedBy: "\"").first ?? ""
                return (path, row)
            })
        XCTAssertEqual(byPath["/slow"]?["status"], "dead")
        XCTAssertTrue((byPath["/slow"]?["last_error"] as String? ?? "").contains("curl error 28"))
        for path in ["/ok/1", "/ok/2", "/ok/3", "/big"] { XCTAssertEqual(byPath[path]?["status"], "sent", path) }
        XCTAssertEqual(byPath["/redirect"]?["status"], "dead", "redirects are not followed")
        XCTAssertEqual(byPath["/gone"]?["status"], "dead")
        let paths = listener.records().map { $0.string("path") }
        XCTAssertEqual(paths.filter { $0 == "/ok" }.count, 0, "the redirect target was never requested")
    }
}
