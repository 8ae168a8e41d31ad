import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import HummingbirdWebSocket
import Logging
import Synchronization
import WSClient
import XCTest

@testable import HappyDesk

/// A WebSocket client on the stream that collects every text frame, so a test can wait for what a user would see.
final class StreamProbe: Sendable {
    private let received = Mutex<[String]>([])
    private let writer = Mutex<WebSocketOutboundWriter?>(nil)
    private let task: Mutex<Task<WebSocketCloseFrame?, any Error>?> = Mutex(nil)
    private let ended = Mutex(false)
    /// Event frames received so far, counted on arrival so waiting never re-parses megabytes of JSON.
    private let eventCount = Mutex(0)

    /// Connects and returns once the upgrade succeeded.
    /// `pauseReading` makes a slow consumer: the client reads nothing for that long, so TCP backs up.
    static func connect(
        port: Int, path: String = "/api/v1/stream", token: String?, headers: HTTPFields = [:], pauseReading: Duration? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) async throws -> StreamProbe {
        let probe = StreamProbe()
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders = headers
        if let token { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
        configuration.maxFrameSize = 1 << 20
        let url = "ws://localhost:\(port)\(path)"
        var logger = Logger(label: "probe")
        logger.logLevel = .critical
        let task = Task {
            defer { probe.ended.withLock { $0 = true } }
            return try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                probe.writer.withLock { $0 = outbound }
                if let pauseReading { try await Task.sleep(for: pauseReading) }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message {
                        probe.received.withLock { $0.append(text) }
                        if text.hasPrefix(#"{"id":"#) { probe.eventCount.withLock { $0 += 1 } }
                    }
                }
            }
        }
        probe.task.withLock { $0 = task }
        let deadline = ContinuousClock.now + .seconds(5)
        while probe.writer.withLock({ $0 == nil }) {
            // A refused upgrade ends the task: surface its error.
            if probe.ended.withLock({ $0 }) { _ = try await task.value; break }
            if ContinuousClock.now > deadline { XCTFail("stream did not open", file: file, line: line); break }
            try await Task.sleep(for: .milliseconds(5))
        }
        return probe
    }

    /// Every text frame exactly as it arrived, for searching what a client was sent.
    var texts: [String] { received.withLock { $0 } }

    var frames: [[String: Any]] {
        received.withLock { $0 }.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    /// Frames that are events (they carry an id), in arrival order.
    var events: [[String: Any]] { frames.filter { $0["id"] != nil && ($0["type"] as? String)?.contains(".") == true } }

    func send(_ text: String) async throws {
        guard let writer = writer.withLock({ $0 }) else { throw CancellationError() }
        try await writer.write(.text(text))
    }

    /// Waits until a frame matches, failing the test after the timeout.
    @discardableResult
    func waitFor(
        timeout: Duration = .seconds(5), file: StaticString = #filePath, line: UInt = #line, _ match: @escaping ([String: Any]) -> Bool
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let frame = frames.first(where: match) { return frame }
            try await Task.sleep(for: .milliseconds(5))
        }
        XCTFail("no matching frame; got \(received.withLock { $0 })", file: file, line: line)
        return [:]
    }

    /// Waits until `count` events arrived.
    func waitForEvents(_ count: Int, timeout: Duration = .seconds(5), file: StaticString = #filePath, line: UInt = #line) async throws -> [[String:
        Any]]
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, eventCount.withLock({ $0 }) < count { try await Task.sleep(for: .milliseconds(2)) }
        let events = events
        XCTAssertGreaterThanOrEqual(events.count, count, "events: \(events)", file: file, line: line)
        return events
    }

    /// Sends a frame and returns the server's answer to it (matched by `ref`).
    func request(_ frame: [String: Any]) async throws -> [String: Any] {
        let ref = UUID().uuidString
        var frame = frame
        frame["ref"] = ref
        let data = try JSONSerialization.data(withJSONObject: frame)
        try await send(String(decoding: data, as: UTF8.self))
        return try await waitFor { ($0["ref"] as? String) == ref }
    }

    /// Closes from the client side and returns the close frame the server sent back.
    @discardableResult
    func close() async throws -> WebSocketCloseFrame? {
        if let writer = writer.withLock({ $0 }) { try? await writer.close(.normalClosure, reason: nil) }
        return try await finished()
    }

    /// Waits for the connection to end (server-side close) and returns its close frame.
    func finished(timeout: Duration = .seconds(10)) async throws -> WebSocketCloseFrame? {
        guard let task = task.withLock({ $0 }) else { return nil }
        let deadline = ContinuousClock.now + timeout
        while !ended.withLock({ $0 }) {
            if ContinuousClock.now > deadline {
                XCTFail("the socket did not close within \(timeout)")
                task.cancel()
                return nil
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await task.value
    }
}

/// A closure whose assignee is chosen by the test: visibility is decided by id or email.
func closureJSON(ticket: String, assigneeID: String?, assigneeEmail: String?, requesterName: String = "Ann Example") -> String {
    let id = assigneeID.map { "\"id\":\"\($0)\"," } ?? ""
    let email = assigneeEmail.map { "\"email\":\"\($0)\"," } ?? ""
    return """
        {"ticket_id":"\(ticket)","source":"servicenow","kind":"incident",
         "requester":{"email":"ann@example.com","name":"\(requesterName)","locale":"en"},
         "assignee":{\(id)\(email)"name":"Sam Analyst"},
         "group":"Service Desk","service":"VPN","closed_at":"2026-11-20T14:05:00Z"}
        """
}

extension TestClientProtocol {
    /// Creates an invitation for a given assignee and returns its survey token.
    func invitation(ticket: String, assigneeID: String? = "analyst-7", assigneeEmail: String? = "sam@example.com") async throws -> String {
        let response = try await postJSON(
            "/api/v1/closures", closureJSON(ticket: ticket, assigneeID: assigneeID, assigneeEmail: assigneeEmail),
            headers: [.authorization: "Bearer \(testIntegrationToken)"])
        XCTAssertEqual(response.status, .created, response.text)
        let url = try XCTUnwrap(response.json["survey_url"] as? String)
        return String(url.split(separator: "/").last ?? "")
    }

    /// Answers a survey as the requester would, returning the response id.
    @discardableResult
    func answer(_ token: String, score: Int, factors: [String] = [], comment: String? = nil, lostTime: String? = nil) async throws -> Int64 {
        var body: [String: Any] = ["score": score, "factors": factors]
        if let comment { body["comment"] = comment }
        if let lostTime { body["lost_time"] = lostTime }
        let data = try JSONSerialization.data(withJSONObject: body)
        let response = try await postJSON("/s/\(token)", String(decoding: data, as: UTF8.self))
        XCTAssertEqual(response.status, .ok, response.text)
        return try XCTUnwrap((response.json["response_id"] as? NSNumber)?.int64Value)
    }

    func get(_ path: String, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: path, method: .get, headers: headers)
    }

    func post(_ path: String, json: String, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await postJSON(path, json, headers: headers)
    }
}

/// The people of most stream tests: Sam (analyst-7), Pat (another analyst) and Morgan (a manager).
struct StreamPeople {
    var sam: String
    var pat: String
    var morgan: String

    static func add(to server: HappyDeskServer) async throws -> StreamPeople {
        let (_, sam) = try await server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst, assigneeID: "analyst-7")
        let (_, pat) = try await server.users.add(name: "Pat Other", email: "pat@example.com", role: .analyst, assigneeID: "analyst-9")
        let (_, morgan) = try await server.users.add(name: "Morgan Manager", email: "morgan@example.com", role: .manager)
        return StreamPeople(sam: sam, pat: pat, morgan: morgan)
    }
}

extension Dictionary where Key == String, Value == Any {
    var data: [String: Any] { self["data"] as? [String: Any] ?? [:] }
}
