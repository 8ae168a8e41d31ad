import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// Hostile bytes over a real socket (`.live`), where a trap would take the whole server down: each gets
/// a 4xx naming the problem, nothing is half-written, and the server answers the next request.
final class ParserLiveTests: XCTestCase {
    static let secret = "s3cret"

    /// Issue 9's crash: `curl -H 'X-Happydesk-Signature: t=1,v1=é' -d '{}' :8080/api/v1/closures`.
    func testAnAccentInTheSignatureIsA401NamingTheHeaderAndTheServerKeepsServing() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory(), secret: Self.secret)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            // Byte for byte what curl sends.
            let curl = RawHTTP.request(
                target: Array("/api/v1/closures".utf8),
                headers: [Array("X-Happydesk-Signature: t=1,v1=é".utf8), Array("Content-Type: application/x-www-form-urlencoded".utf8)],
                body: Array("{}".utf8))
            let answer = try await RawHTTP.send(port: port, curl)
            XCTAssertEqual(answer.status, 401, answer.head)
            XCTAssertTrue(answer.body.contains("X-Happydesk-Signature"), answer.body)

            let again = try await client.execute(
                uri: "/api/v1/closures", method: .post, headers: [.happydeskSignature: "t=1,v1=é"], body: ByteBuffer(string: "{}"))
            XCTAssertEqual(again.status, .unauthorized)
            XCTAssertTrue(again.errorMessage.contains("X-Happydesk-Signature"), again.errorMessage)

            let hub = try await client.execute(
                uri: "/api/v1/closures/jira", method: .post, headers: [.hubSignature: "sha256=é"], body: ByteBuffer(string: "{}"))
            XCTAssertEqual(hub.status, .unauthorized)
            XCTAssertTrue(hub.errorMessage.contains("X-Hub-Signature"), hub.errorMessage)

            // Still serving: a health check and a correctly signed closure.
            let health = try await RawHTTP.send(port: port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            XCTAssertEqual(health.status, 200)
            let body = closureJSON()
            let signed = try await client.postJSON(
                "/api/v1/closures", body, headers: [.happydeskSignature: SignatureVerifier(secret: Self.secret).sign(body: Data(body.utf8))])
            XCTAssertEqual(signed.status, .created, signed.text)
        }
    }

    /// Bytes NIO's parser refuses (a raw `é` in the path, `Content-Length: abc`, a TLS hello on the HTTP
    /// port) used to leave the socket open and silent until the idle timeout: now a 400 at once, then close.
    func testBytesThatAreNotHTTPGetA400AtOnceAndTheConnectionCloses() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let requests: [[UInt8]] = [
                Array("GET /s/".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
                Array("POST /api/v1/closures HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}".utf8),
                [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03, 0x0D, 0x0A, 0x0D, 0x0A],
                Array("GET / HTTP/1.1\r\nHost: x\r\nX-Bad".utf8) + [0x01] + Array(": 1\r\n\r\n".utf8),
            ]
            for request in requests {
                let started = ContinuousClock.now
                // No `Connection: close` and no half-close: the server itself must end the connection.
                let answer = try await RawHTTP.send(port: port, request, timeout: 10)
                XCTAssertEqual(answer.status, 400, "\(request.prefix(40)): \(answer.head)")
                XCTAssertTrue(answer.body.contains("malformed_http"), answer.body)
                XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "closed at once, not at the idle timeout")
            }
            // A good request followed by garbage on the same connection still gets its own answer.
            let pipelined = Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /".utf8) + [0xC3] + Array(" HTTP/1.1\r\n\r\n".utf8)
            let first = try await RawHTTP.send(port: port, pipelined, timeout: 10)
            XCTAssertEqual(first.status, 200, first.head)
            let health = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(health.status, .ok)
        }
    }

    /// Random headers, bodies, paths, query strings and cookies, some correctly signed so they reach the
    /// JSON and validation code: no answer is a 5xx and the server is up after every batch.
    func testRandomBytesInEveryParsedPlaceNeverGetAServerError() async throws {
        let directory = try makeTemporaryDirectory()
        let server = try makeServer(directory: directory, secret: Self.secret)
        let people = try await StreamPeople.add(to: server)
        let signer = SignatureVerifier(secret: Self.secret)
        let jira = try Array(Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/jira_issue_updated_resolved.json")))
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let body = closureJSON(ticket: "INC-LIVE-1")
            let created = try await client.postJSON("/api/v1/closures", body, headers: [.happydeskSignature: signer.sign(body: Data(body.utf8))])
            XCTAssertEqual(created.status, .created, created.text)
            let token = String((created.json["survey_url"] as? String ?? "").split(separator: "/").last ?? "")

            var fuzz = FuzzInput(seed: 900)
            var statuses: [Int: Int] = [:]
            for round in 0..<80 {
                let (request, what) = Self.randomRequest(&fuzz, token: token, people: people, signer: signer, jira: jira)
                let answer = try await RawHTTP.send(port: port, request, timeout: 2)
                statuses[answer.status ?? 0, default: 0] += 1
                if let status = answer.status {
                    XCTAssertLessThan(status, 500, "round \(round) \(what): \(answer.head)\n\(answer.body.prefix(300))")
                }
                if round % 25 == 24 {
                    let health = try await client.execute(uri: "/healthz", method: .get)
                    XCTAssertEqual(health.status, .ok, "server stopped answering after round \(round)")
                }
            }
            XCTAssertGreaterThan(statuses.filter { (400..<500).contains($0.key) }.values.reduce(0, +), 20, "\(statuses)")
            let health = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(health.status, .ok)
        }
    }

    /// Text frames of random shape on an open stream socket: each gets an error frame, the socket stays open.
    func testRandomStreamFramesGetErrorFramesAndTheSocketKeepsWorking() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let token = try await client.invitation(ticket: "INC-FRAMES")
            let responseID = try await client.answer(token, score: 4)
            let sam = try await StreamProbe.connect(port: port, token: people.sam)
            var fuzz = FuzzInput(seed: 901)
            let fragments = [
                "{", "}", "\"type\":", "\"reply\"", "\"ack\"", "\"response_id\":", "\(responseID)", "1e400", "\"text\":", "\"ref\":", ",",
            ]
            let count = 200
            for _ in 0..<count {
                var text = fuzz.string(fragments: fragments)
                // A frame the server can answer but never act on: no valid type survives this prefix.
                text = "!" + text
                try await sam.send(text)
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while sam.frames.filter({ ($0["type"] as? String) == "error" }).count < count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let errors = sam.frames.filter { ($0["type"] as? String) == "error" }
            XCTAssertEqual(errors.count, count)
            XCTAssertTrue(errors.allSatisfy { ($0["status"] as? Int).map { (400..<500).contains($0) } == true }, "\(errors.prefix(3))")
            let ok = try await sam.request(["type": "reply", "response_id": responseID, "text": "still here"])
            XCTAssertEqual(ok["type"] as? String, "ok", "\(ok)")
            try await sam.close()
        }
    }

    // MARK: text limits (issue 9, item 10)

    /// "e" and 5,000 combining accents is one Swift `Character` but 5,001 for SQLite's `length()`: it must be
    /// a 400 naming the field, not a failed CHECK (500), and nothing may be stored.
    func testCombiningMarkFloodsAre400sNamingTheFieldAndNothingIsStored() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        let flood = "e" + String(repeating: "\u{301}", count: 5000)
        XCTAssertEqual(flood.count, 1)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let token = try await client.invitation(ticket: "INC-FLOOD")

            // The survey comment, as the form posts it and as JSON.
            let form = try await client.postForm("/s/\(token)", "score=3&comment=" + ParserFuzzTests.formEncode(flood))
            XCTAssertEqual(form.status, .badRequest)
            XCTAssertTrue(form.text.contains("comment is 5001 characters"), form.text)
            let json = try await client.postJSON("/s/\(token)", #"{"score":3,"comment":"\#(flood)"}"#)
            XCTAssertEqual(json.status, .badRequest)
            XCTAssertTrue(json.errorMessage.contains("comment"), json.errorMessage)
            let stored = try await server.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM responses") }
            XCTAssertEqual(stored, 0, "no response was saved")

            let responseID = try await client.answer(token, score: 3, comment: "fine")
            // An analyst reply over REST and over the socket, a kudos, and the requester's answer back.
            let reply = try await client.post("/api/v1/responses/\(responseID)/replies", json: #"{"text":"\#(flood)"}"#, token: people.sam)
            XCTAssertEqual(reply.status, .badRequest, reply.text)
            XCTAssertTrue(reply.errorMessage.hasPrefix("text is 5001 characters"), reply.errorMessage)
            let kudos = try await client.post("/api/v1/responses/\(responseID)/kudos", json: #"{"text":"\#(flood)"}"#, token: people.morgan)
            XCTAssertEqual(kudos.status, .badRequest, kudos.text)
            XCTAssertTrue(kudos.errorMessage.contains("text"), kudos.errorMessage)
            let nul = try await client.post("/api/v1/responses/\(responseID)/replies", json: #"{"text":"\u0000hello"}"#, token: people.sam)
            XCTAssertEqual(nul.status, .badRequest, "SQLite's length() stops at NUL, so the CHECK would fail: \(nul.text)")
            XCTAssertTrue(nul.errorMessage.contains("NUL"), nul.errorMessage)
            let answerBack = try await client.postJSON("/s/\(token)/messages", #"{"text":"\#(flood)"}"#)
            XCTAssertEqual(answerBack.status, .badRequest, answerBack.text)
            XCTAssertTrue(answerBack.errorMessage.contains("message"), answerBack.errorMessage)
            let sam = try await StreamProbe.connect(port: port, token: people.sam)
            let frame = try await sam.request(["type": "reply", "response_id": responseID, "text": flood])
            XCTAssertEqual(frame["code"] as? String, "text_too_long")
            XCTAssertEqual(frame["status"] as? Int, 400)

            let rows = try await server.database.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM messages"), try Int.fetchOne(db, sql: "SELECT count(*) FROM kudos"))
            }
            XCTAssertEqual(rows.0, 0)
            XCTAssertEqual(rows.1, 0)

            // Exactly at the limit in code points is stored, and the server kept serving throughout.
            let limit = "e" + String(repeating: "\u{301}", count: 4999)
            let ok = try await sam.request(["type": "reply", "response_id": responseID, "text": limit])
            XCTAssertEqual(ok["type"] as? String, "ok", "\(ok)")
            let length = try await server.database.read { db in try Int.fetchOne(db, sql: "SELECT length(text) FROM messages") }
            XCTAssertEqual(length, 5000)
            try await sam.close()
        }
    }

    // MARK: random requests

    static func randomRequest(
        _ fuzz: inout FuzzInput, token: String, people: StreamPeople, signer: SignatureVerifier, jira: [UInt8]
    ) -> ([UInt8], String) {
        /// Header-safe bytes: CR and LF would end the header, which tests framing rather than our parsers.
        func headerBytes(_ bytes: [UInt8]) -> [UInt8] { bytes.map { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 ? UInt8(ascii: "x") : $0 } }
        /// Path-safe bytes: a space or control would end the request target.
        func pathBytes(_ bytes: [UInt8]) -> [UInt8] { bytes.map { $0 <= 0x20 || $0 == 0x7F ? UInt8(ascii: "%") : $0 } }
        let bearer = Array("Authorization: Bearer \(people.sam)".utf8)
        let manager = Array("Authorization: Bearer \(people.morgan)".utf8)
        let json = Array("Content-Type: application/json".utf8)
        let formType = Array("Content-Type: application/x-www-form-urlencoded".utf8)
        switch fuzz.int(0...9) {
        case 0:
            let header = headerBytes(fuzz.bytes(fragments: ["t=", "v1=", ",", "1795000000", "é", "ab"]))
            return (
                RawHTTP.request(
                    target: Array("/api/v1/closures".utf8), headers: [Array("X-Happydesk-Signature: ".utf8) + header, json], body: Array("{}".utf8)),
                "signature header"
            )
        case 1:
            let header = headerBytes(fuzz.bytes(fragments: ["sha256=", "ab", "é"]))
            return (
                RawHTTP.request(target: Array("/api/v1/closures/jira".utf8), headers: [Array("X-Hub-Signature: ".utf8) + header, json], body: jira),
                "hub header"
            )
        case 2, 3:
            // Correctly signed, so the body reaches JSON decoding, validation and intake.
            let body = fuzz.mutate(Array(closureJSON(ticket: "INC-R\(fuzz.int(0...20))").utf8))
            let signature = Array(signer.sign(body: Data(body)).utf8)
            return (
                RawHTTP.request(
                    target: Array("/api/v1/closures".utf8), headers: [Array("X-Happydesk-Signature: ".utf8) + signature, json], body: body),
                "signed closure body"
            )
        case 4:
            let body = fuzz.mutate(jira, fragments: ["\"Done\"", "null", "{", "1e400"])
            let signature = Array(signer.hubSignature(body: body).utf8)
            return (
                RawHTTP.request(
                    target: Array("/api/v1/closures/jira".utf8), headers: [Array("X-Hub-Signature: ".utf8) + signature, json], body: body),
                "signed jira body"
            )
        case 5:
            let form = fuzz.bytes(fragments: ["score=", "7", "&", "comment=", "factors=", "speed", "%", "%4", "%ZZ", "%E9", "+", "lost_time="])
            let path = fuzz.chance(70) ? Array("/s/\(token)".utf8) : Array("/s/".utf8) + pathBytes(fuzz.bytes(maxLength: 50))
            return (RawHTTP.request(target: path, headers: [formType], body: form), "survey form")
        case 6:
            let query = pathBytes(fuzz.bytes(fragments: ["after=", "limit=", "&", "-1", "0", "9223372036854775808", "%", "%FF"]))
            return (RawHTTP.request(method: "GET", target: Array("/api/v1/events?".utf8) + query, headers: [bearer], body: []), "events query")
        case 7:
            let query = pathBytes(fuzz.bytes(fragments: ["from=", "to=", "by=", "period=", "kind=", "min=", "format=", "2026-11-01", "&", "csv"]))
            let path = fuzz.chance(50) ? "/api/v1/metrics?" : "/dashboard?"
            return (RawHTTP.request(method: "GET", target: Array(path.utf8) + query, headers: [manager], body: []), "dashboard query")
        case 8:
            let cookie = headerBytes(fuzz.bytes(fragments: ["happydesk_session=", ";", "=", " ", String(repeating: "A", count: 43)]))
            return (RawHTTP.request(method: "GET", target: Array("/api/v1/me".utf8), headers: [Array("Cookie: ".utf8) + cookie], body: []), "cookie")
        default:
            let id = pathBytes(fuzz.bytes(maxLength: 8, fragments: ["1", "-1", "9223372036854775808", "%00", "%E9"]))
            let target = Array("/api/v1/responses/".utf8) + id + Array("/replies".utf8)
            let body = fuzz.mutate(Array(#"{"text":"hi"}"#.utf8))
            return (RawHTTP.request(target: target, headers: [bearer, json], body: body), "path id and reply body")
        }
    }
}
