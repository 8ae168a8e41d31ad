import Foundation
import GRDB

/// A row of the `events` table: the stream's source of truth and resume cursor.
public struct StoredEvent: Sendable, Equatable, Codable {
    public var id: Int64
    public var type: String
    public var responseID: Int64?
    public var invitationID: Int64?
    public var assigneeID: String?
    /// The event body as JSON text.
    public var payload: String
    public var createdAt: Date
}

/// Appends events inside the caller's transaction, so an event exists exactly when its change does.
public enum EventLog {
    @discardableResult
    public static func append(
        _ db: Database, type: String, responseID: Int64?, invitationID: Int64?, assigneeID: String?,
        payload: some Encodable, at now: Date
    ) throws -> StoredEvent {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let json = String(decoding: try encoder.encode(payload), as: UTF8.self)
        try db.execute(
            sql: "INSERT INTO events (type, response_id, invitation_id, assignee_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [type, responseID, invitationID, assigneeID, json, now]
        )
        return StoredEvent(
            id: db.lastInsertedRowID, type: type, responseID: responseID, invitationID: invitationID,
            assigneeID: assigneeID, payload: json, createdAt: now
        )
    }
}

/// Receives events right after the transaction that wrote them has committed (in-process fan-out).
public protocol EventPublisher: Sendable {
    func publish(_ events: [StoredEvent]) async
}

/// The publisher used when nothing listens.
public struct NoEventPublisher: EventPublisher {
    public init() {}
    public func publish(_ events: [StoredEvent]) async {}
}
