import Foundation
import XCTest

@testable import HappyDesk

/// Emailed sign-in links through the outbox and a real SMTP server (aiosmtpd, `Tests/Support/smtp_server.py`),
/// used over real sockets: GET shows only a button, POST signs in once.
final class SignInEmailTests: XCTestCase {
    struct Setup {
        let harness: SignInHarness
        let smtp: PythonPeer
        let dispatcher: OutboxDispatcher
    }

    func makeSetup() async throws -> Setup {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try await SignInHarness(directory: dir) { settings in
            settings.smtpURL = "smtp://127.0.0.1:\(smtp.port)"
            settings.delivery.smtpFrom = "Service Desk <desk@happydesk.test>"
            settings.delivery.smtpTLS = "off"
            settings.delivery.connectTimeout = 2
            settings.delivery.timeout = 3
        }
        return Setup(harness: harness, smtp: smtp, dispatcher: try OutboxDispatcher(server: harness.server))
    }

    func requestLink(_ harness: SignInHarness, email: String) async throws -> HTTPExchange {
        try await HTTPExchange.send(
            port: harness.port, method: "POST", target: "/signin/email",
            headers: ["Content-Type: application/x-www-form-urlencoded", "Origin: \(harness.origin)"],
            body: "email=" + (email.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
    }

    /// The sign-in emails received so far (the closures' survey emails to their requester are left out).
    func signInMails(_ smtp: PythonPeer, _ count: Int, timeout: TimeInterval = 5) async -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        var mails: [[String: Any]] = []
        repeat {
            mails = smtp.records().filter { $0.string("subject") == "Your happydesk sign-in link" }
            if mails.count >= count { break }
            try? await Task.sleep(for: .milliseconds(50))
        } while Date() < deadline
        return mails
    }

    func link(in mail: [String: Any]) throws -> String {
        let text = mail.string("text")
        let range = try XCTUnwrap(text.range(of: #"http://127\.0\.0\.1:\d+/signin/link/[A-Za-z0-9_-]{43}"#, options: .regularExpression), text)
        return String(text[range])
    }

    func testAnEmailedLinkSignsInOnceByPostAndNeverByGet() async throws {
        let setup = try await makeSetup()
        let harness = setup.harness
        try await harness.closure(ticket: "INC-MAIL-1", assigneeEmail: "sam@example.com")

        let asked = try await requestLink(harness, email: "Sam@Example.com")
        XCTAssertEqual(asked.status, 200)
        XCTAssertTrue(asked.body.contains("a sign-in link is on its way"), asked.body)
        _ = try await setup.dispatcher.drain()
        let mails = await signInMails(setup.smtp, 1)
        XCTAssertEqual(mails.count, 1)
        let mail = try XCTUnwrap(mails.first)
        XCTAssertEqual(mail["rcpt_tos"] as? [String], ["sam@example.com"])
        XCTAssertEqual(mail.string("subject"), "Your happydesk sign-in link")
        let url = try link(in: mail)
        let path = String(url[try XCTUnwrap(url.range(of: "/signin/link/"))!.lowerBound...])
        let token = String(path.dropFirst("/signin/link/".count))

        // Never stored in clear: the link table holds its hash, the outbox a sealed box.
        let clear = try await harness.server.database.read { db in
            try db.scalar(
                Int.self, "SELECT count(*) FROM deliveries WHERE payload LIKE ? OR CAST(sealed_token AS TEXT) LIKE ?", "%\(token)%", "%\(token)%")
        }
        XCTAssertEqual(clear, 0)

        // A mail scanner's GET only sees a button, and uses nothing up.
        for _ in 0..<2 {
            let shown = try await HTTPExchange.send(port: harness.port, target: path)
            XCTAssertEqual(shown.status, 200)
            XCTAssertTrue(shown.body.contains("<form method=\"post\" action=\"\(path)\">"), shown.body)
            XCTAssertNil(shown.cookie(AuthMiddleware.cookieName))
        }
        let before = try await harness.count("sessions")
        XCTAssertEqual(before, 0)

        let used = try await HTTPExchange.send(port: harness.port, method: "POST", target: path, headers: ["Origin: \(harness.origin)"])
        XCTAssertEqual(used.status, 303, used.body)
        XCTAssertEqual(used.header("Location"), "/analyst")
        let session = try XCTUnwrap(used.cookie(AuthMiddleware.cookieName))
        let page = try await HTTPExchange.send(port: harness.port, target: "/analyst", headers: ["Cookie: \(session)"])
        XCTAssertTrue(page.body.contains("id=\"hd-name\">Sam Analyst<"), "provisioned from the closure's assignee")
        let user = try await harness.role(email: "sam@example.com")
        XCTAssertEqual(user?.assigneeID, "analyst-7")

        let reused = try await HTTPExchange.send(port: harness.port, method: "POST", target: path, headers: ["Origin: \(harness.origin)"])
        XCTAssertEqual(reused.status, 410)
        XCTAssertTrue(reused.body.contains("already used"), reused.body)
        let after = try await harness.count("sessions")
        XCTAssertEqual(after, 1)

        let wrong = try await HTTPExchange.send(
            port: harness.port, method: "POST", target: "/signin/link/" + SurveyToken.generate().value, headers: ["Origin: \(harness.origin)"])
        XCTAssertEqual(wrong.status, 404)
        XCTAssertTrue(wrong.body.contains("This link is not valid"), wrong.body)
    }

    func testAnExpiredLinkIsRefused() async throws {
        let setup = try await makeSetup()
        let harness = setup.harness
        try await harness.closure(ticket: "INC-MAIL-2", assigneeEmail: "sam@example.com")
        _ = try await requestLink(harness, email: "sam@example.com")
        _ = try await setup.dispatcher.drain()
        let mails = await signInMails(setup.smtp, 1)
        let url = try link(in: try XCTUnwrap(mails.first))
        let path = String(url[try XCTUnwrap(url.range(of: "/signin/link/"))!.lowerBound...])
        try await harness.server.database.write { db in
            _ = try db.execute("UPDATE signin_links SET expires_at = ?", Date().addingTimeInterval(-1))
        }
        let shown = try await HTTPExchange.send(port: harness.port, target: path)
        XCTAssertEqual(shown.status, 410)
        XCTAssertTrue(shown.body.contains("has expired"))
        let used = try await HTTPExchange.send(port: harness.port, method: "POST", target: path, headers: ["Origin: \(harness.origin)"])
        XCTAssertEqual(used.status, 410)
        XCTAssertTrue(used.body.contains("Links work for 15 minutes"), used.body)
        let sessions = try await harness.count("sessions")
        XCTAssertEqual(sessions, 0)
    }

    func testAnUnknownAddressGetsTheSamePageAndNoMail() async throws {
        let setup = try await makeSetup()
        let harness = setup.harness
        try await harness.closure(ticket: "INC-MAIL-3", assigneeEmail: "sam@example.com")
        let known = try await requestLink(harness, email: "sam@example.com")
        let unknown = try await requestLink(harness, email: "nobody@example.com")
        XCTAssertEqual(known.status, unknown.status)
        func notice(_ body: String) -> String? {
            body.range(of: #"<p class="notice"[^<]*</p>"#, options: .regularExpression).map { String(body[$0]) }
        }
        XCTAssertNotNil(notice(unknown.body))
        XCTAssertEqual(notice(known.body), notice(unknown.body), "the answer does not tell whether the address is known")
        _ = try await setup.dispatcher.drain()
        let mails = await signInMails(setup.smtp, 2, timeout: 2)
        XCTAssertEqual(mails.count, 1)
        XCTAssertFalse(setup.smtp.records().contains { ($0["rcpt_tos"] as? [String]) == ["nobody@example.com"] })
        XCTAssertEqual(mails.first?["rcpt_tos"] as? [String], ["sam@example.com"])
        let links = try await harness.count("signin_links")
        XCTAssertEqual(links, 1, "nothing is stored for an unknown address")
    }

    func testOneAddressCannotBeMailBombed() async throws {
        let setup = try await makeSetup()
        let harness = setup.harness
        try await harness.closure(ticket: "INC-MAIL-4", assigneeEmail: "sam@example.com")
        for _ in 0..<8 {
            let asked = try await requestLink(harness, email: "sam@example.com")
            XCTAssertEqual(asked.status, 200)
        }
        let links = try await harness.count("signin_links")
        XCTAssertEqual(links, 5, "at most five links an hour to one address")
    }

    /// In a real browser: the link page's "Sign in" button posts with the browser's own Origin header (a page
    /// under `Referrer-Policy: no-referrer` would send `Origin: null`, which the Origin check refuses).
    func testAnEmailedLinkSignsInFromChromium() async throws {
        let setup = try await makeSetup()
        let harness = setup.harness
        _ = try await harness.server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst)
        let asked = try await requestLink(harness, email: "sam@example.com")
        XCTAssertEqual(asked.status, 200)
        _ = try await setup.dispatcher.drain()
        let mails = await signInMails(setup.smtp, 1)
        let mail = try XCTUnwrap(mails.first)
        let url = try link(in: mail)
        let (status, transcript) = try await SignInBrowserTests.browser(
            "signin_link.py", ["--link", url, "--expect-path", "/analyst", "--expect-name", "Sam Analyst", "--timeout", "30"],
            directory: try makeTemporaryDirectory())
        XCTAssertEqual(status, 0, transcript)
        XCTAssertTrue(transcript.contains("OK:"), transcript)
        let sessions = try await harness.count("sessions")
        XCTAssertEqual(sessions, 1)
    }
}
