import Foundation
import XCTest

@testable import HappyDesk

/// Issue 12, item 8: `HAPPYDESK_SMTP_RATE_LIMIT` paces SMTP sends evenly; a relay's 451 and a webhook's 429
/// defer without dead-lettering, honouring `Retry-After`; `outbox list` says when the next send is allowed.
/// Against the real aiosmtpd server and HTTP listener, on both backends.
final class DeliveryPacingTests: XCTestCase {
    func testRateLimitParsesTheDocumentedFormsAndRefusesOthers() throws {
        XCTAssertEqual(try SMTPRateLimit.parse("30/min").interval, 2)
        XCTAssertEqual(try SMTPRateLimit.parse("600/min").interval, 0.1, accuracy: 1e-9)
        XCTAssertEqual(try SMTPRateLimit.parse("5/s").interval, 0.2, accuracy: 1e-9)
        XCTAssertEqual(try SMTPRateLimit.parse("1000/h").interval, 3.6, accuracy: 1e-9)
        XCTAssertEqual(try SMTPRateLimit.parse("120/min").description, "120/min")
        for bad in ["", "30", "0/min", "-1/s", "30/day", "x/min", "30/min/s"] {
            XCTAssertThrowsError(try SMTPRateLimit.parse(bad), bad)
        }
    }

    func testABadRateLimitIsAOneLineError() throws {
        let directory = try makeTemporaryDirectory()
        let run = try runHappydesk(
            ["outbox", "send", "--database", directory.appendingPathComponent("h.sqlite").path],
            environment: ["HAPPYDESK_SMTP_RATE_LIMIT": "30/fortnight"])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.err.contains("HAPPYDESK_SMTP_RATE_LIMIT must be messages per s, min or h"), run.err)
        XCTAssertEqual(run.err.split(separator: "\n").count, 1, run.err)
    }

    func testSendsToTheRelayStartAtLeastOneIntervalApart() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)"
            $0.delivery.smtpRateLimit = try? SMTPRateLimit.parse("120/min")
            $0.delivery.concurrency = 4
        }
        for i in 0..<6 { try await harness.invite(ticket: "INC-PACE-\(i)", email: "pace\(i)@example.com") }

        try await harness.deliverAll(timeout: 30)

        let mails = await smtp.waitForRecords(6)
        XCTAssertEqual(mails.count, 6)
        let times = mails.compactMap { ($0["received_at"] as? NSNumber)?.doubleValue }.sorted()
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        // 120/min is one message every 0.5 s; a little tolerance for scheduling and the relay's own timing.
        XCTAssertTrue(gaps.allSatisfy { $0 >= 0.45 }, "gaps between receptions: \(gaps)")

        let listed = try runHappydesk(["outbox", "list", "--smtp-rate-limit", "120/min"], environment: databaseEnvironment(harness.server))
        XCTAssertEqual(listed.status, 0, listed.err)
        XCTAssertTrue(listed.out.hasPrefix("next send allowed: "), listed.out)
    }

    func testAThrottlingRelayDefersWithoutDeadLetteringAndEverythingArrives() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", arguments: ["--throttle-first", "6"], log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)"
            $0.delivery.maxAttempts = 2
            $0.delivery.concurrency = 2
        }
        for i in 0..<3 { try await harness.invite(ticket: "INC-451-\(i)", email: "throttled\(i)@example.com") }

        try await harness.deliverAll(timeout: 30)

        let rows = try await harness.deliveries()
        XCTAssertEqual(rows.map { $0["status"] as String }, ["sent", "sent", "sent"], "nothing dead-lettered")
        var deferrals = 0
        for row in rows {
            let attempts = try await harness.attempts(row["id"])
            deferrals += attempts.filter { $0.statusCode == 451 }.count
            XCTAssertEqual(row["attempts"], 1, "only the successful send counts as an attempt")
        }
        XCTAssertEqual(deferrals, 6, "six 451 answers, more than maxAttempts per row on average, and none dead-lettered")
        let mails = await smtp.waitForRecords(3)
        XCTAssertEqual(mails.count, 3)
        XCTAssertEqual(harness.dispatcher.metrics.exposition().contains(#"happydesk_deliveries_total{channel="email",result="deferred"} 6"#), true)
    }

    func testAWebhookAnswering429IsRetriedAfterItsRetryAfterWithoutSpendingAttempts() async throws {
        let dir = try makeTemporaryDirectory()
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("hooks.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.deliveryWebhookURL = "http://127.0.0.1:\(listener.port)/throttle/2/1"
            $0.delivery.maxAttempts = 1
            $0.delivery.backoffMax = 5
        }
        try await harness.invite(ticket: "INC-429")

        try await harness.deliverAll(timeout: 30)

        let posts = await listener.waitForRecords(3)
        XCTAssertEqual(posts.count, 3, "two 429s, then 200")
        let times = posts.compactMap { ($0["received_at"] as? NSNumber)?.doubleValue }
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        XCTAssertTrue(gaps.allSatisfy { $0 >= 0.95 }, "Retry-After: 1 honoured (the backoff alone would be 0.05 s): \(gaps)")
        let rowFound = try await harness.deliveries().first
        let row = try XCTUnwrap(rowFound)
        XCTAssertEqual(row["status"], "sent", "with maxAttempts 1, a counted 429 would have dead-lettered it")
        let attempts = try await harness.attempts(row["id"])
        XCTAssertEqual(attempts.map(\.statusCode), [429, 429, 200])
    }

    func databaseEnvironment(_ server: HappyDeskServer) -> [String: String] {
        if let url = server.settings.databaseURL { return ["HAPPYDESK_DATABASE_URL": url] }
        return ["HAPPYDESK_DATABASE": server.settings.databasePath]
    }

    /// A relay's pause that arrives while sends wait for their slots holds them back, and they then start one
    /// interval apart, not together.
    func testAPauseHoldsBackSendsAlreadyWaitingForTheirSlot() async throws {
        let pacer = SMTPPacer(limit: try SMTPRateLimit.parse("10/s"))
        let start = ContinuousClock.now
        try await pacer.acquire()
        async let second: ContinuousClock.Instant = {
            try await pacer.acquire()
            return ContinuousClock.now
        }()
        async let third: ContinuousClock.Instant = {
            try await pacer.acquire()
            return ContinuousClock.now
        }()
        try await Task.sleep(for: .milliseconds(30))
        pacer.pause(for: 0.4)
        let (b, c) = try await (second, third)
        let bAt = (b - start) / .milliseconds(1)
        let cAt = (c - start) / .milliseconds(1)
        XCTAssertGreaterThanOrEqual(bAt, 420, "the second send waited out the pause")
        XCTAssertGreaterThanOrEqual(cAt, 420, "the third send waited out the pause")
        XCTAssertGreaterThanOrEqual(abs(cAt - bAt), 90, "after the pause, sends are still one interval apart")
    }
}
