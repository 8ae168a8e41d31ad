import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

@testable import HappyDesk

/// The analyst page in a real headless Chromium (Tests/Browser/analyst_live.py, selenium + chromedriver):
/// a response submitted by another client appears without reloading, and a reply sent from the page lands in its thread.
final class StreamBrowserTests: XCTestCase {
    func testAResponseSubmittedElsewhereAppearsOnTheAnalystPageWithoutAReload() async throws {
        try requirePeer(
            (Self.which("chromium") != nil || Self.which("chromium-browser") != nil) && Self.which("chromedriver") != nil,
            "chromium and chromedriver are not installed (scripts/deps.sh test installs them)")
        let dir = try makeTemporaryDirectory()
        // The page's Origin must be the public URL's, so the browser's server listens where its public URL
        // says (the live test server always takes a random port); it shares the test server's database and hub.
        let port = freeTCPPort()
        var settings = makeSettings(directory: dir)
        settings.port = port
        settings.publicURL = "http://127.0.0.1:\(port)"
        let server = try HappyDeskServer.open(settings: settings, logger: Logger(label: "test"))
        try addTestIntegration(to: server)
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let browserServer = Task { try await buildApplication(server).runService(gracefulShutdownSignals: []) }
            defer { browserServer.cancel() }
            let health = try await waitForHealth(port: port)
            XCTAssertEqual(health, 200, "the browser's server did not start")
            let token = try await client.invitation(ticket: "INC-BROWSER")
            let ready = dir.appendingPathComponent("browser-ready")
            let output = dir.appendingPathComponent("browser.log")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            let log = try FileHandle(forWritingTo: output)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", repositoryRoot.appendingPathComponent("Tests/Browser/analyst_live.py").path,
                "--url", "http://127.0.0.1:\(port)", "--token", people.sam, "--ticket", "INC-BROWSER",
                "--ready-file", ready.path, "--timeout", "40",
            ]
            process.standardOutput = log
            process.standardError = log
            let exited = AsyncStream<Int32>.makeStream()
            process.terminationHandler = {
                exited.continuation.yield($0.terminationStatus); exited.continuation.finish()
            }
            try process.run()

            let deadline = ContinuousClock.now + .seconds(60)
            while !FileManager.default.fileExists(atPath: ready.path), process.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            if FileManager.default.fileExists(atPath: ready.path) {
                // Another client (this test) answers while the page is open.
                try await client.answer(token, score: 3, factors: ["slow"], comment: "Took too long <b>really</b>")
            }
            var status: Int32 = -1
            for await code in exited.stream { status = code }
            try? log.close()
            let transcript = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            try requirePeer(status != 77, "browser tooling missing: \(transcript)")
            XCTAssertEqual(status, 0, transcript)
            XCTAssertTrue(transcript.contains("OK:"), transcript)
        }
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
