import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// The generated file in a real browser, and the `happydesk` binary's exits on bad input.
final class DashboardEndToEndTests: XCTestCase {
    /// A small realistic database made by the demo generator, ending on a fixed day so the page is reproducible.
    func demoDatabase(responses: Int = 3_000) throws -> DashboardFixture {
        let fixture = try DashboardFixture()
        var generator = DemoGenerator(responses: responses, days: 150)
        generator.endDate = try XCTUnwrap(DashboardDay.date("2026-11-20")).addingTimeInterval(18 * 3600)
        try generator.run(writer: fixture.storage, catalog: try fixture.catalog)
        return fixture
    }

    func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testTheGeneratedFileLoadsInHeadlessChromiumWithNoErrorsAndNoRequests() throws {
        try requirePeer(which("chromium") != nil && which("chromedriver") != nil, "chromium or chromedriver is not installed")
        try requirePeer((try? run("/usr/bin/env", ["python3", "-c", "import selenium"]).status) == 0, "python selenium is not installed")
        let fixture = try demoDatabase()
        let report = try fixture.builder().build(
            DashboardFilters(period: .month, dimension: .service), now: Date(timeIntervalSince1970: 1_795_000_000))
        XCTAssertTrue(report.hasData)
        let page = fixture.directory.appendingPathComponent("dashboard.html")
        try Data(DashboardHTML.render(report).utf8).write(to: page)
        let screenshot = ProcessInfo.processInfo.environment["HAPPYDESK_SCREENSHOT"] ?? fixture.directory.appendingPathComponent("dashboard.png").path
        let script = repositoryRoot.appendingPathComponent("Tests/Browser/dashboard_check.py").path
        let result = try run("/usr/bin/env", ["python3", script, page.path, screenshot])
        let json = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        XCTAssertEqual(result.status, 0, "stdout: \(result.stdout) stderr: \(result.stderr.suffix(2000))")
        XCTAssertEqual((json["console_errors"] as? [Any])?.count, 0, result.stdout)
        XCTAssertEqual((json["network_requests"] as? [Any])?.count, 0, result.stdout)
        XCTAssertGreaterThanOrEqual(json["svg_charts"] as? Int ?? 0, 6, result.stdout)
        XCTAssertTrue((json["title"] as? String ?? "").hasPrefix("Happiness dashboard"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: screenshot))
    }

    func testTheCommandLineFailsWithOneLineOnBadInput() throws {
        try sqliteOnly("missing and corrupt database files")
        let binary = repositoryRoot.appendingPathComponent(".build/debug/happydesk").path
        try requirePeer(FileManager.default.isExecutableFile(atPath: binary), "build the happydesk binary first (swift build)")
        let fixture = try demoDatabase(responses: 400)
        let common = [
            "--surveys", repositoryRoot.appendingPathComponent("Surveys").path, "--migrations",
            repositoryRoot.appendingPathComponent("Migrations").path,
        ]
        let out = fixture.directory.appendingPathComponent("d.html").path
        func dashboard(_ args: [String], database: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
            try run(binary, ["dashboard", "--database", database ?? fixture.path, "--out", out] + common + args)
        }
        let ok = try dashboard(["--period", "week", "--by", "assignee", "--kind", "incident"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).contains("Hotspots by assignee"))
        for (args, expected) in [
            (["--by", "planet"], "unknown dimension"), (["--period", "year"], "unknown period"),
            (["--from", "2026-11-10", "--to", "2026-11-01"], "is after --to"), (["--format", "xml"], "unknown format"),
        ] {
            let result = try dashboard(args)
            XCTAssertNotEqual(result.status, 0, "\(args)")
            XCTAssertTrue(result.stderr.contains(expected), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        let missing = try dashboard([], database: fixture.directory.appendingPathComponent("nope.sqlite").path)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no database"), missing.stderr)
        let garbage = fixture.directory.appendingPathComponent("garbage.sqlite").path
        try Data("this is not a database, just text long enough to be read as a header".utf8).write(to: URL(fileURLWithPath: garbage))
        let unreadable = try dashboard([], database: garbage)
        XCTAssertNotEqual(unreadable.status, 0)
        XCTAssertEqual(unreadable.stderr.split(separator: "\n").count, 1, unreadable.stderr)
        let bare = fixture.directory.appendingPathComponent("bare.sqlite").path
        _ = try run("/usr/bin/env", ["sqlite3", bare, "CREATE TABLE t (x)"])
        let unmigrated = try dashboard([], database: bare)
        XCTAssertNotEqual(unmigrated.status, 0)
        XCTAssertTrue(unmigrated.stderr.contains("not migrated"), unmigrated.stderr)

        let empty = try dashboard(["--from", "2001-01-01", "--to", "2001-01-31"])
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.stderr.contains("no responses"), empty.stderr)
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).contains("No data"), "the page saying so is still written")

        let json = try run(binary, ["dashboard", "--database", fixture.path, "--format", "json", "--out", "-"] + common)
        XCTAssertEqual(json.status, 0, json.stderr)
        let parsed = (try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) as? [String: Any]
        XCTAssertNotNil(parsed?["overall"])
        let csv = try run(binary, ["dashboard", "--database", fixture.path, "--format", "csv", "--out", "-"] + common)
        XCTAssertEqual(csv.status, 0, csv.stderr)
        XCTAssertTrue(csv.stdout.hasPrefix("section,"))
    }

    func testDemoDataLooksLikeAServiceDesk() throws {
        let fixture = try demoDatabase()
        let report = try fixture.builder().build(DashboardFilters(period: .month, dimension: .service))
        XCTAssertEqual(report.overall.figures.responses, 3_000)
        let happiness = try XCTUnwrap(report.overall.figures.happiness)
        XCTAssertTrue((40...90).contains(happiness), "happiness \(happiness)")
        let pareto = try XCTUnwrap(report.lostTime.paretoShare)
        XCTAssertTrue((0.07...0.2).contains(pareto), "pareto \(pareto)")
        let zero = try XCTUnwrap(report.reassignments.first { $0.value == "0" }?.figures.happiness)
        let two = try XCTUnwrap(report.reassignments.first { $0.value == "2" }?.figures.happiness)
        XCTAssertGreaterThan(zero, two + 8, "reassignments lower happiness")
        XCTAssertTrue((0.3...0.5).contains(report.overall.responseRate ?? 0), "rate \(report.overall.responseRate ?? 0)")
    }

    /// A lead's dashboard as the server serves it (bearer token, real socket), opened in headless Chromium: only
    /// the lead's group, no console errors, no requests. `HAPPYDESK_LEAD_SCREENSHOT` names where to keep the
    /// screenshot (the README's `docs/screenshots/lead-dashboard.png`).
    func testALeadsDashboardInHeadlessChromium() async throws {
        try requirePeer(which("chromium") != nil && which("chromedriver") != nil, "chromium or chromedriver is not installed")
        try requirePeer((try? run("/usr/bin/env", ["python3", "-c", "import selenium"]).status) == 0, "python selenium is not installed")
        let directory = try makeTemporaryDirectory()
        let server = try makeServer(directory: directory)
        var generator = DemoGenerator(responses: 2_000, days: 150)
        generator.endDate = try XCTUnwrap(DashboardDay.date("2026-11-20")).addingTimeInterval(18 * 3600)
        try generator.run(writer: server.database, catalog: server.catalog)
        let (_, lead) = try await server.users.add(name: "Lee Lead", email: "lee@example.com", role: .lead, groups: ["Network"])
        let page = directory.appendingPathComponent("lead.html")
        try await buildApplication(server).test(.live) { client in
            let response = try await client.get("/dashboard?by=assignee", token: lead)
            XCTAssertEqual(response.status, .ok)
            XCTAssertTrue(response.text.contains("groups: Network"))
            for other in DemoGenerator.groups where other != "Network" { XCTAssertFalse(response.text.contains(">\(other)<"), other) }
            try Data(response.text.utf8).write(to: page)
        }
        let screenshot =
            ProcessInfo.processInfo.environment["HAPPYDESK_LEAD_SCREENSHOT"] ?? directory.appendingPathComponent("lead-dashboard.png").path
        let script = repositoryRoot.appendingPathComponent("Tests/Browser/dashboard_check.py").path
        let result = try run("/usr/bin/env", ["python3", script, page.path, screenshot, "1280", "2600"])
        let json = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        XCTAssertEqual(result.status, 0, "stdout: \(result.stdout) stderr: \(result.stderr.suffix(2000))")
        XCTAssertEqual((json["console_errors"] as? [Any])?.count, 0, result.stdout)
        XCTAssertEqual((json["network_requests"] as? [Any])?.count, 0, result.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: screenshot))
    }
}
