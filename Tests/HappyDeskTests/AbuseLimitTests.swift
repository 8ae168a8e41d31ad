import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import WSClient
import XCTest

@testable import HappyDesk

/// Issue 9, item 4: rate limits answer 429 with Retry-After, a full write queue answers 503, idle and
/// half-sent connections are closed, and the dashboard range and WebSocket frames are bounded where read.
final class AbuseLimitTests: XCTestCase {
    /// A server with its own limits; the defaults elsewhere stay as shipped.
    func makeLimitedServer(secret: String? = nil, _ change: (inout LimitSettings) -> Void) throws -> HappyDeskServer {
        let directory = try makeTemporaryDirectory()
        var settings = makeSettings(directory: directory, secret: secret)
        change(&settings.limits)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let server = try HappyDeskServer.open(settings: settings, logger: logger)
        try addTestIntegration(to: server)
        return server
    }

    // MARK: settings

    func testBadLimitSettingsStopServeWithOneLineNamingTheVariable() throws {
        let database = try makeTemporaryDirectory().appendingPathComponent("h.sqlite").path
        let cases = [
            ("HAPPYDESK_RATE_LIMIT_SIGNIN", "10/fortnight"), ("HAPPYDESK_RATE_LIMIT_SURVEY", "lots"), ("HAPPYDESK_RATE_LIMIT_CLOSURES", "0/min"),
            ("HAPPYDESK_WRITE_QUEUE_LIMIT", "-3"), ("HAPPYDESK_HTTP_IDLE_TIMEOUT", "0"), ("HAPPYDESK_TRUST_PROXY", "maybe"),
        ]
        for (variable, value) in cases {
            let result = try runHappydesk(["serve", "--port", "1"], environment: ["HAPPYDESK_DATABASE": database, variable: value])
            let text = result.err
            XCTAssertEqual(result.status, 1, "\(variable)=\(value): \(text)")
            XCTAssertTrue(text.hasPrefix("happydesk: error: \(variable) "), text)
            XCTAssertTrue(text.contains(value), text)
            XCTAssertEqual(text.split(separator: "\n").count, 1, "one line: \(text)")
        }
    }

    // MARK: the token bucket

    func testRatesParseAsCountPerPeriodAndOffDisables() throws {
        XCTAssertEqual(try RateLimit.parse("10/min"), RateLimit(count: 10, per: .minute))
        XCTAssertEqual(try RateLimit.parse(" 5 / sec "), RateLimit(count: 5, per: .second))
        XCTAssertEqual(try RateLimit.parse("100/hour"), RateLimit(count: 100, per: .hour))
        XCTAssertNil(try RateLimit.parse("off"))
        for bad in ["", "10", "10/day", "0/min", "-1/min", "ten/min", "10/min/x", "é/min"] {
            XCTAssertThrowsError(try RateLimit.parse(bad), bad) { error in
                XCTAssertTrue("\(error)".contains("N/sec, N/min or N/hour"), "\(error)")
            }
        }
    }

    func testABucketAllowsItsBurstThenOneRequestPerRefill() throws {
        let clock = Mutex(0.0)
        let limiter = RateLimiter(
            id: "survey", counts: "answers", variable: "HAPPYDESK_RATE_LIMIT_SURVEY", limit: RateLimit(count: 3, per: .minute),
            now: { clock.withLock { $0 } })
        for _ in 0..<3 { XCTAssertNoThrow(try limiter.acquire("a")) }
        XCTAssertThrowsError(try limiter.acquire("a")) { error in
            let error = error as? AppError
            XCTAssertEqual(error?.status, .tooManyRequests)
            // One token comes back every 20 seconds.
            XCTAssertEqual(error?.headers[.retryAfter], "20")
            XCTAssertEqual(error?.limit, "survey")
            XCTAssertTrue(error?.message.contains("3/min (HAPPYDESK_RATE_LIMIT_SURVEY)") == true, error?.message ?? "")
        }
        // Another key has its own bucket.
        XCTAssertNoThrow(try limiter.acquire("b"))
        clock.withLock { $0 = 19 }
        XCTAssertThrowsError(try limiter.acquire("a")) { XCTAssertEqual(($0 as? AppError)?.headers[.retryAfter], "1") }
        clock.withLock { $0 = 20 }
        XCTAssertNoThrow(try limiter.acquire("a"))
        XCTAssertThrowsError(try limiter.acquire("a"))
        // A refund gives back what a request that did not count spent.
        limiter.refund("a")
        XCTAssertNoThrow(try limiter.acquire("a"))
    }

    func testCountingOnlyFailuresChecksWithoutSpending() throws {
        let limiter = RateLimiter(
            id: "signin", counts: "failed sign-ins", variable: "HAPPYDESK_RATE_LIMIT_SIGNIN", limit: RateLimit(count: 2, per: .hour), now: { 0 })
        for _ in 0..<10 { XCTAssertNoThrow(try limiter.check("10.0.0.1")) }
        limiter.record("10.0.0.1")
        limiter.record("10.0.0.1")
        XCTAssertThrowsError(try limiter.check("10.0.0.1")) { XCTAssertEqual(($0 as? AppError)?.headers[.retryAfter], "1800") }
    }

    func testMadeUpKeysNeverGrowTheTablePastItsCap() throws {
        let clock = Mutex(0.0)
        let limiter = RateLimiter(
            id: "survey", counts: "answers", variable: "V", limit: RateLimit(count: 5, per: .minute), maxKeys: 500,
            now: { clock.withLock { $0 } })
        for i in 0..<20_000 {
            try? limiter.acquire("made-up-\(i)")
            XCTAssertLessThanOrEqual(limiter.keyCount, 500)
        }
        // Buckets that refilled are the same as no bucket, and go at the next sweep.
        clock.withLock { $0 = 3600 }
        for i in 0..<1100 { try? limiter.acquire("later-\(i)") }
        XCTAssertLessThanOrEqual(limiter.keyCount, 500)
        // A key at its limit stays limited.
        for _ in 0..<5 { try? limiter.acquire("busy") }
        XCTAssertThrowsError(try limiter.acquire("busy"))
    }

    // MARK: limits over a real socket

    func testFailedBearerTokensFromOneAddressGet429WithRetryAfterAndGoodRequestsAreNotCounted() async throws {
        let server = try makeLimitedServer { $0.signIn = RateLimit(count: 3, per: .minute) }
        let (_, token) = try await server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst, assigneeID: "a7")
        try await buildApplication(server).test(.live) { client in
            // Successful authentications are not failures: many of them pass.
            for _ in 0..<10 {
                let ok = try await client.get("/api/v1/me", token: token)
                XCTAssertEqual(ok.status, .ok, ok.text)
            }
            for _ in 0..<3 {
                let wrong = try await client.get("/api/v1/me", token: "hd_wrong")
                XCTAssertEqual(wrong.status, .unauthorized)
            }
            let limited = try await client.get("/api/v1/me", token: "hd_wrong")
            XCTAssertEqual(limited.status, .tooManyRequests)
            Self.assertRetryAfter(limited, atMost: 20)
            let error = limited.json["error"] as? [String: Any]
            XCTAssertEqual(error?["code"] as? String, "rate_limited")
            XCTAssertEqual(error?["limit"] as? String, "signin")
            XCTAssertTrue(limited.errorMessage.contains("HAPPYDESK_RATE_LIMIT_SIGNIN"), limited.errorMessage)
            // While the address is limited, no credential is checked from it, not even a good one.
            let good = try await client.get("/api/v1/me", token: token)
            XCTAssertEqual(good.status, .tooManyRequests)
            // A request that presents no credential is not limited by this.
            let health = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(health.status, .ok)
        }
    }

    func testFailedSignInsOnTheFormGet429AsAPage() async throws {
        let server = try makeLimitedServer { $0.signIn = RateLimit(count: 2, per: .minute) }
        try await buildApplication(server).test(.live) { client in
            // A real form: its CSRF cookie and field, from this site's origin; only the token is wrong.
            let page = try await client.execute(uri: "/analyst", method: .get)
            let csrfCookie = try XCTUnwrap(page.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let csrf = String(csrfCookie.split(separator: "=", maxSplits: 1).last ?? "")
            func post() async throws -> TestResponse {
                try await client.execute(
                    uri: "/analyst/login", method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded", .cookie: csrfCookie, .origin: testOrigin],
                    body: ByteBuffer(string: "token=hd_wrong&csrf=\(csrf)"))
            }
            for _ in 0..<2 {
                let wrong = try await post()
                XCTAssertEqual(wrong.status, .unauthorized)
            }
            let limited = try await post()
            XCTAssertEqual(limited.status, .tooManyRequests)
            Self.assertRetryAfter(limited, atMost: 30)
            XCTAssertEqual(limited.headers[.contentType], "text/html; charset=utf-8")
            XCTAssertTrue(limited.text.contains("too many failed sign-ins from this address"), limited.text)
        }
    }

    func testSurveyPostsArePerLinkAndAnswer429WithRetryAfter() async throws {
        let server = try makeLimitedServer { $0.survey = RateLimit(count: 3, per: .minute) }
        try await buildApplication(server).test(.live) { client in
            let first = try await client.createInvitation(ticket: "INC-LIMIT-1")
            let second = try await client.createInvitation(ticket: "INC-LIMIT-2")
            for score in [3, 4] {
                let saved = try await client.postForm("/s/\(first)", "score=\(score)")
                XCTAssertEqual(saved.status, .ok, saved.text)
            }
            // The requester's reply counts against the same link.
            let reply = try await client.postForm("/s/\(first)/messages", "message=hello")
            XCTAssertLessThan(reply.status.code, 500, reply.text)
            let limited = try await client.postForm("/s/\(first)", "score=9")
            XCTAssertEqual(limited.status, .tooManyRequests)
            Self.assertRetryAfter(limited, atMost: 20)
            XCTAssertTrue(limited.text.contains("HAPPYDESK_RATE_LIMIT_SURVEY"), limited.text)
            XCTAssertFalse(limited.text.contains(first), "the page never echoes the token")
            let json = try await client.postJSON("/s/\(first)", #"{"score":9}"#)
            XCTAssertEqual(json.status, .tooManyRequests)
            XCTAssertEqual((json.json["error"] as? [String: Any])?["limit"] as? String, "survey")
            // The refused answer changed nothing, and another link is unaffected.
            let score = try await server.database.read { db in
                try Int.fetchOne(
                    db, sql: "SELECT score FROM responses JOIN invitations ON invitations.id = invitation_id WHERE token_hash = ?",
                    arguments: [SurveyToken.hash(first)])
            }
            XCTAssertEqual(score, 4)
            let other = try await client.postForm("/s/\(second)", "score=8")
            XCTAssertEqual(other.status, .ok)
            // Viewing the page is never limited.
            let page = try await client.execute(uri: "/s/\(first)", method: .get)
            XCTAssertEqual(page.status, .ok)
        }
    }

    func testUnsignedClosuresArePerAddress() async throws {
        let server = try makeLimitedServer { $0.closures = RateLimit(count: 2, per: .minute) }
        try await buildApplication(server).test(.live) { client in
            for ticket in ["INC-C1", "INC-C2"] {
                let created = try await client.postJSON("/api/v1/closures", closureJSON(ticket: ticket))
                XCTAssertEqual(created.status, .created, created.text)
            }
            let limited = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-C3"))
            XCTAssertEqual(limited.status, .tooManyRequests)
            Self.assertRetryAfter(limited, atMost: 30)
            XCTAssertEqual((limited.json["error"] as? [String: Any])?["limit"] as? String, "closures")
            let count = try await server.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM invitations") }
            XCTAssertEqual(count, 2)
        }
    }

    func testForgedSignaturesDoNotSpendTheIntegrationsAllowance() async throws {
        let secret = "s3cret-for-limits"
        let server = try makeLimitedServer(secret: secret) {
            $0.closures = RateLimit(count: 2, per: .minute)
            $0.signIn = nil
        }
        let signer = SignatureVerifier(secret: secret)
        try await buildApplication(server).test(.live) { client in
            for i in 0..<5 {
                let forged = try await client.postJSON(
                    "/api/v1/closures", closureJSON(ticket: "INC-F\(i)"),
                    headers: [.happydeskSignature: "t=1,v1=" + String(repeating: "0", count: 64)])
                XCTAssertEqual(forged.status, .unauthorized)
            }
            for i in 0..<2 {
                let body = closureJSON(ticket: "INC-S\(i)")
                let signed = try await client.postJSON(
                    "/api/v1/closures", body, headers: [.happydeskSignature: signer.sign(body: Data(body.utf8))])
                XCTAssertEqual(signed.status, .created, signed.text)
            }
            let body = closureJSON(ticket: "INC-S9")
            let limited = try await client.postJSON("/api/v1/closures", body, headers: [.happydeskSignature: signer.sign(body: Data(body.utf8))])
            XCTAssertEqual(limited.status, .tooManyRequests)
        }
    }

    func testLimitsSetOffDoNotLimit() async throws {
        let server = try makeLimitedServer {
            $0.survey = nil
            $0.closures = nil
        }
        try await buildApplication(server).test(.live) { client in
            let token = try await client.createInvitation(ticket: "INC-OFF")
            for score in 0..<40 {
                let saved = try await client.postForm("/s/\(token)", "score=\(score % 11)")
                XCTAssertEqual(saved.status, .ok)
            }
        }
    }

    // MARK: the write queue

    func testAFullWriteQueueAnswers503WithRetryAfterAtOnce() async throws {
        let server = try makeLimitedServer { $0.writeQueueLimit = 1 }
        let token: String = try await buildApplication(server).test(.router) { client in try await client.createInvitation(ticket: "INC-Q") }
        let gate = DispatchSemaphore(value: 0)
        // One write per batch the batcher may run at once (one on SQLite, several on PostgreSQL) holds the
        // database; one more waits in the queue, which is then full.
        let holding = server.batcher.concurrentBatches
        defer { for _ in 0..<holding { gate.signal() } }
        let started = DispatchSemaphore(value: 0)
        var holders: [Task<Void, any Error>] = []
        for _ in 0..<holding {
            // One at a time, so each lands in a batch of its own.
            holders.append(
                Task {
                    try await server.batcher.write { _ in
                        started.signal(); gate.wait()
                    }
                })
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    started.wait(); continuation.resume()
                }
            }
        }
        let held = holders
        let queued = Task { try await server.batcher.write { _ in 1 } }
        let deadline = ContinuousClock.now + .seconds(10)
        while server.batcher.pendingCount < 1 {
            guard ContinuousClock.now < deadline else { return XCTFail("the write never queued") }
            try await Task.sleep(for: .milliseconds(1))
        }
        try await buildApplication(server).test(.live) { client in
            let refused = try await client.postForm("/s/\(token)", "score=7")
            XCTAssertEqual(refused.status, .serviceUnavailable)
            XCTAssertEqual(refused.headers[.retryAfter], "1")
            XCTAssertTrue(refused.text.contains("busy"), refused.text)
            let json = try await client.postJSON("/s/\(token)", #"{"score":7}"#)
            XCTAssertEqual(json.status, .serviceUnavailable)
            XCTAssertEqual(json.headers[.retryAfter], "1")
            XCTAssertEqual((json.json["error"] as? [String: Any])?["code"] as? String, "overloaded")
            for _ in 0..<holding { gate.signal() }
            for holder in held { try await holder.value }
            let queuedValue = try await queued.value
            XCTAssertEqual(queuedValue, 1)
            // Once the queue drains the same answer is accepted.
            let saved = try await client.postForm("/s/\(token)", "score=7")
            XCTAssertEqual(saved.status, .ok)
        }
    }

    // MARK: idle connections

    func testASilentOrHalfSentConnectionIsClosedAfterTheIdleTimeout() async throws {
        let server = try makeLimitedServer { $0.httpIdleTimeout = 0.5 }
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            try await Self.blocking {
                let silent = try RawSocket(port: port)
                let half = try RawSocket(port: port)
                try half.send("GET /healthz HT")
                let headers = try RawSocket(port: port)
                try headers.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
                // After a full exchange, a keep-alive connection that starts a second request and stops is closed too.
                let kept = try RawSocket(port: port)
                try kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /hea")
                // Each read returns only when the server closes (it throws if that takes over 10 s).
                XCTAssertEqual(try silent.readToEnd(), "")
                XCTAssertEqual(try half.readToEnd(), "")
                XCTAssertEqual(try headers.readToEnd(), "")
                let reply = try kept.readToEnd()
                XCTAssertTrue(reply.hasPrefix("HTTP/1.1 200"), reply)
                XCTAssertEqual(reply.components(separatedBy: "HTTP/1.1 ").count, 2, "one response, then closed")
            }
        }
    }

    func testAThousandIdleSocketsDoNotStopANewRequest() async throws {
        try raiseOpenFileLimit(to: 4096)
        let server = try makeServer(directory: try makeTemporaryDirectory())
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            try await Self.blocking {
                var idle: [RawSocket] = []
                for i in 0..<1000 {
                    let socket = try RawSocket(port: port)
                    if i % 2 == 0 { try socket.send("GET /healthz HTTP/1.1\r\nHo") }
                    idle.append(socket)
                }
                let (status, body) = try RawSocket.request(port: port, "GET", "/healthz")
                XCTAssertEqual(status, 200)
                XCTAssertEqual(body, #"{"status":"ok"}"#)
                XCTAssertEqual(idle.count, 1000)
            }
            let answer = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(answer.status, .ok)
        }
    }

    // MARK: bounded where read

    func testAWebSocketFrameOverTheLimitClosesTheSocketWith1009() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let sam = try await StreamProbe.connect(port: port, token: people.sam)
            try await sam.send(String(repeating: "a", count: ClientFrame.maxBytes + 1))
            let close = try await sam.finished()
            XCTAssertEqual(close?.closeCode, .messageTooLarge)
            // A frame at the limit is read and answered.
            let again = try await StreamProbe.connect(port: port, token: people.sam)
            try await again.send(#"{"type":"ack","pad":""# + String(repeating: "a", count: ClientFrame.maxBytes - 30) + #""}"#)
            let answer = try await again.waitFor { ($0["type"] as? String) == "error" }
            XCTAssertNotEqual(answer["code"] as? String, "frame_too_large", "\(answer)")
            try await again.close()
        }
    }

    func testADashboardRangeOutsideTheYearsOrOverTenYearsIs400NamingTheParameter() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let (_, manager) = try await server.users.add(name: "Mia Manager", email: "mia@example.com", role: .manager, assigneeID: nil)
        try await buildApplication(server).test(.live) { client in
            let cases = [
                ("from=1900-01-01", "--from must be a day from 2000-01-01 to 2100-12-31"),
                ("to=9999-12-31", "--to must be a day from 2000-01-01 to 2100-12-31"),
                ("from=2000-01-01&to=2100-12-31", "at most 3660 days"),
            ]
            for (query, message) in cases {
                let response = try await client.get("/api/v1/metrics?\(query)", token: manager)
                XCTAssertEqual(response.status, .badRequest, query)
                XCTAssertTrue(response.errorMessage.contains(message), "\(query): \(response.errorMessage)")
            }
            let token = try await client.createInvitation(ticket: "INC-RANGE")
            let saved = try await client.postForm("/s/\(token)", "score=9")
            XCTAssertEqual(saved.status, .ok)
            let tenYears = try await client.get("/api/v1/metrics?from=2017-01-01&to=2026-12-31&period=month", token: manager)
            XCTAssertEqual(tenYears.status, .ok, tenYears.text)
        }
        XCTAssertThrowsError(try DashboardFilters(from: "1999-12-31", to: nil, period: nil, by: nil, kind: nil, minimum: nil))
        XCTAssertNoThrow(try DashboardFilters(from: "2000-01-01", to: "2010-01-07", period: nil, by: nil, kind: nil, minimum: nil))
    }

    /// `Retry-After` is whole seconds: the time one token takes to come back, less what already passed.
    static func assertRetryAfter(_ response: TestResponse, atMost seconds: Int, file: StaticString = #filePath, line: UInt = #line) {
        let value = response.headers[.retryAfter].flatMap { Int($0) }
        XCTAssertNotNil(value, "Retry-After: \(response.headers[.retryAfter] ?? "missing")", file: file, line: line)
        if let value { XCTAssertTrue((seconds - 5...seconds).contains(value), "Retry-After: \(value)", file: file, line: line) }
    }

    /// Runs blocking socket code off the cooperative pool.
    static func blocking(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}
