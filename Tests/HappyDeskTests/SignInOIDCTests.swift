import Foundation
import XCTest

@testable import HappyDesk

/// OpenID Connect sign-in against a real provider on loopback (authlib, `Tests/Support/oidc_provider.py`), with the
/// redirects followed by hand over real sockets: discovery, PKCE, state and nonce, RS256 and ES256 ID tokens from
/// the provider's JWKS, and each fault refused with a page and no session.
final class SignInOIDCTests: XCTestCase {
    func makeHarness(_ dir: URL, provider: OIDCProvider) async throws -> SignInHarness {
        try await SignInHarness(directory: dir) { $0.oidc = provider.settings() }
    }

    func testSigningInWithTheProviderProvisionsTheAssigneeAndLandsOnTheAnalystPage() async throws {
        let dir = try makeTemporaryDirectory()
        let provider = try OIDCProvider(directory: dir)
        let harness = try await makeHarness(dir, provider: provider)
        try await harness.closure(ticket: "INC-OIDC-1", assigneeEmail: "sam@example.com")

        let page = try await HTTPExchange.send(port: harness.port, target: "/signin")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("Sign in with Test Identity"), page.body)
        XCTAssertTrue(page.body.contains("Email me a sign-in link"))
        XCTAssertTrue(page.body.contains("<details id=\"token-signin\">"), "the API token form is folded away")

        let browser = OIDCBrowser(harness: harness, providerPort: provider.port)
        let (_, _, stateSetCookie) = try await browser.start()
        XCTAssertTrue(stateSetCookie.contains("SameSite=Lax") && stateSetCookie.contains("HttpOnly"), stateSetCookie)

        let outcome = try await browser.signIn()
        XCTAssertEqual(outcome.callback.status, 303, outcome.callback.body)
        XCTAssertEqual(outcome.callback.header("Location"), "/analyst")
        let setCookie = try XCTUnwrap(outcome.callback.all("Set-Cookie").first { $0.hasPrefix(AuthMiddleware.cookieName + "=") })
        XCTAssertTrue(setCookie.contains("SameSite=Lax"), "the session cookie survives the provider's cross-site redirect: \(setCookie)")
        let session = try XCTUnwrap(outcome.session)
        let sessions = try await harness.count("sessions")
        XCTAssertEqual(sessions, 1)
        let user = try await harness.role(email: "sam@example.com")
        XCTAssertEqual(user?.role, "analyst")
        XCTAssertEqual(user?.assigneeID, "analyst-7", "matched to the closures' assignee id")

        let analyst = try await HTTPExchange.send(port: harness.port, target: "/analyst", headers: ["Cookie: \(session)"])
        XCTAssertEqual(analyst.status, 200)
        XCTAssertTrue(analyst.body.contains("id=\"hd-name\">Sam Analyst<"), "the header names the person")
        XCTAssertTrue(analyst.body.contains("action=\"/signout\""))
        XCTAssertFalse(analyst.body.contains("id=\"hd-dashboard\""), "an analyst gets no dashboard link")

        // Signing out ends the session.
        let out = try await HTTPExchange.send(
            port: harness.port, method: "POST", target: "/signout", headers: ["Cookie: \(session)", "Origin: \(harness.origin)"])
        XCTAssertEqual(out.status, 303)
        XCTAssertEqual(out.header("Location"), "/signin")
        let afterSignOut = try await harness.count("sessions")
        XCTAssertEqual(afterSignOut, 0)
    }

    func testES256TokensAndManagerGroupsLandOnTheDashboard() async throws {
        let dir = try makeTemporaryDirectory()
        let provider = try OIDCProvider(directory: dir, arguments: ["--mode", "es256", "--email", "mia@example.com", "--name", "Mia Manager"])
        let harness = try await makeHarness(dir, provider: provider)
        try await provider.control(["user": ["groups": ["staff", "desk-managers"]]])

        let outcome = try await OIDCBrowser(harness: harness, providerPort: provider.port).signIn()
        XCTAssertEqual(outcome.callback.status, 303, outcome.callback.body)
        XCTAssertEqual(outcome.callback.header("Location"), "/dashboard")
        let user = try await harness.role(email: "mia@example.com")
        XCTAssertEqual(user?.role, "manager", "the group claim designates the manager")
        let session = try XCTUnwrap(outcome.session)
        let dashboard = try await HTTPExchange.send(port: harness.port, target: "/dashboard", headers: ["Cookie: \(session)"])
        XCTAssertTrue([200, 400].contains(dashboard.status), "the dashboard works with the browser session: \(dashboard.status)")
        XCTAssertTrue(dashboard.body.contains("id=\"hd-name\">Mia Manager<"))
        XCTAssertTrue(dashboard.body.contains("id=\"hd-dashboard\""))

        // Leaving the group makes the next sign-in an analyst again.
        try await provider.control(["user": ["groups": ["staff"]]])
        let again = try await OIDCBrowser(harness: harness, providerPort: provider.port).signIn()
        XCTAssertEqual(again.callback.header("Location"), "/analyst")
        let demoted = try await harness.role(email: "mia@example.com")
        XCTAssertEqual(demoted?.role, "analyst")
    }

    func testEachBadTokenIsRefusedWithAPageAndNoSession() async throws {
        let dir = try makeTemporaryDirectory()
        let provider = try OIDCProvider(directory: dir)
        let harness = try await makeHarness(dir, provider: provider)
        try await harness.closure(ticket: "INC-OIDC-2", assigneeEmail: "sam@example.com")
        let expected: [(mode: String, words: String)] = [
            ("tampered", "signature is not valid"),
            ("wrong_audience", "wrong audience"),
            ("azp_mismatch", "issued to another application"),
            ("expired", "has expired"),
            ("wrong_nonce", "wrong nonce"),
            ("unknown_kid", "key the provider does not publish"),
            ("unverified", "not verified"),
        ]
        for (mode, words) in expected {
            try await provider.control(["mode": mode])
            let outcome = try await OIDCBrowser(harness: harness, providerPort: provider.port).signIn()
            XCTAssertEqual(outcome.callback.status, 403, "\(mode): \(outcome.callback.body)")
            XCTAssertTrue(outcome.callback.body.contains(words), "\(mode): \(outcome.callback.body)")
            XCTAssertTrue(outcome.callback.body.contains("id=\"signin-again\""), "\(mode): the page leads back to sign-in")
            XCTAssertNil(outcome.session, mode)
            let sessions = try await harness.count("sessions")
            XCTAssertEqual(sessions, 0, "\(mode) created no session")
        }
    }

    func testANewKeyIdIsFetchedAndAccepted() async throws {
        let dir = try makeTemporaryDirectory()
        let provider = try OIDCProvider(directory: dir)
        let harness = try await makeHarness(dir, provider: provider)
        try await harness.closure(ticket: "INC-OIDC-3", assigneeEmail: "sam@example.com")
        let first = try await OIDCBrowser(harness: harness, providerPort: provider.port).signIn()
        XCTAssertEqual(first.callback.status, 303, first.callback.body)
        // The provider rotates to a key it did not publish before: one refetch, then accepted.
        try await provider.control(["mode": "rotate"])
        let rotated = try await OIDCBrowser(harness: harness, providerPort: provider.port).signIn()
        XCTAssertEqual(rotated.callback.status, 303, rotated.callback.body)
        let state = try await provider.control([:])
        XCTAssertEqual(state["jwks_requests"] as? Int, 2, "the key set is cached and refetched once for the new kid")
    }

    func testAReplayedOrForeignStateIsRefused() async throws {
        let dir = try makeTemporaryDirectory()
        let provider = try OIDCProvider(directory: dir)
        let harness = try await makeHarness(dir, provider: provider)
        try await harness.closure(ticket: "INC-OIDC-4", assigneeEmail: "sam@example.com")
        let outcome = try await OIDCBrowser(harness: harness, providerPort: provider.port).signIn()
        XCTAssertEqual(outcome.callback.status, 303)

        let replay = try await HTTPExchange.send(port: harness.port, target: outcome.callbackTarget, headers: ["Cookie: \(outcome.stateCookie)"])
        XCTAssertEqual(replay.status, 400, replay.body)
        XCTAssertTrue(replay.body.contains("already used"), replay.body)
        XCTAssertNil(replay.cookie(AuthMiddleware.cookieName).flatMap { $0.hasSuffix("=") ? nil : $0 })

        // A callback without the browser's state cookie (someone else's link) is refused before any token call.
        let (authorize, _, _) = try await OIDCBrowser(harness: harness, providerPort: provider.port).start()
        let url = try XCTUnwrap(URLComponents(string: authorize))
        let approved = try await HTTPExchange.send(port: provider.port, target: url.percentEncodedPath + "?" + (url.percentEncodedQuery ?? ""))
        let back = try XCTUnwrap(approved.header("Location").flatMap(URLComponents.init(string:)))
        let foreign = try await HTTPExchange.send(port: harness.port, target: back.percentEncodedPath + "?" + (back.percentEncodedQuery ?? ""))
        XCTAssertEqual(foreign.status, 400)
        XCTAssertTrue(foreign.body.contains("started in another browser"), foreign.body)
        let sessions = try await harness.count("sessions")
        XCTAssertEqual(sessions, 1, "only the first, genuine sign-in has a session")
    }

    func testAnUnknownAddressIsToldAnAdministratorMustAddThem() async throws {
        let dir = try makeTemporaryDirectory()
        let provider = try OIDCProvider(directory: dir, arguments: ["--email", "stranger@example.com"])
        let harness = try await makeHarness(dir, provider: provider)
        let outcome = try await OIDCBrowser(harness: harness, providerPort: provider.port).signIn()
        XCTAssertEqual(outcome.callback.status, 403)
        XCTAssertTrue(outcome.callback.body.contains("an administrator must add you"), outcome.callback.body)
        let users = try await harness.count("users WHERE role <> 'integration'")
        XCTAssertEqual(users, 0, "no user is created for an address known nowhere")
        let sessions = try await harness.count("sessions")
        XCTAssertEqual(sessions, 0)
    }

    func testAnUnreachableProviderIsAPageNotACrash() async throws {
        let dir = try makeTemporaryDirectory()
        let provider = try OIDCProvider(directory: dir)
        let harness = try await makeHarness(dir, provider: provider)
        provider.stop()
        let started = try await HTTPExchange.send(
            port: harness.port, method: "POST", target: "/signin/oidc",
            headers: ["Origin: \(harness.origin)", "Content-Type: application/x-www-form-urlencoded"])
        XCTAssertEqual(started.status, 502, started.body)
        XCTAssertTrue(started.body.contains("could not be reached"), started.body)
        let states = try await harness.count("signin_states")
        XCTAssertEqual(states, 0)
    }

    func testNextIsOnlyEverALocalPath() {
        XCTAssertEqual(SignInPage.localPath("/dashboard?from=2026-01-01"), "/dashboard?from=2026-01-01")
        XCTAssertEqual(SignInPage.localPath("/analyst"), "/analyst")
        for bad in ["//evil.example", "/\\evil.example", "https://evil.example", "evil", "/a b", "/\u{7F}", "", "/\\"] {
            XCTAssertNil(SignInPage.localPath(bad), bad)
        }
    }
}
