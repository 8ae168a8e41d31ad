import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

@testable import HappyDesk

/// The checkout's root, found from this file, so tests use the real `Surveys/` and `Migrations/`.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh data folder with a real SQLite file per test.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("happydesk-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func makeSettings(directory: URL, secret: String? = nil) -> Settings {
    var settings = Settings(
        surveysDirectory: repositoryRoot.appendingPathComponent("Surveys"),
        migrationsDirectory: repositoryRoot.appendingPathComponent("Migrations")
    )
    settings.databasePath = directory.appendingPathComponent("happydesk.sqlite").path
    settings.outboxDirectory = directory.appendingPathComponent("outbox").path
    settings.publicURL = "http://surveys.test"
    settings.webhookSecret = secret
    settings.port = 0
    if TestPostgres.isDefaultBackend {
        // The whole suite on PostgreSQL (HAPPYDESK_TEST_BACKEND=postgres): one database per data folder, as
        // one SQLite file per data folder.
        do {
            settings.databaseURL = try TestPostgres.databaseURL(for: directory)
        } catch {
            preconditionFailure("HAPPYDESK_TEST_BACKEND=postgres but no test database: \(error)")
        }
    }
    return settings
}

func makeServer(directory: URL, secret: String? = nil, publisher: (any EventPublisher)? = nil) throws -> HappyDeskServer {
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let server = try HappyDeskServer.open(settings: makeSettings(directory: directory, secret: secret), logger: logger, publisher: publisher)
    try addTestIntegration(to: server)
    return server
}

/// The API token of the integration `addTestIntegration` adds: the test helpers post closures with it,
/// since only an authenticated caller gets `survey_url` back.
let testIntegrationToken = "hd_test-integration-token-0123456789abcdefghijkl"

/// Adds an integration user whose token is `testIntegrationToken`.
func addTestIntegration(to server: HappyDeskServer) throws {
    try server.database.writeSync { db in
        try db.execute(
            sql:
                "INSERT INTO users (name, email, role, token_hash, created_at) VALUES ('Test ITSM', NULL, 'integration', ?, ?) ON CONFLICT DO NOTHING",
            arguments: [SurveyToken.hash(testIntegrationToken), Date()]
        )
    }
}

/// The Origin header of a browser on the test server's public URL (`makeSettings`).
let testOrigin = "http://surveys.test"

/// A closure body as an ITSM would post it.
func closureJSON(
    ticket: String = "INC0010001", source: String = "servicenow", kind: String = "incident", email: String = "ann@example.com",
    locale: String = "en-GB", assignee: String = "analyst-7"
) -> String {
    """
    {"ticket_id":"\(ticket)","source":"\(source)","kind":"\(kind)",
     "requester":{"email":"\(email)","name":"Ann Example","locale":"\(locale)"},
     "assignee":{"id":"\(assignee)","name":"Sam Analyst","email":"sam@example.com"},
     "group":"Service Desk","service":"VPN","channel":"email","country":"DE","reassignments":1,
     "closed_at":"2026-11-20T14:05:00Z"}
    """
}

extension TestClientProtocol {
    /// Posts a JSON body and returns the response.
    func postJSON(_ path: String, _ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    func postForm(_ path: String, _ body: String) async throws -> TestResponse {
        try await execute(uri: path, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body))
    }

    /// Creates a closure and returns the token from its survey link.
    func createInvitation(ticket: String = "INC0010001", locale: String = "en-GB", kind: String = "incident") async throws -> String {
        let response = try await postJSON(
            "/api/v1/closures", closureJSON(ticket: ticket, kind: kind, locale: locale), headers: [.authorization: "Bearer \(testIntegrationToken)"])
        XCTAssertEqual(response.status, .created)
        let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
        let url = try XCTUnwrap(json?["survey_url"] as? String)
        return String(url.split(separator: "/").last ?? "")
    }
}

extension TestClientProtocol {
    /// Signs in through the form as a browser on `origin` would (CSRF cookie and field, Origin header) and
    /// returns the `happydesk_session=…` cookie pair.
    func signIn(token: String, origin: String = testOrigin, file: StaticString = #filePath, line: UInt = #line) async throws -> String {
        let header = try await signInSetCookie(token: token, origin: origin, file: file, line: line)
        return try XCTUnwrap(header.split(separator: ";").first.map(String.init), file: file, line: line)
    }

    /// Signs in as `signIn` does and returns the whole `Set-Cookie` header of the session.
    func signInSetCookie(token: String, origin: String = testOrigin, file: StaticString = #filePath, line: UInt = #line) async throws -> String {
        let page = try await execute(uri: "/analyst", method: .get)
        let csrfCookie = try XCTUnwrap(page.headers[.setCookie]?.split(separator: ";").first.map(String.init), file: file, line: line)
        let csrf = String(csrfCookie.split(separator: "=", maxSplits: 1).last ?? "")
        XCTAssertTrue(page.text.contains("value=\"\(csrf)\""), "the form carries the cookie's CSRF token", file: file, line: line)
        let login = try await execute(
            uri: "/analyst/login", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded", .cookie: csrfCookie, .origin: origin],
            body: ByteBuffer(string: "token=\(token)&csrf=\(csrf)")
        )
        XCTAssertEqual(login.status, .seeOther, login.text, file: file, line: line)
        return try XCTUnwrap(login.headers[.setCookie], file: file, line: line)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    var errorMessage: String {
        ((json["error"] as? [String: Any])?["message"] as? String) ?? ""
    }
}

/// A real peer (aiosmtpd, Chromium/chromedriver, selenium, openssl, the built binary) is missing.
struct MissingPeer: Error, CustomStringConvertible {
    var description: String
}

/// The one way a test gives up for want of a real peer: a skip on a developer's machine, but a failure
/// under CI (`CI=true`, exported by `.ci/run`), where a skipped test would prove nothing while looking green.
func requirePeer(_ available: Bool, _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) throws {
    guard !available else { return }
    throw missingPeer(what(), file: file, line: line)
}

/// The error to throw when a peer is missing (see `requirePeer`); under CI it has already recorded a failure.
func missingPeer(_ what: String, file: StaticString = #filePath, line: UInt = #line) -> any Error {
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        XCTFail("required peer missing under CI: \(what)", file: file, line: line)
        return MissingPeer(description: what)
    }
    return XCTSkip(what, file: file, line: line)
}
