import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// Browser sign-in on /analyst: a session cookie that scripts cannot read and other sites cannot send.
final class PeopleTests: XCTestCase {
    func testLoginSetsAStrictHttpOnlySessionCookieThatOpensTheApi() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.router) { client in
            let signedOut = try await client.execute(uri: "/analyst", method: .get)
            XCTAssertEqual(signedOut.status, .ok)
            XCTAssertTrue(signedOut.text.contains("action=\"/analyst/login\""))
            XCTAssertFalse(signedOut.text.contains("<link"), "no external assets")
            XCTAssertFalse(signedOut.text.contains("src=\"http"), "no external assets")

            let csrfCookie = try XCTUnwrap(signedOut.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let csrf = String(csrfCookie.split(separator: "=", maxSplits: 1).last ?? "")
            let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: csrfCookie, .origin: testOrigin]
            let bad = try await client.execute(
                uri: "/analyst/login", method: .post, headers: formHeaders, body: ByteBuffer(string: "token=hd_wrong&csrf=\(csrf)"))
            XCTAssertEqual(bad.status, .unauthorized)
            XCTAssertNil(bad.headers[.setCookie], "the browser's CSRF cookie is kept, no session is set")

            let login = try await client.execute(
                uri: "/analyst/login", method: .post, headers: formHeaders, body: ByteBuffer(string: "token=\(people.sam)&csrf=\(csrf)"))
            XCTAssertEqual(login.status, .seeOther)
            XCTAssertEqual(login.headers[.location], "/analyst")
            let cookie = try XCTUnwrap(login.headers[.setCookie])
            XCTAssertTrue(cookie.contains("HttpOnly"), cookie)
            XCTAssertTrue(cookie.lowercased().contains("samesite=strict"), cookie)
            XCTAssertFalse(cookie.contains("Secure"), "plain http public URL: \(cookie)")
            let session = try XCTUnwrap(cookie.split(separator: ";").first.map(String.init))

            let page = try await client.execute(uri: "/analyst", method: .get, headers: [.cookie: session])
            XCTAssertTrue(page.text.contains("Sam Analyst"))
            XCTAssertTrue(page.text.contains("/api/v1/stream"))
            let me = try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: session])
            XCTAssertEqual(me.status, .ok)
            XCTAssertEqual((me.json["user"] as? [String: Any])?["email"] as? String, "sam@example.com")

            let logout = try await client.execute(uri: "/analyst/logout", method: .post, headers: [.cookie: session, .origin: testOrigin])
            XCTAssertEqual(logout.status, .seeOther)
            let after = try await client.execute(uri: "/api/v1/me", method: .get, headers: [.cookie: session])
            XCTAssertEqual(after.status, .unauthorized)
        }
    }

    func testSessionCookieIsSecureBehindHttpsAndCrossSiteStreamUpgradesAreRefused() async throws {
        let dir = try makeTemporaryDirectory()
        var settings = makeSettings(directory: dir)
        settings.publicURL = "https://happy.example.com"
        let server = try HappyDeskServer.open(settings: settings, logger: .init(label: "test"))
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.router) { client in
            let page = try await client.execute(uri: "/analyst", method: .get)
            XCTAssertTrue(page.headers[.setCookie]?.contains("Secure") == true, "the CSRF cookie is Secure too")
            let cookie = try await client.signInSetCookie(token: people.sam, origin: "https://happy.example.com")
            XCTAssertTrue(cookie.contains("Secure"), cookie)
            let session = try XCTUnwrap(cookie.split(separator: ";").first.map(String.init))
            let crossSite = try await client.execute(
                uri: "/api/v1/stream", method: .get,
                headers: [.cookie: session, .origin: "https://evil.example.net"]
            )
            XCTAssertEqual(crossSite.status, .forbidden)
        }
    }
}
