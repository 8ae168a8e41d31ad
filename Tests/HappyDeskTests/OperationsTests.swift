import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

@testable import HappyDesk

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12, items 1–3: the metrics listener scraped over a real socket and parsed by prometheus_client,
/// `/readyz`, request ids and JSON logs from the real binary. Runs on both backends.
final class OperationsTests: XCTestCase {
    /// The built binary's environment for a fresh database of this test's backend.
    func binaryEnvironment(_ directory: URL, port: Int, extra: [String: String] = [:]) throws -> [String: String] {
        var environment = [
            "HAPPYDESK_PORT": "\(port)", "HAPPYDESK_OUTBOX_DIR": directory.appendingPathComponent("outbox").path,
            "HAPPYDESK_SECRET_KEY_FILE": directory.appendingPathComponent("secret.key").path, "HAPPYDESK_DELIVERY_BACKOFF": "1",
        ]
        if TestPostgres.isDefaultBackend {
            environment["HAPPYDESK_DATABASE_URL"] = try TestPostgres.databaseURL(for: directory)
        } else {
            environment["HAPPYDESK_DATABASE"] = directory.appendingPathComponent("happydesk.sqlite").path
        }
        environment.merge(extra) { $1 }
        return environment
    }

    /// Creates an integration user with the CLI and returns its token.
    func integrationToken(_ environment: [String: String]) throws -> String {
        XCTAssertEqual(try runHappydesk(["migrate"], environment: environment).status, 0)
        let added = try runHappydesk(["users", "add", "--name", "ITSM", "--role", "integration"], environment: environment)
        XCTAssertEqual(added.status, 0, added.err)
        let line = try XCTUnwrap(added.out.split(separator: "\n").first { $0.hasPrefix("API token (shown once): ") })
        return String(line.dropFirst("API token (shown once): ".count))
    }

    struct Scrape {
        var raw: String
        var contentType: String
        var samples: [(name: String, labels: [String: String], value: Double)]
        var types: [String: String]

        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples.first { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value
        }

        func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
            samples.filter { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }.map(\.value)
                .reduce(0, +)
        }
    }

    /// Runs Tests/Support/scrape_metrics.py (prometheus_client's parser) against the metrics listener.
    func scrape(port: Int) throws -> Scrape {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", repositoryRoot.appendingPathComponent("Tests/Support/scrape_metrics.py").path, "http://127.0.0.1:\(port)/metrics",
        ]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if errText.contains("No module named 'prometheus_client'") {
            throw missingPeer("prometheus_client is not installed (python3 -m pip install prometheus_client)")
        }
        XCTAssertEqual(process.terminationStatus, 0, "the exposition parses: \(errText)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let samples = (json["samples"] as? [[String: Any]] ?? []).map { sample in
            (
                name: sample["name"] as? String ?? "", labels: sample["labels"] as? [String: String] ?? [:],
                value: (sample["value"] as? NSNumber)?.doubleValue ?? .nan
            )
        }
        return Scrape(
            raw: json["raw"] as? String ?? "", contentType: json["content_type"] as? String ?? "", samples: samples,
            types: json["types"] as? [String: String] ?? [:])
    }

    func waitForPort(_ port: Int, path: String = "/healthz") throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let (status, _) = try? RawSocket.request(port: port, "GET", path), status == 200 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw RawSocketError("nothing answered \(path) on port \(port)")
    }

    func testMetricsListenerCountsClosuresResponsesDeliveriesAndRoutesWithoutPersonalData() throws {
        let directory = try makeTemporaryDirectory()
        let port = freeTCPPort()
        let metricsPort = freeTCPPort()
        let environment = try binaryEnvironment(directory, port: port, extra: ["HAPPYDESK_METRICS_ADDRESS": "127.0.0.1:\(metricsPort)"])
        let token = try integrationToken(environment)
        let server = try startHappydesk(["serve"], environment)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        try waitForPort(port)
        try waitForPort(metricsPort, path: "/metrics")

        let auth = ["Content-Type": "application/json", "Authorization": "Bearer \(token)"]
        // Three new closures (generic), one repeated, one refused; one Jira update that is not a closure.
        var links: [String] = []
        for i in 0..<3 {
            let (status, body) = try RawSocket.request(
                port: port, "POST", "/api/v1/closures", body: closureJSON(ticket: "INC-M-\(i)", email: "metrics\(i)@example.com"), headers: auth)
            XCTAssertEqual(status, 201, body)
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            links.append(String((json?["survey_url"] as? String ?? "").split(separator: "/").last ?? ""))
        }
        let (duplicate, _) = try RawSocket.request(
            port: port, "POST", "/api/v1/closures", body: closureJSON(ticket: "INC-M-0", email: "metrics0@example.com"), headers: auth)
        XCTAssertEqual(duplicate, 200)
        let (rejected, _) = try RawSocket.request(port: port, "POST", "/api/v1/closures", body: #"{"ticket_id":""}"#, headers: auth)
        XCTAssertEqual(rejected, 400)

        // The sender writes the three surveys as .eml files (no SMTP configured) within a few rounds; answers
        // come after, as a requester's would (an answered invitation's survey is not sent any more).
        var result = try scrape(port: metricsPort)
        let deadline = Date().addingTimeInterval(20)
        while result.value("happydesk_deliveries_total", ["channel": "file", "result": "sent"]) ?? 0 < 3 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            result = try scrape(port: metricsPort)
        }

        // Answers: two positive (10, 9), one negative (3); one survey page viewed by its token path.
        for (link, score) in zip(links, [10, 9, 3]) {
            let (status, body) = try RawSocket.request(
                port: port, "POST", "/s/\(link)", body: "score=\(score)", headers: ["Content-Type": "application/x-www-form-urlencoded"])
            XCTAssertEqual(status, 200, body)
        }
        let (page, _) = try RawSocket.request(port: port, "GET", "/s/\(links[0])")
        XCTAssertEqual(page, 200)
        let (missing, _) = try RawSocket.request(port: port, "GET", "/no/such/page/\(links[1])")
        XCTAssertEqual(missing, 404)
        let (mainMetrics, _) = try RawSocket.request(port: port, "GET", "/metrics")
        XCTAssertEqual(mainMetrics, 404, "the main listener does not serve /metrics")

        result = try scrape(port: metricsPort)

        XCTAssertTrue(result.contentType.hasPrefix("text/plain"), result.contentType)
        XCTAssertEqual(result.value("happydesk_closures_total", ["source": "generic", "result": "created"]), 3)
        XCTAssertEqual(result.value("happydesk_closures_total", ["source": "generic", "result": "duplicate"]), 1)
        XCTAssertEqual(result.value("happydesk_closures_total", ["source": "generic", "result": "rejected"]), 1)
        XCTAssertEqual(result.value("happydesk_closures_total", ["source": "jira", "result": "created"]), 0)
        XCTAssertEqual(result.value("happydesk_responses_total", ["band": "positive"]), 2)
        XCTAssertEqual(result.value("happydesk_responses_total", ["band": "neutral"]), 0)
        XCTAssertEqual(result.value("happydesk_responses_total", ["band": "negative"]), 1)
        XCTAssertEqual(result.value("happydesk_deliveries_total", ["channel": "file", "result": "sent"]), 3)
        XCTAssertEqual(result.sum("happydesk_deliveries_total", ["result": "dead"]), 0)
        XCTAssertEqual(result.value("happydesk_http_requests_total", ["route": "/api/v1/closures", "status": "201"]), 3)
        XCTAssertEqual(result.value("happydesk_http_requests_total", ["route": "/api/v1/closures", "status": "400"]), 1)
        XCTAssertEqual(result.value("happydesk_http_requests_total", ["route": "/s/{token}", "status": "200"]), 4)
        XCTAssertEqual(result.value("happydesk_http_requests_total", ["route": "unmatched", "status": "404"]), 2, "/no/such/page and /metrics")
        XCTAssertEqual(result.types["happydesk_http_request_duration_seconds"], "histogram")
        XCTAssertEqual(result.value("happydesk_http_request_duration_seconds_count", ["route": "/s/{token}"]), 4)
        XCTAssertEqual(result.types["happydesk_write_batch_size"], "histogram")
        XCTAssertGreaterThanOrEqual(result.value("happydesk_write_batch_size_count") ?? 0, 6, "closures and answers were written in batches")
        for gauge in ["happydesk_outbox_due", "happydesk_outbox_oldest_due_seconds", "happydesk_stream_sockets", "happydesk_rollup_lag_seconds"] {
            XCTAssertEqual(result.types[gauge], "gauge", gauge)
            XCTAssertNotNil(result.value(gauge), gauge)
        }
        XCTAssertEqual(result.value("happydesk_outbox_due"), 0, "everything due was sent")
        XCTAssertEqual(result.value("happydesk_stream_sockets"), 0)
        // No token, address or ticket id anywhere in the exposition; routes appear only as templates.
        for secret in links + ["metrics0@example.com", "INC-M-0", token, "/no/such"] {
            XCTAssertFalse(result.raw.contains(secret), "the exposition must not contain \(secret)")
        }
        let routes = Set(result.samples.compactMap { $0.labels["route"] })
        XCTAssertTrue(routes.allSatisfy { $0 == "unmatched" || $0.hasPrefix("/") }, "\(routes)")
    }

    func testMetricsAddressOffDisablesTheListenerAndABadOneIsAOneLineError() throws {
        let directory = try makeTemporaryDirectory()
        let port = freeTCPPort()
        let metricsPort = freeTCPPort()
        let environment = try binaryEnvironment(directory, port: port, extra: ["HAPPYDESK_METRICS_ADDRESS": "off"])
        XCTAssertEqual(try runHappydesk(["migrate"], environment: environment).status, 0)
        let server = try startHappydesk(["serve"], environment)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        try waitForPort(port)
        XCTAssertThrowsError(try RawSocket.request(port: metricsPort, "GET", "/metrics"), "nothing listens on a metrics port with off")
        kill(server.processIdentifier, SIGKILL)

        for bad in ["9464", "localhost:", "127.0.0.1:99999", "http://127.0.0.1:9464"] {
            let run = try runHappydesk(
                ["serve"], environment: try binaryEnvironment(directory, port: port, extra: ["HAPPYDESK_METRICS_ADDRESS": bad]))
            XCTAssertEqual(run.status, 1, bad)
            XCTAssertTrue(run.err.contains("HAPPYDESK_METRICS_ADDRESS must be host:port"), run.err)
            XCTAssertEqual(run.err.split(separator: "\n").count, 1, "one line: \(run.err)")
        }
        let flag = try runHappydesk(["serve", "--metrics-address", "nope"], environment: environment)
        XCTAssertEqual(flag.status, 1)
        XCTAssertTrue(flag.err.contains("not 'nope'"), flag.err)
    }

    func testReadyzIsReadyWhenMigratedAndWritableAndNotReadyWhenAMigrationIsMissing() async throws {
        let directory = try makeTemporaryDirectory()
        let server = try makeServer(directory: directory)
        let app = buildApplication(server)
        try await app.test(.router) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            XCTAssertEqual(ready.status, .ok)
            XCTAssertEqual(ready.json["status"] as? String, "ready")
            XCTAssertEqual(ready.headers[.contentType], "application/json")
            let live = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(live.status, .ok)

            // The probe leaves nothing behind (a GET never changes state).
            let probes = try await server.database.read { db in
                try db.scalar(Int.self, "SELECT count(*) FROM happydesk_settings WHERE name = 'readiness_probe'")
            }
            XCTAssertEqual(probes, 0)

            // A migration that this build knows of is missing from the database: not ready, with the reason.
            try await server.database.write { db in
                if db.dialect == .postgres {
                    try db.execute("DELETE FROM happydesk_migrations WHERE name = (SELECT max(name) FROM happydesk_migrations)")
                } else {
                    try db.execute("DELETE FROM grdb_migrations WHERE identifier = (SELECT max(identifier) FROM grdb_migrations)")
                }
            }
            let notReady = try await client.execute(uri: "/readyz", method: .get)
            XCTAssertEqual(notReady.status, .serviceUnavailable)
            XCTAssertEqual(notReady.json["status"] as? String, "not_ready")
            XCTAssertTrue((notReady.json["reason"] as? String ?? "").contains("not migrated"), notReady.text)
            let stillLive = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(stillLive.status, .ok, "liveness does not depend on the database")
        }
    }

    func testReadyzSaysTheSenderIsStuckWhenDueMailWaitsAndTheSenderShowsNoProgress() async throws {
        let directory = try makeTemporaryDirectory()
        let server = try makeServer(directory: directory)
        let readiness = Readiness(server: server)
        try await makeInvitation(server)
        let later = Date().addingTimeInterval(server.settings.delivery.readyOutboxMaxAge + 60)
        let noSender = await readiness.notReadyReason(now: later)
        XCTAssertNil(noSender, "no sender in this process: another one sends")
        server.heartbeat.beat(Date())
        let stuck = await readiness.notReadyReason(now: later)
        XCTAssertTrue(stuck?.contains("sender is stuck") == true, stuck ?? "ready")
        server.heartbeat.beat(later)
        let alive = await readiness.notReadyReason(now: later)
        XCTAssertNil(alive, "a sender that just made progress is not stuck")
    }

    func makeInvitation(_ server: HappyDeskServer) async throws {
        let closure = Closure(
            ticketID: "INC-READY", source: "servicenow", kind: .incident, requester: .init(email: "ready@example.com", name: nil, locale: "en-GB"),
            assignee: .init(id: "analyst-7", name: "Sam Analyst", email: "sam@example.com"))
        _ = try await server.intake.ingest(closure)
    }

    func testRequestIDIsEchoedWhenSaneAndGeneratedOtherwise() async throws {
        let directory = try makeTemporaryDirectory()
        let server = try makeServer(directory: directory)
        try await buildApplication(server).test(.router) { client in
            let given = try await client.execute(uri: "/healthz", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "abc-123.def_4:5"])
            XCTAssertEqual(given.headers[HTTPField.Name("X-Request-Id")!], "abc-123.def_4:5")
            let bad = try await client.execute(uri: "/nope", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "has space\"quote"])
            XCTAssertEqual(bad.status, .notFound)
            let generated = try XCTUnwrap(bad.headers[HTTPField.Name("X-Request-Id")!])
            XCTAssertFalse(generated.contains(" "), generated)
            XCTAssertFalse(generated.isEmpty)
        }
    }

    func testJSONLogLinesEscapeControlCharactersAndKeepUnicode() throws {
        let message = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} del \u{7F} ls \u{2028} jörg 😀"
        let bytes = JSONLogHandler.line(
            time: Date(timeIntervalSince1970: 1_764_604_800.5), level: .warning, label: "happydesk", message: message, requestID: .string("r-1"),
            metadata: ["path": .string("/s/…"), "nested": .dictionary(["list": .array([.string("a"), .stringConvertible(42)])])])
        XCTAssertEqual(bytes.last, UInt8(ascii: "\n"))
        XCTAssertEqual(bytes.filter { $0 == UInt8(ascii: "\n") }.count, 1, "one line")
        XCTAssertFalse(bytes.dropLast().contains { $0 < 0x20 }, "no raw control character")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["message"] as? String, message)
        XCTAssertEqual(object["time"] as? String, "2025-12-01T16:00:00.500Z")
        XCTAssertEqual(object["level"] as? String, "warning")
        XCTAssertEqual(object["request_id"] as? String, "r-1")
        let metadata = try XCTUnwrap(object["metadata"] as? [String: Any])
        XCTAssertEqual(metadata["path"] as? String, "/s/…")
        XCTAssertEqual((metadata["nested"] as? [String: Any])?["list"] as? [String], ["a", "42"])
    }

    func testServeWithJSONLogFormatWritesOnlyJSONLinesWithTheFields() throws {
        let directory = try makeTemporaryDirectory()
        let port = freeTCPPort()
        let environment = try binaryEnvironment(
            directory, port: port, extra: ["HAPPYDESK_LOG_FORMAT": "json", "HAPPYDESK_LOG_LEVEL": "debug", "HAPPYDESK_DELIVERY_DISABLED": "1"])
        XCTAssertEqual(try runHappydesk(["migrate"], environment: environment).status, 0)
        let process = try HappydeskBinary.process(["serve"], environment: environment)
        let logFile = directory.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try waitForPort(port)
        let (status, _) = try RawSocket.request(port: port, "GET", "/no/such/page", headers: ["X-Request-Id": "json-log-test-1"])
        XCTAssertEqual(status, 404)
        Thread.sleep(forTimeInterval: 0.3)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try handle.close()

        let lines = try String(contentsOf: logFile, encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 2)
        var sawRequest = false
        for line in lines {
            let object = try XCTUnwrap(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            for field in ["time", "level", "message", "metadata", "request_id"] {
                XCTAssertTrue(object.keys.contains(field), "\(field) missing in \(line)")
            }
            let time = object["time"] as? String ?? ""
            XCTAssertNotNil(ISO8601.parse(time), time)
            XCTAssertTrue(time.hasSuffix("Z"), time)
            if object["request_id"] as? String == "json-log-test-1" { sawRequest = true }
        }
        XCTAssertTrue(sawRequest, "the request's log line carries its id")

        let bad = try runHappydesk(["serve"], environment: environment.merging(["HAPPYDESK_LOG_FORMAT": "xml"]) { $1 })
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("HAPPYDESK_LOG_FORMAT must be text or json, not 'xml'"), bad.err)
        XCTAssertEqual(bad.err.split(separator: "\n").count, 1)
    }
}
