import Foundation
import GRDB

extension Outbox {
    /// A fresh lease id: 128 bits from the system CSPRNG, so two claims never share one.
    static func newLeaseID() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next(), radix: 16) + "-" + String(generator.next(), radix: 16)
    }

    /// Leases due rows to this sender: `pending` rows whose time has come, and `sending` rows whose lease
    /// ran out (a sender crashed mid-send; the resend carries the same Message-ID / Idempotency-Key).
    /// Every claimed row gets `leaseID`; only the holder of the row's current lease may record its result.
    static func claim(_ db: Database, leaseID: String, now: Date, lease: TimeInterval, limit: Int) throws -> [DeliveryJob] {
        let ids = try Int64.fetchAll(
            db.cachedStatement(
                sql: """
                    UPDATE deliveries SET status = 'sending', claimed_until = ?, lease_id = ?
                    WHERE id IN (
                        SELECT id FROM deliveries
                        WHERE (status = 'pending' AND due_at <= ?) OR (status = 'sending' AND claimed_until <= ?)
                        ORDER BY due_at, id LIMIT ?)
                    RETURNING id
                    """),
            arguments: [now.addingTimeInterval(lease), leaseID, now, now, limit]
        )
        guard !ids.isEmpty else { return [] }
        let placeholders = databaseQuestionMarks(count: ids.count)
        let rows = try Row.fetchAll(
            db, sql: DeliveryJob.selectSQL + " WHERE d.id IN (\(placeholders)) ORDER BY d.due_at, d.id", arguments: StatementArguments(ids))
        return rows.map(DeliveryJob.init(row:))
    }

    /// Puts this lease's rows that are still `sending` back to `pending` at once (shutdown, or a send given
    /// up on), so another sender or the next start sends them without waiting for the lease to run out.
    @discardableResult
    static func release(_ db: Database, leaseID: String) throws -> Int {
        try db.execute(
            sql: "UPDATE deliveries SET status = 'pending', claimed_until = NULL, lease_id = NULL WHERE status = 'sending' AND lease_id = ?",
            arguments: [leaseID]
        )
        return db.changesCount
    }

    /// What `record` answers for a sender whose lease is no longer the row's.
    static let staleOutcome = "stale"

    /// Stores one attempt and moves the row on: `sent`, back to `pending` after a backoff, or `dead`.
    /// A survey's invitation follows: `sent` on delivery, `failed` when dead-lettered.
    ///
    /// Only the holder of the row's lease records: every UPDATE requires `status = 'sending' AND lease_id = ?`.
    /// A sender whose lease ran out and whose row was claimed again (or released) writes nothing and gets
    /// `stale`, so it cannot overwrite the newer claim's result or count a second attempt.
    @discardableResult
    static func record(
        _ db: Database, job: DeliveryJob, result: AttemptResult, startedAt: Date, now: Date, maxAttempts: Int, backoff: Backoff
    ) throws -> String {
        guard let leaseID = job.leaseID else { return staleOutcome }
        if result.kind == .cancelled {
            try db.executeCached(
                sql:
                    "UPDATE deliveries SET status = 'dead', claimed_until = NULL, lease_id = NULL, last_error = ? WHERE id = ? AND status = 'sending' AND lease_id = ?",
                arguments: ["cancelled: \(result.detail)", job.deliveryID, leaseID]
            )
            return db.changesCount == 1 ? "cancelled" : staleOutcome
        }
        let attempt = job.attempts + 1
        let outcome: String
        switch result.kind {
        case .sent:
            outcome = "sent"
            try db.executeCached(
                sql: """
                    UPDATE deliveries SET status = 'sent', attempts = ?, sent_at = ?, claimed_until = NULL, lease_id = NULL, last_error = NULL
                    WHERE id = ? AND status = 'sending' AND lease_id = ?
                    """,
                arguments: [attempt, SQLiteDate.string(now), job.deliveryID, leaseID]
            )
            guard db.changesCount == 1 else { return staleOutcome }
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
                    sql:
                        "UPDATE deliveries SET status = 'dead', attempts = ?, claimed_until = NULL, lease_id = NULL, last_error = ? WHERE id = ? AND status = 'sending' AND lease_id = ?",
                    arguments: [attempt, result.detail, job.deliveryID, leaseID]
                )
                guard db.changesCount == 1 else { return staleOutcome }
                if job.purpose == "survey" {
                    try db.executeCached(
                        sql: "UPDATE invitations SET status = 'failed' WHERE id = ? AND status = 'pending'", arguments: [job.invitationID])
                }
            } else {
                outcome = "retry"
                try db.executeCached(
                    sql: """
                        UPDATE deliveries SET status = 'pending', attempts = ?, due_at = ?, claimed_until = NULL, lease_id = NULL, last_error = ?
                        WHERE id = ? AND status = 'sending' AND lease_id = ?
                        """,
                    arguments: [attempt, now.addingTimeInterval(backoff.delay(afterAttempt: attempt)), result.detail, job.deliveryID, leaseID]
                )
                guard db.changesCount == 1 else { return staleOutcome }
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
