import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import XCTest

@testable import HappyDesk

/// Sessions end when they should: revocation, sign-out and expiry close open sockets with 1008, and
/// cookie-authenticated changes must come from the analyst page.
final class SessionTests: XCTestCase {
    func testRevokingAUserClosesTheirOpenStreamWith1008WithinTwoSeconds() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let sam = try await StreamProbe.connect(port: port, token: people.sam)
            let morgan = try await StreamProbe.connect(port: port, token: people.morgan)
            let revoked = try await server.users.revoke(email: "sam@example.com")
            XCTAssertTrue(revoked)
            let close = try await sam.finished(timeout: .seconds(2))
            XCTAssertEqual(close?.closeCode, .policyViolation)
            XCTAssertEqual(close?.reason, StreamSession.signedOutReason)
            // Others stay connected and served.
            let token = try await client.invitation(ticket: "INC-REVOKE", assigneeID: "analyst-9", assigneeEmail: nil)
            try await client.answer(token, score: 9)
            _ = try await morgan.waitForEvents(1)
            try await morgan.close()
        }
    }

    func testRevokingFromTheCommandLineClosesTheStreamOfTheRunningServer() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let sam = try await StreamProbe.connect(port: try XCTUnwrap(client.port), token: people.sam)
            // Another process writes the same SQLite file: the server is not told, it must notice.
            let result = try runHappydesk(["users", "revoke"] + databaseArguments(server.settings) + ["--email", "sam@example.com"])
            XCTAssertEqual(result.status, 0, result.err)
            let close = try await sam.finished(timeout: .seconds(2))
            XCTAssertEqual(close?.closeCode, .policyViolation)
            let again = try await client.get("/api/v1/me", token: people.sam)
            XCTAssertEqual(again.status, .unauthorized)
        }
    }

    func testSigningOutClosesTheStreamOpenedWithThatSession() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let session = try await client.signIn(token: people.sam)
            let socket = try await openWithCookie(port: try XCTUnwrap(client.port), session: session)
            let logout = try await client.execute(uri: "/analyst/logout", method: .post, headers: [.cookie: session, .origin: testOrigin])
            XCTAssertEqual(logout.status, .seeOther)
            let code = try await socket.closeCode(within: 2)
            XCTAssertEqual(code, 1008, "policy violation")
            let me = try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: session])
            XCTAssertEqual(me.status, .unauthorized)
        }
    }

    func testASessionPastItsLifetimeClosesItsStream() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let session = try await client.signIn(token: people.sam)
            let socket = try await openWithCookie(port: try XCTUnwrap(client.port), session: session)
            // The absolute lifetime runs out (as if twelve hours had passed).
            try await server.database.write { db in
                try db.execute(sql: "UPDATE sessions SET expires_at = ?", arguments: [Date(timeIntervalSinceNow: -1)])
            }
            let code = try await socket.closeCode(within: 2)
            XCTAssertEqual(code, 1008, "policy violation")
        }
    }

    func testAnIdleSessionClosesItsStreamAndNoLongerOpensTheApi() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let session = try await client.signIn(token: people.sam)
            let socket = try await openWithCookie(port: try XCTUnwrap(client.port), session: session)
            let idle = Date(timeIntervalSinceNow: -server.settings.sessions.idleTimeout - 1)
            try await server.database.write { db in try db.execute(sql: "UPDATE sessions SET last_seen_at = ?", arguments: [idle]) }
            let code = try await socket.closeCode(within: 2)
            XCTAssertEqual(code, 1008, "policy violation")
            let me = try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: session])
            XCTAssertEqual(me.status, .unauthorized)
        }
    }

    func testLastUseIsWrittenAtMostOnceAMinute() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        let start = Date()
        let started0 = try await server.users.startSession(token: people.sam, now: start)
        let (_, session) = try XCTUnwrap(started0)
        func lastSeen() async throws -> Date? {
            try await server.database.read { db in try Date.fetchOne(db, sql: "SELECT last_seen_at FROM sessions") }
        }
        let started = try await lastSeen()
        _ = try await server.users.user(session: session, now: start.addingTimeInterval(30))
        let afterHalfAMinute = try await lastSeen()
        XCTAssertEqual(afterHalfAMinute, started, "no write within a minute of the last")
        _ = try await server.users.user(session: session, now: start.addingTimeInterval(61))
        let afterAMinute = try await lastSeen()
        XCTAssertEqual(try XCTUnwrap(afterAMinute).timeIntervalSince(start), 61, accuracy: 0.01)
        // Used at 61 s, a session is still live 30 minutes later, but not 30 minutes after its last use plus one.
        let justInTime = try await server.users.user(session: session, now: start.addingTimeInterval(61 + 1799))
        XCTAssertNotNil(justInTime)
        let tooLate = try await server.users.user(session: session, now: start.addingTimeInterval(61 + 1799 + 1801))
        XCTAssertNil(tooLate)
    }

    func testCookieStateChangesNeedThePublicOriginAndJSONWhileBearerCallsDoNot() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let session = try await client.signIn(token: people.sam)
            let path = "/api/v1/responses/999999/replies"
            let body = ByteBuffer(string: #"{"text":"hello"}"#)
            for origin in ["http://evil.example.net", "null", "http://surveys.test:8080", "https://surveys.test", nil] {
                var headers: HTTPFields = [.cookie: session, .contentType: "application/json"]
                if let origin { headers[.origin] = origin }
                let refused = try await client.execute(uri: path, method: .post, headers: headers, body: body)
                XCTAssertEqual(refused.status, .forbidden, "Origin \(origin ?? "missing")")
                XCTAssertTrue(refused.errorMessage.contains("Origin"), refused.errorMessage)
            }
            let form = try await client.execute(
                uri: path, method: .post, headers: [.cookie: session, .origin: testOrigin, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "text=hello"))
            XCTAssertEqual(form.status, .unsupportedMediaType)
            XCTAssertTrue(form.errorMessage.contains("application/json"), form.errorMessage)
            let noType = try await client.execute(
                uri: "/api/v1/responses/999999/ack", method: .post, headers: [.cookie: session, .origin: testOrigin])
            XCTAssertEqual(noType.status, .unsupportedMediaType)

            let sameSite = try await client.execute(
                uri: path, method: .post, headers: [.cookie: session, .origin: testOrigin, .contentType: "application/json; charset=utf-8"],
                body: body)
            XCTAssertEqual(sameSite.status, .notFound, "past the checks, the unknown response is the answer: \(sameSite.text)")
            // A bearer token is not sent by browsers on their own: no Origin, no JSON type needed.
            let bearer = try await client.execute(
                uri: "/api/v1/responses/999999/ack", method: .post, headers: [.authorization: "Bearer \(people.sam)"])
            XCTAssertEqual(bearer.status, .notFound, bearer.text)
            // Reads with the cookie are not state changes.
            let me = try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: session])
            XCTAssertEqual(me.status, .ok)
        }
    }

    func testCookieStreamUpgradesNeedThePublicOrigin() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let session = try await client.signIn(token: people.sam)
            for origin in ["http://evil.example.net", "null", nil] {
                // The upgrade's route answers a plain GET as it would the handshake.
                var headers: HTTPFields = [.cookie: session]
                if let origin { headers[.origin] = origin }
                let refused = try await client.execute(uri: "/api/v1/stream", method: .get, headers: headers)
                XCTAssertEqual(refused.status, .forbidden, "Origin \(origin ?? "missing")")
            }
            let port = try XCTUnwrap(client.port)
            for origins in [["http://evil.example.net"], [testOrigin, "http://evil.example.net"]] {
                let (status, _) = try await RawWebSocket.connect(port: port, headers: [("Cookie", session)] + origins.map { ("Origin", $0) })
                // NIO's upgrader answers a refused handshake 400 (the plain GET above shows the 403 and its message).
                XCTAssertTrue((400..<500).contains(status), "a real handshake from \(origins) is refused, not \(status)")
            }
            _ = try await openWithCookie(port: port, session: session)
            let bearer = try await StreamProbe.connect(port: try XCTUnwrap(client.port), token: people.sam)
            try await bearer.close()
        }
    }

    func testSignInWithoutTheFormsCSRFTokenIsRefusedWithAPageSayingToReload() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let page = try await client.execute(uri: "/analyst", method: .get)
            let csrfCookie = try XCTUnwrap(page.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            XCTAssertTrue(try XCTUnwrap(page.headers[.setCookie]).lowercased().contains("samesite=strict"))
            let csrf = String(csrfCookie.split(separator: "=", maxSplits: 1).last ?? "")
            let cases: [(String, HTTPFields, String)] = [
                ("no token", [.cookie: csrfCookie, .origin: testOrigin], "token=\(people.sam)"),
                ("no cookie", [.origin: testOrigin], "token=\(people.sam)&csrf=\(csrf)"),
                ("wrong token", [.cookie: csrfCookie, .origin: testOrigin], "token=\(people.sam)&csrf=\(String(csrf.reversed()))"),
            ]
            for (name, headers, body) in cases {
                var headers = headers
                headers[.contentType] = "application/x-www-form-urlencoded"
                let refused = try await client.execute(uri: "/analyst/login", method: .post, headers: headers, body: ByteBuffer(string: body))
                XCTAssertEqual(refused.status, .forbidden, name)
                XCTAssertTrue(refused.text.contains("Reload the page"), "\(name): \(refused.text)")
                XCTAssertFalse(refused.headers[.setCookie]?.contains(AuthMiddleware.cookieName) == true, "\(name): no session")
            }
            let crossSite = try await client.execute(
                uri: "/analyst/login", method: .post,
                headers: [.cookie: csrfCookie, .origin: "http://evil.example.net", .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(people.sam)&csrf=\(csrf)"))
            XCTAssertEqual(crossSite.status, .forbidden)
            XCTAssertTrue(crossSite.text.contains("Origin"), crossSite.text)
            let crossSiteLogout = try await client.execute(uri: "/analyst/logout", method: .post, headers: [.origin: "http://evil.example.net"])
            XCTAssertEqual(crossSiteLogout.status, .forbidden)
            let session = try await client.signIn(token: people.sam)
            XCTAssertTrue(session.hasPrefix("\(AuthMiddleware.cookieName)="))
        }
    }
}

/// Opens the stream as the analyst page does: the session cookie and the page's Origin.
func openWithCookie(port: Int, session: String, origin: String = testOrigin) async throws -> RawWebSocket {
    let (status, socket) = try await RawWebSocket.connect(port: port, headers: [("Cookie", session), ("Origin", origin)])
    XCTAssertEqual(status, 101, "the stream opens with the cookie")
    return try XCTUnwrap(socket)
}
