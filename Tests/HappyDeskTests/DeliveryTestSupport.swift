import Foundation
import GRDB
import Logging
import XCTest

@testable import HappyDesk

/// A Python peer from `Tests/Support/` (aiosmtpd server, HTTP listener) run as a child process for one test.
/// It prints `READY <port>` when it accepts connections; `stop()` (or deinit) terminates it.
final class PythonPeer: @unchecked Sendable {
    let process = Process()
    let port: Int
    let log: URL

    init(script: String, arguments: [String] = [], log: URL, port: Int = 0) throws {
        self.log = log
        let scriptURL = repositoryRoot.appendingPathComponent("Tests/Support/\(script)")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path, "--port", "\(port)", "--log", log.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var buffer = Data()
        let deadline = Date().addingTimeInterval(15)
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty || Date() > deadline { break }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix("READY "), let parsed = Int(line.dropFirst(6)) else {
            process.terminate()
            throw missingPeer("\(script) did not start (is aiosmtpd installed? `python3 -m pip install aiosmtpd`): \(line)")
        }
        self.port = parsed
    }

    /// SIGKILL: a child may inherit a blocked SIGTERM from the test runner's threads.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Every JSON line written so far.
    func records() -> [[String: Any]] {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    /// Waits until at least `count` records arrived (the server appends after replying 250 is not guaranteed).
    func waitForRecords(_ count: Int, timeout: TimeInterval = 5) async -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        var current = records()
        while current.count < count && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            current = records()
        }
        return current
    }
}

/// A port nothing listens on (bound, read, released).
func freeTCPPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Settings for delivery tests: small timeouts and backoff so retries happen within a test.
func makeDeliverySettings(directory: URL, configure: (inout Settings) -> Void = { _ in }) -> Settings {
    var settings = makeSettings(directory: directory)
    settings.delivery.smtpFrom = "Service Desk <desk@happydesk.test>"
    settings.delivery.smtpTLS = "off"
    settings.delivery.connectTimeout = 2
    settings.delivery.timeout = 3
    settings.delivery.backoffBase = 0.05
    settings.delivery.backoffMax = 0.2
    settings.delivery.maxAttempts = 5
    settings.delivery.concurrency = 4
    configure(&settings)
    return settings
}

/// A server and its outbox dispatcher over a fresh SQLite file.
struct DeliveryHarness {
    let server: HappyDeskServer
    let dispatcher: OutboxDispatcher

    init(directory: URL, configure: (inout Settings) -> Void = { _ in }) throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = try HappyDeskServer.open(settings: makeDeliverySettings(directory: directory, configure: configure), logger: logger)
        try addTestIntegration(to: server)
        dispatcher = try OutboxDispatcher(server: server)
    }

    /// Ingests a closure; returns the invitation id and its clear survey link.
    @discardableResult
    func invite(
        ticket: String, email: String = "ann@example.com", name: String? = "Ann Example", locale: String = "en-GB", kind: TicketKind = .incident
    ) async throws -> (id: Int64, url: String) {
        let closure = Closure(
            ticketID: ticket, source: "servicenow", kind: kind, requester: .init(email: email, name: name, locale: locale),
            assignee: .init(id: "analyst-7", name: "Sam Analyst", email: "sam@example.com")
        )
        let result = try await server.intake.ingest(closure)
        return (try XCTUnwrap(result.invitationID), try XCTUnwrap(result.surveyURL))
    }

    /// Runs rounds until every row is sent or dead, waiting out backoffs; fails the test after `timeout`.
    func deliverAll(timeout: TimeInterval = 20) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            try await dispatcher.runOnce()
            let open = try await server.database.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')") ?? 0
            }
            if open == 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("outbox did not drain within \(timeout) s")
    }

    func deliveries() async throws -> [SQLRow] {
        try await server.database.read { db in try SQLRow.fetchAll(db, sql: "SELECT * FROM deliveries ORDER BY id") }
    }

    func attempts(_ deliveryID: Int64) async throws -> [DeliveryAttempt] {
        try await server.database.read { db in try Outbox.attempts(db, deliveryID: deliveryID) }
    }

    func invitationStatus(_ id: Int64) async throws -> String? {
        try await server.database.read { db in try String.fetchOne(db, sql: "SELECT status FROM invitations WHERE id = ?", arguments: [id]) }
    }
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, made with the openssl CLI.
func makeSelfSignedCertificate(in directory: URL) throws -> (cert: URL, key: URL) {
    let cert = directory.appendingPathComponent("cert.pem")
    let key = directory.appendingPathComponent("key.pem")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.path, "-out", cert.path,
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try requirePeer(process.terminationStatus == 0, "openssl could not make a test certificate")
    return (cert, key)
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String { self[key] as? String ?? "" }
}
