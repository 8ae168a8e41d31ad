import Foundation

extension Outbox {
    /// A fresh lease id: 128 bits from the system CSPRNG, so two claims never share one.
    static func newLeaseID() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next(), radix: 16) + "-" + String(generator.next(), radix: 16)
    }

    /// Leases due rows to this sender: `pending` rows whose time has come, and `sending` rows whose lease
    /// ran out (a sender crashed mid-send; the resend carries the same Message-ID / Idempotency-Key).
    /// Every claimed row gets `leaseID`; only the holder of the row's current lease may record its result.
    /// On PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so instances sharing the database
    /// claim disjoint rows without waiting for each other: each message is sent by one instance.
    /// Sign-in emails go first: their link lasts 15 minutes, and under `HAPPYDESK_SMTP_RATE_LIMIT` a mail run can
    /// keep the queue busy for longer than that.
    static func claim(_ db: any SQLConnection, leaseID: String, now: Date, lease: TimeInterval, limit: Int) throws -> [DeliveryJob] {
        let ids = try db.column(
            Int64.self,
            """
            UPDATE deliveries SET status = 'sending', claimed_until = ?, lease_id = ?
            WHERE id IN (
                SELECT id FROM deliveries
                WHERE (status = 'pending' AND due_at <= ?) OR (status = 'sending' AND claimed_until <= ?)
                ORDER BY CASE WHEN purpose = 'signin' THEN 0 ELSE 1 END, due_at, id LIMIT ?\(db.dialect.forUpdateSkipLocked))
            RETURNING id
            """, now.addingTimeInterval(lease), leaseID, now, now, limit)
        guard !ids.isEmpty else { return [] }
        let rows = try db.fetchAll(
            DeliveryJob.selectSQL + " WHERE d.id IN (\(sqlPlaceholders(ids.count))) ORDER BY d.due_at, d.id", ids.map(\.sqlValue))
        return rows.map(DeliveryJob.init(row:))
    }

    /// Puts this lease's rows that are still `sending` back to `pending` at once (shutdown, or a send given
    /// up on), so another sender or the next start sends them without waiting for the lease to run out.
    @discardableResult
    static func release(_ db: any SQLConnection, leaseID: String) throws -> Int {
        try db.execute(
            "UPDATE deliveries SET status = 'pending', claimed_until = NULL, lease_id = NULL WHERE status = 'sending' AND lease_id = ?", leaseID)
    }

    /// What `record` answers for a sender whose lease is no longer the row's.
    static let staleOutcome = "stale"
    /// What `record` answers for a row the receiver asked us to send later (not counted as an attempt).
    static let deferredOutcome = "deferred"

    /// Stores one attempt and moves the row on: `sent`, back to `pending` after a backoff, or `dead`.
    /// A survey's invitation follows: `sent` on delivery, `failed` when dead-lettered.
    ///
    /// Only the holder of the row's lease records: every UPDATE requires `status = 'sending' AND lease_id = ?`.
    /// A sender whose lease ran out and whose row was claimed again (or released) writes nothing and gets
    /// `stale`, so it cannot overwrite the newer claim's result or count a second attempt.
    @discardableResult
    static func record(
        _ db: any SQLConnection, job: DeliveryJob, result: AttemptResult, startedAt: Date, now: Date, maxAttempts: Int, backoff: Backoff
    ) throws -> String {
        guard let leaseID = job.leaseID else { return staleOutcome }
        if result.kind == .cancelled {
            let changed = try db.execute(
                "UPDATE deliveries SET status = 'dead', claimed_until = NULL, lease_id = NULL, last_error = ? WHERE id = ? AND status = 'sending' AND lease_id = ?",
                "cancelled: \(result.detail)", job.deliveryID, leaseID)
            return changed == 1 ? "cancelled" : staleOutcome
        }
        let attempt = job.attempts + 1
        let outcome: String
        switch result.kind {
        case .deferred:
            // The receiver said "not now" (SMTP 421/450/451/452, HTTP 429): back to pending after its Retry-After
            // (capped) or one base backoff, with the attempt count unchanged, so waiting never dead-letters a row.
            outcome = deferredOutcome
            let wait = min(backoff.max, result.retryAfter ?? backoff.delay(afterAttempt: 1))
            let changed = try db.execute(
                """
                UPDATE deliveries SET status = 'pending', due_at = ?, claimed_until = NULL, lease_id = NULL, last_error = ?
                WHERE id = ? AND status = 'sending' AND lease_id = ?
                """, now.addingTimeInterval(wait), result.detail, job.deliveryID, leaseID)
            guard changed == 1 else { return staleOutcome }
            // Recorded as a `retry` attempt (the column's closed set); its detail starts with "deferred".
            try db.execute(
                """
                INSERT INTO delivery_attempts (delivery_id, attempt, started_at, finished_at, outcome, status_code, curl_code, detail)
                VALUES (?, ?, ?, ?, 'retry', ?, ?, ?)
                """, job.deliveryID, attempt, startedAt, now, result.statusCode, result.curlCode, result.detail)
            return outcome
        case .sent:
            outcome = "sent"
            let changed = try db.execute(
                """
                UPDATE deliveries SET status = 'sent', attempts = ?, sent_at = ?, claimed_until = NULL, lease_id = NULL, last_error = NULL
                WHERE id = ? AND status = 'sending' AND lease_id = ?
                """, attempt, now, job.deliveryID, leaseID)
            guard changed == 1 else { return staleOutcome }
            if job.purpose == .survey { try InvitationStore.markSent(db, id: job.invitationID, at: now) }
        case .permanent, .transient, .cancelled, .deferred:
            if result.kind == .permanent || attempt >= maxAttempts {
                outcome = "dead"
                let changed = try db.execute(
                    "UPDATE deliveries SET status = 'dead', attempts = ?, claimed_until = NULL, lease_id = NULL, last_error = ? WHERE id = ? AND status = 'sending' AND lease_id = ?",
                    attempt, result.detail, job.deliveryID, leaseID)
                guard changed == 1 else { return staleOutcome }
                if job.purpose == .survey { try InvitationStore.markFailed(db, id: job.invitationID) }
            } else {
                outcome = "retry"
                let changed = try db.execute(
                    """
                    UPDATE deliveries SET status = 'pending', attempts = ?, due_at = ?, claimed_until = NULL, lease_id = NULL, last_error = ?
                    WHERE id = ? AND status = 'sending' AND lease_id = ?
                    """, attempt, now.addingTimeInterval(backoff.delay(afterAttempt: attempt)), result.detail, job.deliveryID, leaseID)
                guard changed == 1 else { return staleOutcome }
            }
        }
        try db.execute(
            """
            INSERT INTO delivery_attempts (delivery_id, attempt, started_at, finished_at, outcome, status_code, curl_code, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, job.deliveryID, attempt, startedAt, now, outcome, result.statusCode, result.curlCode, result.detail)
        return outcome
    }
}
