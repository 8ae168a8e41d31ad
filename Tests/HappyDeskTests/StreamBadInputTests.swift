import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// Every bad input the issue lists gets a clear 4xx or error frame, and the socket stays usable.
final class StreamBadInputTests: XCTestCase {
    func testMissingOrRevokedTokensAreRejectedWith401() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        _ = try await server.users.revoke(email: "pat@example.com")
        try await buildApplication(server).test(.router) { client in
            for path in ["/api/v1/events?after=0", "/api/v1/stream", "/api/v1/me"] {
                let none = try await client.get(path, token: nil)
                XCTAssertEqual(none.status, .unauthorized, path)
                XCTAssertEqual((none.json["error"] as? [String: Any])?["code"] as? String, "unauthorized")
                let revoked = try await client.get(path, token: people.pat)
                XCTAssertEqual(revoked.status, .unauthorized, path)
                XCTAssertTrue(revoked.errorMessage.contains("revoked"), revoked.errorMessage)
                let garbage = try await client.get(path, token: "hd_nonsense")
                XCTAssertEqual(garbage.status, .unauthorized, path)
            }
            let reply = try await client.post("/api/v1/responses/1/replies", json: #"{"text":"hi"}"#, token: nil)
            XCTAssertEqual(reply.status, .unauthorized)
            let badAfter = try await client.get("/api/v1/events?after=-3", token: people.sam)
            XCTAssertEqual(badAfter.status, .badRequest)
        }
    }

    func testTheWebSocketUpgradeItselfNeedsAValidToken() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        _ = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            do {
                let probe = try await StreamProbe.connect(port: port, token: "hd_revoked_or_unknown")
                _ = try await probe.finished()
                XCTFail("the upgrade should have been refused")
            } catch {
                XCTAssertTrue(
                    "\(error)".contains("401") || "\(error)".lowercased().contains("upgrade") || "\(error)".lowercased().contains("unauthorized"),
                    "\(error)")
            }
        }
    }

    func testAnotherAnalystsOrAnUnknownResponseGetsAnErrorNeverTheData() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let token = try await client.invitation(ticket: "INC-SAM")
            let samsResponse = try await client.answer(token, score: 3, comment: "secret comment")
            let pat = try await StreamProbe.connect(port: port, path: "/api/v1/stream?after=0", token: people.pat)

            for type in ["reply", "ack"] {
                let refused = try await pat.request(["type": type, "response_id": samsResponse, "text": "hello"])
                XCTAssertEqual(refused["type"] as? String, "error")
                XCTAssertEqual(refused["status"] as? Int, 403)
                XCTAssertFalse(String(describing: refused).contains("secret comment"))
            }
            let unknown = try await pat.request(["type": "reply", "response_id": 999_999, "text": "hello"])
            XCTAssertEqual(unknown["type"] as? String, "error")
            XCTAssertEqual(unknown["status"] as? Int, 404)
            XCTAssertEqual(unknown["code"] as? String, "unknown_response")

            for (path, body) in [("replies", #"{"text":"hi"}"#), ("ack", "{}"), ("messages", "")] {
                let response =
                    path == "messages"
                    ? try await client.get("/api/v1/responses/\(samsResponse)/messages", token: people.pat)
                    : try await client.post("/api/v1/responses/\(samsResponse)/\(path)", json: body, token: people.pat)
                XCTAssertEqual(response.status, .forbidden, path)
                XCTAssertFalse(response.text.contains("secret comment"))
            }
            let missing = try await client.post("/api/v1/responses/424242/replies", json: #"{"text":"hi"}"#, token: people.sam)
            XCTAssertEqual(missing.status, .notFound)
            let notANumber = try await client.post("/api/v1/responses/abc/ack", json: "{}", token: people.sam)
            XCTAssertEqual(notANumber.status, .notFound)

            // Nothing of Sam's reached Pat's socket.
            XCTAssertTrue(pat.events.isEmpty)
            try await pat.close()
        }
    }

    func testMalformedAndOverlongFramesGetErrorFramesAndTheSocketStaysUsable() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let token = try await client.invitation(ticket: "INC-BAD")
            let responseID = try await client.answer(token, score: 4)
            let sam = try await StreamProbe.connect(port: port, token: people.sam)

            try await sam.send("this is not json")
            let notJSON = try await sam.waitFor { ($0["type"] as? String) == "error" && ($0["code"] as? String) == "malformed_json" }
            XCTAssertEqual(notJSON["status"] as? Int, 400)

            try await sam.send(#"{"type":"reply","response_id":"#)
            try await sam.waitFor { ($0["type"] as? String) == "error" && ($0["code"] as? String) == "malformed_json" && $0["ref"] == nil }

            // A frame over 64 KB closes the socket with 1009 (AbuseLimitTests); the decoder refuses it before buffering.

            let tooLong = try await sam.request(["type": "reply", "response_id": responseID, "text": String(repeating: "é", count: 5001)])
            XCTAssertEqual(tooLong["code"] as? String, "text_too_long")
            let empty = try await sam.request(["type": "reply", "response_id": responseID, "text": "   "])
            XCTAssertEqual(empty["code"] as? String, "empty_text")
            let noID = try await sam.request(["type": "ack"])
            XCTAssertEqual(noID["code"] as? String, "invalid_field")
            let wrongType = try await sam.request(["type": "subscribe"])
            XCTAssertEqual(wrongType["code"] as? String, "unknown_type")
            let stringID = try await sam.request(["type": "ack", "response_id": "12"])
            XCTAssertEqual(stringID["type"] as? String, "error")

            // Exactly 5,000 characters is fine, and the same socket still works.
            let ok = try await sam.request(["type": "reply", "response_id": responseID, "text": String(repeating: "é", count: 5000)])
            XCTAssertEqual(ok["type"] as? String, "ok", "\(ok)")
            try await sam.waitFor { ($0["type"] as? String) == "message.created" }

            let rest = try await client.post(
                "/api/v1/responses/\(responseID)/replies", json: "{\"text\":\"\(String(repeating: "x", count: 5001))\"}", token: people.sam)
            XCTAssertEqual(rest.status, .badRequest)
            XCTAssertTrue(rest.errorMessage.contains("5000"), rest.errorMessage)
            let restJunk = try await client.post("/api/v1/responses/\(responseID)/replies", json: "nope", token: people.sam)
            XCTAssertEqual(restJunk.status, .badRequest)
            try await sam.close()
        }
    }

    func testRequesterMessagesNeedAnAnswerAndAValidLink() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        try await buildApplication(server).test(.router) { client in
            let token = try await client.invitation(ticket: "INC-R")
            let early = try await client.postForm("/s/\(token)/messages", "message=hello")
            XCTAssertEqual(early.status, .conflict)
            let unknown = try await client.postForm("/s/\(String(repeating: "A", count: 43))/messages", "message=hello")
            XCTAssertEqual(unknown.status, .notFound)
            try await client.answer(token, score: 9)
            let long = try await client.postForm("/s/\(token)/messages", "message=" + String(repeating: "x", count: 5001))
            XCTAssertEqual(long.status, .badRequest)
            XCTAssertTrue(long.text.contains("5000"))
        }
    }
}
