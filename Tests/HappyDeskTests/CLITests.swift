import Foundation
import XCTest

/// Runs the built `happydesk` binary as a user would, checking exit codes and one-line errors.
final class CLITests: XCTestCase {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("happydesk")
    }

    struct Run {
        var status: Int32
        var out: String
        var err: String
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let result = try runHappydesk(arguments, environment: environment)
        return Run(status: result.status, out: result.out, err: result.err)
    }

    func testSurveysCheckAcceptsTheShippedSurveys() throws {
        let result = try run(["surveys", "check"])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.contains("ok  incident (incident)"))
        XCTAssertTrue(result.out.contains("ok  request (request)"))
    }

    func testSurveysCheckNamesTheBrokenFileLineAndField() throws {
        let dir = try makeTemporaryDirectory()
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("Surveys"), to: dir.appendingPathComponent("Surveys"))
        let file = dir.appendingPathComponent("Surveys/request.yml")
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "minutes: 90,", with: "minutes: -5,")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try run(["surveys", "check", "--surveys", dir.appendingPathComponent("Surveys").path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.err.hasPrefix("happydesk: error: request.yml:"), result.err)
        XCTAssertTrue(result.err.contains("lost_time.buckets[3].minutes"), result.err)
        XCTAssertEqual(result.err.split(separator: "\n").count, 1, "one line")
    }

    func testMigrateCreatesTheDatabaseAndIsIdempotent() throws {
        let dir = try makeTemporaryDirectory()
        let db = dir.appendingPathComponent("sub/happy.sqlite").path
        let first = try run(["migrate"], environment: ["HAPPYDESK_DATABASE": db])
        XCTAssertEqual(first.status, 0, first.err)
        XCTAssertTrue(first.out.contains("applied 0001_init"), first.out)
        let again = try run(["migrate", "--database", db])
        XCTAssertTrue(again.out.contains("is up to date"), again.out)
    }

    func testServeRefusesABadPortWithOneLine() throws {
        let result = try run(["serve", "--port", "70000"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.err.contains("port must be from 1 to 65535"), result.err)
    }

    func testUsersAddPrintsATokenOnceAndRejectsUnknownRoles() throws {
        let dir = try makeTemporaryDirectory()
        let db = dir.appendingPathComponent("u.sqlite").path
        let added = try run(["users", "add", "--database", db, "--name", "Sam Analyst", "--email", "sam@example.com", "--role", "analyst"])
        XCTAssertEqual(added.status, 0, added.err)
        XCTAssertTrue(added.out.contains("API token (shown once): hd_"))
        let listed = try run(["users", "list", "--database", db])
        XCTAssertTrue(listed.out.contains("analyst\tactive\tSam Analyst <sam@example.com>"), listed.out)
        XCTAssertFalse(listed.out.contains("hd_"), "tokens are never shown again")
        let bad = try run(["users", "add", "--database", db, "--name", "X", "--email", "x@example.com", "--role", "boss"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("role must be analyst, manager, admin or integration"))
    }

    func testSMTPTLSHelpStatesTheAUTHRuleAndABadModeIsAOneLineError() throws {
        let help = try run(["serve", "--help"])
        let words = help.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(words.contains("(default: required when an SMTP user is set, else opportunistic)"), help.out)
        let dir = try makeTemporaryDirectory()
        let bad = try run(
            ["outbox", "send", "--database", dir.appendingPathComponent("h.sqlite").path], environment: ["HAPPYDESK_SMTP_TLS": "maybe"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("HAPPYDESK_SMTP_TLS must be required, opportunistic or off, not 'maybe'"), bad.err)
        XCTAssertEqual(bad.err.split(separator: "\n").count, 1, "one line")
    }
}
