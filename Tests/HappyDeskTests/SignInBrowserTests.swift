import Foundation
import XCTest

@testable import HappyDesk

/// Single sign-on in a real headless Chromium (`Tests/Browser/signin_oidc.py`) through the real OpenID provider:
/// the provider button, the cross-site redirect back (SameSite=Lax cookies), the landing page by role, the
/// header's name, and signing out. Also takes the README's screenshot of the sign-in page.
final class SignInBrowserTests: XCTestCase {
    func run(email: String, name: String, groups: [String], expectPath: String, screenshot: Bool) async throws {
        try requirePeer(
            (StreamBrowserTests.which("chromium") != nil || StreamBrowserTests.which("chromium-browser") != nil)
                && StreamBrowserTests.which("chromedriver") != nil,
            "chromium and chromedriver are not installed (scripts/deps.sh test installs them)")
        let dir = try makeTemporaryDirectory()
        let provider = try OIDCProvider(directory: dir, arguments: ["--email", email, "--name", name, "--groups", groups.joined(separator: ",")])
        let harness = try await SignInHarness(directory: dir) { settings in
            settings.oidc = provider.settings()
            settings.oidc?.name = "Contoso ID"
        }
        try await harness.closure(ticket: "INC-BROWSER-SSO", assigneeEmail: "sam@example.com")
        var arguments = [
            "--url", harness.origin, "--expect-path", expectPath, "--expect-name", name, "--timeout", "30",
        ]
        if screenshot {
            arguments += ["--screenshot", repositoryRoot.appendingPathComponent("docs/screenshots/signin.png").path]
        }
        let (status, transcript) = try await Self.browser("signin_oidc.py", arguments, directory: dir)
        XCTAssertEqual(status, 0, transcript)
        XCTAssertTrue(transcript.contains("OK:"), transcript)
        let sessions = try await harness.count("sessions")
        XCTAssertEqual(sessions, 0, "signed out")
    }

    func testAnAnalystSignsInWithTheProviderAndLandsOnTheAnalystPage() async throws {
        try await run(email: "sam@example.com", name: "Sam Analyst", groups: [], expectPath: "/analyst", screenshot: true)
    }

    func testAManagerGroupLandsOnTheDashboard() async throws {
        try await run(email: "mia@example.com", name: "Mia Manager", groups: ["desk-managers"], expectPath: "/dashboard", screenshot: false)
    }

    /// Runs a `Tests/Browser` script with Python; returns its exit status and transcript. A missing Chromium or
    /// selenium (exit 77) fails under CI and skips elsewhere.
    static func browser(_ script: String, _ arguments: [String], directory: URL) async throws -> (Int32, String) {
        try requirePeer(
            (StreamBrowserTests.which("chromium") != nil || StreamBrowserTests.which("chromium-browser") != nil)
                && StreamBrowserTests.which("chromedriver") != nil,
            "chromium and chromedriver are not installed (scripts/deps.sh test installs them)")
        let output = directory.appendingPathComponent("browser-\(script).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let log = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot.appendingPathComponent("Tests/Browser/\(script)").path] + arguments
        process.standardOutput = log
        process.standardError = log
        let exited = AsyncStream<Int32>.makeStream()
        process.terminationHandler = {
            exited.continuation.yield($0.terminationStatus)
            exited.continuation.finish()
        }
        try process.run()
        var status: Int32 = -1
        for await code in exited.stream { status = code }
        try? log.close()
        let transcript = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        try requirePeer(status != 77, "browser tooling missing: \(transcript)")
        return (status, transcript)
    }
}
