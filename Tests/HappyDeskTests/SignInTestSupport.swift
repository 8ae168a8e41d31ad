import Foundation
import Logging
import XCTest

@testable import HappyDesk

/// A happydesk server listening on a real port whose public URL is that port, for sign-in tests that follow
/// redirects by hand over real sockets (`RawHTTP`), between it and a real OpenID provider.
final class SignInHarness: @unchecked Sendable {
    let server: HappyDeskServer
    let port: Int
    let directory: URL
    private let task: Task<Void, any Error>

    init(directory: URL, configure: (inout Settings) -> Void = { _ in }) async throws {
        self.directory = directory
        port = freeTCPPort()
        var settings = makeSettings(directory: directory)
        settings.port = port
        settings.publicURL = "http://127.0.0.1:\(port)"
        configure(&settings)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = try HappyDeskServer.open(settings: settings, logger: logger)
        try addTestIntegration(to: server)
        self.server = server
        task = Task { try await buildApplication(server).runService(gracefulShutdownSignals: []) }
        let health = try await waitForHealth(port: port)
        XCTAssertEqual(health, 200, "the server did not start")
    }

    deinit { task.cancel() }

    var origin: String { "http://127.0.0.1:\(port)" }

    /// Ingests a closure assigned to `assigneeEmail` (so that address may sign in and be provisioned).
    func closure(ticket: String, assigneeID: String = "analyst-7", assigneeName: String = "Sam Analyst", assigneeEmail: String) async throws {
        let closure = Closure(
            ticketID: ticket, source: "servicenow", kind: .incident, requester: .init(email: "ann@example.com", name: "Ann Example", locale: "en-GB"),
            assignee: .init(id: assigneeID, name: assigneeName, email: assigneeEmail))
        _ = try await server.intake.ingest(closure)
    }

    func count(_ table: String) async throws -> Int {
        try await server.database.read { db in try db.scalar(Int.self, "SELECT count(*) FROM \(table)") ?? 0 }
    }

    func role(email: String) async throws -> (role: String, assigneeID: String?)? {
        try await server.database.read { db in
            try db.fetchOne("SELECT role, assignee_id FROM users WHERE lower(email) = lower(?)", email).map { ($0[0], $0[1]) }
        }
    }
}

/// One HTTP exchange over a fresh socket, with the answer's headers parsed.
struct HTTPExchange {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    func all(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }

    /// `name=value` of the Set-Cookie for `name`, if any.
    func cookie(_ name: String) -> String? {
        all("Set-Cookie").first { $0.hasPrefix(name + "=") }.flatMap { $0.split(separator: ";").first.map(String.init) }
    }

    static func send(
        port: Int, method: String = "GET", target: String, headers: [String] = [], body: String = ""
    ) async throws -> HTTPExchange {
        let request = RawHTTP.request(method: method, target: Array(target.utf8), headers: headers.map { Array($0.utf8) }, body: Array(body.utf8))
        let answer = try await RawHTTP.send(port: port, request)
        let lines = answer.head.components(separatedBy: "\r\n").dropFirst()
        let parsed = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return HTTPExchange(status: answer.status ?? 0, headers: parsed, body: answer.body)
    }
}

/// What a browser does for "Sign in with …": POST /signin/oidc, follow to the provider's authorize endpoint (which
/// auto-approves its configured user), and follow its redirect back to the callback with the state cookie.
struct OIDCBrowser {
    let harness: SignInHarness
    let providerPort: Int

    struct Outcome {
        var callback: HTTPExchange
        /// The callback target (path and query), to replay it.
        var callbackTarget: String
        var stateCookie: String
        var session: String? { callback.cookie(AuthMiddleware.cookieName) }
    }

    func start(next: String? = nil) async throws -> (authorize: String, stateCookie: String, stateSetCookie: String) {
        let body = next.map { "next=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") } ?? ""
        let started = try await HTTPExchange.send(
            port: harness.port, method: "POST", target: "/signin/oidc",
            headers: ["Origin: \(harness.origin)", "Content-Type: application/x-www-form-urlencoded"], body: body)
        XCTAssertEqual(started.status, 303, started.body)
        let location = try XCTUnwrap(started.header("Location"))
        let setCookie = try XCTUnwrap(started.all("Set-Cookie").first { $0.hasPrefix(SignInController.stateCookieName + "=") })
        let cookie = try XCTUnwrap(started.cookie(SignInController.stateCookieName))
        return (location, cookie, setCookie)
    }

    func signIn(next: String? = nil) async throws -> Outcome {
        let (authorize, cookie, _) = try await start(next: next)
        let url = try XCTUnwrap(URLComponents(string: authorize))
        XCTAssertEqual(url.port, providerPort)
        let approved = try await HTTPExchange.send(port: providerPort, target: url.percentEncodedPath + "?" + (url.percentEncodedQuery ?? ""))
        XCTAssertEqual(approved.status, 302, approved.body)
        let back = try XCTUnwrap(approved.header("Location").flatMap(URLComponents.init(string:)))
        let target = back.percentEncodedPath + "?" + (back.percentEncodedQuery ?? "")
        let callback = try await HTTPExchange.send(port: harness.port, target: target, headers: ["Cookie: \(cookie)"])
        return Outcome(callback: callback, callbackTarget: target, stateCookie: cookie)
    }
}

/// The OpenID provider of `Tests/Support/oidc_provider.py` (authlib) as a child process, and its control endpoint.
final class OIDCProvider: @unchecked Sendable {
    let peer: PythonPeer
    var port: Int { peer.port }
    var issuer: String { "http://127.0.0.1:\(peer.port)" }

    init(directory: URL, arguments: [String] = []) throws {
        do {
            peer = try PythonPeer(script: "oidc_provider.py", arguments: arguments, log: directory.appendingPathComponent("oidc.jsonl"))
        } catch {
            throw missingPeer("the OpenID provider did not start (python3 -m pip install authlib flask): \(error)")
        }
    }

    func settings(managerGroups: [String] = ["desk-managers"], adminGroups: [String] = ["desk-admins"]) -> OIDCSettings {
        OIDCSettings(
            issuer: issuer, clientID: "happydesk-test", clientSecret: "s3cret-for-tests", name: "Test Identity", managerGroups: managerGroups,
            adminGroups: adminGroups)
    }

    @discardableResult
    func control(_ body: [String: Any]) async throws -> [String: Any] {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let answer = try await HTTPExchange.send(
            port: port, method: "POST", target: "/control", headers: ["Content-Type: application/json"], body: json)
        XCTAssertEqual(answer.status, 200, answer.body)
        return (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any] ?? [:]
    }

    func stop() { peer.stop() }
}
