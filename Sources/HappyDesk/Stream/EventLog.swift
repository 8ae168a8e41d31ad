import Foundation

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
    /// The survey of the event's invitation, for the anonymity rule. Not a column of `events`: set by the
    /// writer, or joined from `invitations` when read (see `Anonymity`).
    public var surveyID: String? = nil
}

/// Appends events inside the caller's transaction, so an event exists exactly when its change does.
public enum EventLog {
    @discardableResult
    public static func append(
        _ db: any SQLConnection, type: String, responseID: Int64?, invitationID: Int64?, assigneeID: String?,
        payload: some Encodable, at now: Date, surveyID: String? = nil
    ) throws -> StoredEvent {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let json = String(decoding: try encoder.encode(payload), as: UTF8.self)
        return try append(
            db, type: type, responseID: responseID, invitationID: invitationID, assigneeID: assigneeID, json: json, at: now, surveyID: surveyID)
    }

    /// Appends an event whose body is already JSON text.
    @discardableResult
    public static func append(
        _ db: any SQLConnection, type: String, responseID: Int64?, invitationID: Int64?, assigneeID: String?, json: String, at now: Date,
        surveyID: String? = nil
    ) throws -> StoredEvent {
        let id = try db.insert(
            "INSERT INTO events (type, response_id, invitation_id, assignee_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            type, responseID, invitationID, assigneeID, json, now)
        // On PostgreSQL, NOTIFY at commit (once per transaction) tells every instance's hub to look
        // (`PostgresEventFanOut`); the events table stays the source of truth.
        db.notify("happydesk_events")
        return StoredEvent(
            id: id, type: type, responseID: responseID, invitationID: invitationID,
            assigneeID: assigneeID, payload: json, createdAt: now, surveyID: surveyID
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

extension StoredEvent {
    /// A row of `events`, with `survey_id` when the query joined it from `invitations`.
    init(row: SQLRow) {
        self.init(
            id: row[0], type: row[1], responseID: row[2], invitationID: row[3], assigneeID: row[4], payload: row[5], createdAt: row[6],
            surveyID: row.count > 7 ? row[7] : nil
        )
    }

    /// The columns `init(row:)` reads, in its order, from `events e`.
    static let columns = "e.id, e.type, e.response_id, e.invitation_id, e.assignee_id, e.payload, e.created_at"
}

extension EventLog {
    /// The most events one replay page returns.
    public static let pageLimit = 500

    /// Events by id range, with their survey: what the hub fills an id gap with.
    static func range(_ db: any SQLConnection, from: Int64, upTo: Int64, limit: Int = Int(Int32.max)) throws -> [StoredEvent] {
        try db.fetchAll(
            """
            SELECT \(StoredEvent.columns), i.survey AS survey_id FROM events e LEFT JOIN invitations i ON i.id = e.invitation_id
            WHERE e.id >= ? AND e.id < ? ORDER BY e.id LIMIT ?
            """, from, upTo, limit
        ).map(StoredEvent.init(row:))
    }

    /// Events after `after` that `user` may see, oldest first: the replay behind `?after=`.
    public static func events(_ db: any SQLConnection, after: Int64, for user: AuthenticatedUser, limit: Int = pageLimit) throws -> [StoredEvent] {
        let visible = user.visibilitySQL(db.dialect)
        return try db.fetchAll(
            """
            SELECT \(StoredEvent.columns), i.survey AS survey_id FROM events e JOIN invitations i ON i.id = e.invitation_id
            WHERE e.id > ? AND \(visible.sql) ORDER BY e.id LIMIT ?
            """, [after.sqlValue] + visible.arguments + [limit.sqlValue]
        ).map(StoredEvent.init(row:))
    }

    /// The newest event id, visible or not: where a client with nothing to replay starts.
    public static func lastID(_ db: any SQLConnection) throws -> Int64 {
        try db.scalar(Int64.self, "SELECT max(id) FROM events") ?? 0
    }
}
