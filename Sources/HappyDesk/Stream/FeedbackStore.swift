import Foundation

/// The one owner of `messages`, `kudos` and `response_follow_ups`: what analysts, managers and requesters add
/// to a response after it is answered. Each write runs in the caller's transaction with its `events` row.
public enum FeedbackStore {
    /// Who wrote a message.
    public enum Author: String, Sendable, SQLBindable, SQLDecodable {
        case analyst, requester
    }

    static func insertMessage(
        _ db: any SQLConnection, responseID: Int64, invitationID: Int64, author: Author, userID: Int64?, name: String?, text: String, now: Date
    ) throws -> Int64 {
        try db.insert(
            """
            INSERT INTO messages (response_id, invitation_id, author_kind, author_user_id, author_name, text, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, responseID, invitationID, author, userID, name, text, now)
    }

    static func messages(_ db: any SQLConnection, responseID: Int64) throws -> [ThreadMessage] {
        try db.fetchAll("SELECT id, author_kind, author_name, text, created_at FROM messages WHERE response_id = ? ORDER BY id", responseID).map {
            row in
            ThreadMessage(id: row[0], author: row[1], author_name: row[2], text: row[3], created_at: row[4])
        }
    }

    static func insertKudos(_ db: any SQLConnection, responseID: Int64, userID: Int64, name: String, text: String, now: Date) throws -> Int64 {
        try db.insert(
            "INSERT INTO kudos (response_id, from_user_id, from_name, text, created_at) VALUES (?, ?, ?, ?, ?)", responseID, userID, name, text, now)
    }

    /// Marks the follow-up handled and re-arms the alert and reopen calls for the next negative turn.
    static func acknowledge(_ db: any SQLConnection, responseID: Int64, userID: Int64, now: Date) throws {
        try db.execute(
            """
            INSERT INTO response_follow_ups (response_id, needed, handled_at, handled_by) VALUES (?, 0, ?, ?)
            ON CONFLICT (response_id) DO UPDATE SET needed = 0, handled_at = excluded.handled_at, handled_by = excluded.handled_by,
                alert_queued_at = NULL, reopen_queued_at = NULL
            """, responseID, now, userID)
    }

    /// Whether the alert and the reopen call may still be queued since the last acknowledgement.
    static func arming(_ db: any SQLConnection, responseID: Int64) throws -> (alert: Bool, reopen: Bool) {
        guard
            let row = try db.fetchOne(
                "SELECT alert_queued_at IS NULL, reopen_queued_at IS NULL FROM response_follow_ups WHERE response_id = ?", responseID)
        else { return (true, true) }
        return (row[0], row[1])
    }

    static func markAlertQueued(_ db: any SQLConnection, responseID: Int64, now: Date) throws {
        try db.executeDeferred(
            """
            INSERT INTO response_follow_ups (response_id, needed, alert_queued_at) VALUES (?, 0, ?)
            ON CONFLICT (response_id) DO UPDATE SET alert_queued_at = excluded.alert_queued_at
            """, responseID, now)
    }

    /// Flags the response for follow-up ("not solved"); `reopenQueuedAt` is set when the reopen call is queued now.
    static func flag(_ db: any SQLConnection, responseID: Int64, reason: String, now: Date, reopenQueuedAt: Date?) throws {
        try db.executeDeferred(
            """
            INSERT INTO response_follow_ups (response_id, needed, reason, flagged_at, handled_at, handled_by, reopen_queued_at)
            VALUES (?, 1, ?, ?, NULL, NULL, ?)
            ON CONFLICT (response_id) DO UPDATE SET needed = 1, reason = excluded.reason, flagged_at = excluded.flagged_at,
                handled_at = NULL, handled_by = NULL,
                reopen_queued_at = coalesce(response_follow_ups.reopen_queued_at, excluded.reopen_queued_at)
            """, responseID, reason, now, reopenQueuedAt)
    }
}
