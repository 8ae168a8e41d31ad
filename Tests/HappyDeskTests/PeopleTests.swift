import Foundation
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

            let bad = try await client.postForm("/analyst/login", "token=hd_wrong")
            XCTAssertEqual(bad.status, .unauthorized)
            XCTAssertNil(bad.headers[.setCookie])

            let login = try await client.postForm("/analyst/login", "token=\(people.sam)")
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

            let logout = try await client.execute(uri: "/analyst/logout", method: .post, headers: [.cookie: session])
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
            let login = try await client.postForm("/analyst/login", "token=\(people.sam)")
            let cookie = try XCTUnwrap(login.headers[.setCookie])
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
