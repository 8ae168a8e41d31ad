import Foundation
import GRDB

extension Outbox {
    /// Leases due rows to this sender: `pending` rows whose time has come, and `sending` rows whose lease
    /// ran out (a sender crashed mid-send; the resend carries the same Message-ID / Idempotency-Key).
    static func claim(_ db: Database, now: Date, lease: TimeInterval, limit: Int) throws -> [DeliveryJob] {
        let ids = try Int64.fetchAll(
            db.cachedStatement(
                sql: """
                    UPDATE deliveries SET status = 'sending', claimed_until = ?
                    WHERE id IN (
                        SELECT id FROM deliveries
                        WHERE (status = 'pending' AND due_at <= ?) OR (status = 'sending' AND claimed_until <= ?)
                        ORDER BY due_at, id LIMIT ?)
                    RETURNING id
                    """),
            arguments: [now.addingTimeInterval(lease), now, now, limit]
        )
        guard !ids.isEmpty else { return [] }
        let placeholders = databaseQuestionMarks(count: ids.count)
        let rows = try Row.fetchAll(
            db, sql: DeliveryJob.selectSQL + " WHERE d.id IN (\(placeholders)) ORDER BY d.due_at, d.id", arguments: StatementArguments(ids))
        return rows.map(DeliveryJob.init(row:))
    }

    /// Stores one attempt and moves the row on: `sent`, back to `pending` after a backoff, or `dead`.
    /// A survey's invitation follows: `sent` on delivery, `failed` when dead-lettered.
    @discardableResult
    static func record(
        _ db: Database, job: DeliveryJob, result: AttemptResult, startedAt: Date, now: Date, maxAttempts: Int, backoff: Backoff
    ) throws -> String {
        if result.kind == .cancelled {
            try db.executeCached(
                sql: "UPDATE deliveries SET status = 'dead', claimed_until = NULL, last_error = ? WHERE id = ?",
                arguments: ["cancelled: \(result.detail)", job.deliveryID]
            )
            return "cancelled"
        }
        let attempt = job.attempts + 1
        let outcome: String
        switch result.kind {
        case .sent:
            outcome = "sent"
            try db.executeCached(
                sql: "UPDATE deliveries SET status = 'sent', attempts = ?, sent_at = ?, claimed_until = NULL, last_error = NULL WHERE id = ?",
                arguments: [attempt, SQLiteDate.string(now), job.deliveryID]
            )
            if job.purpose == "survey" {
                try db.executeCached(
                    sql: "UPDATE invitations SET status = 'sent', sent_at = ? WHERE id = ? AND status IN ('pending', 'failed')",
                    arguments: [SQLiteDate.string(now), job.invitationID]
                )
            }
        case .permanent, .transient, .cancelled:
            if result.kind == .permanent || attempt >= maxAttempts {
                outcome = "dead"
                try db.executeCached(
                    sql: "UPDATE deliveries SET status = 'dead', attempts = ?, claimed_until = NULL, last_error = ? WHERE id = ?",
                    arguments: [attempt, result.detail, job.deliveryID]
                )
                if job.purpose == "survey" {
                    try db.executeCached(
                        sql: "UPDATE invitations SET status = 'failed' WHERE id = ? AND status = 'pending'", arguments: [job.invitationID])
                }
            } else {
                outcome = "retry"
                try db.executeCached(
                    sql: "UPDATE deliveries SET status = 'pending', attempts = ?, due_at = ?, claimed_until = NULL, last_error = ? WHERE id = ?",
                    arguments: [attempt, now.addingTimeInterval(backoff.delay(afterAttempt: attempt)), result.detail, job.deliveryID]
                )
            }
        }
        try db.executeCached(
            sql: """
                INSERT INTO delivery_attempts (delivery_id, attempt, started_at, finished_at, outcome, status_code, curl_code, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                job.deliveryID, attempt, SQLiteDate.string(startedAt), SQLiteDate.string(now), outcome, result.statusCode, result.curlCode,
                result.detail,
            ]
        )
        return outcome
    }
}
