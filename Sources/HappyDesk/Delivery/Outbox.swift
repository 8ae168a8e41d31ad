import Foundation
import GRDB

/// The transactional outbox: rows written in the same transaction as the change they announce.
/// The delivery service claims due rows, sends them and records each attempt.
public enum Outbox {
    @discardableResult
    public static func enqueue(
        _ db: Database, invitationID: Int64, purpose: String, channel: String,
        sealedToken: Data?, payload: String? = nil, dueAt: Date, now: Date
    ) throws -> Int64 {
        try db.cachedStatement(
            sql: """
                INSERT INTO deliveries (invitation_id, purpose, channel, status, sealed_token, payload, due_at, created_at)
                VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)
                """
        ).execute(arguments: [invitationID, purpose, channel, sealedToken, payload, SQLiteDate.string(dueAt), SQLiteDate.string(now)]
        )
        return db.lastInsertedRowID
    }

    /// The channel a new message to a requester (survey, reminder, reply) goes out on, given the
    /// configuration: `email` with an SMTP URL, `webhook` with only a delivery webhook URL, else `file`.
    /// A `reply` on `webhook` is posted to the delivery webhook URL as `{"type": "survey.reply", …}`.
    public static func defaultChannel(settings: Settings) -> String {
        settings.surveyChannel
    }
}
