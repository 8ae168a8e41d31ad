import Foundation

/// One line of `happydesk outbox list`: an outbox row, or a closure the policy skipped (no row).
public struct OutboxEntry: Sendable, Equatable {
    public var deliveryID: Int64?
    /// Nil for a sign-in email, which belongs to a sign-in link rather than an invitation.
    public var invitationID: Int64?
    public var ticketID: String?
    public var purpose: DeliveryPurpose
    public var channel: DeliveryChannel?
    /// pending, sending, sent, dead, or skipped (policy: throttle, sampling).
    public var status: String
    public var invitationStatus: InvitationStatus?
    public var attempts: Int
    public var dueAt: Date?
    public var sentAt: Date?
    public var lastError: String?
    /// Why the row is where it is, in words: the skip reason, a policy delay, a retry time, expiry.
    public var note: String
}

/// One recorded send attempt (`delivery_attempts`).
public struct DeliveryAttempt: Sendable, Equatable {
    public var attempt: Int
    public var startedAt: Date
    public var finishedAt: Date
    /// sent, retry or dead.
    public var outcome: String
    public var statusCode: Int?
    public var curlCode: Int?
    public var detail: String?
}

/// The operator's view of the outbox, for the CLI: opens nothing itself, works on the given database.
public struct OutboxAdmin: Sendable {
    public let database: any AppStorage

    public init(database: any AppStorage) { self.database = database }

    public func list(status: String? = nil, limit: Int = 100) async throws -> [OutboxEntry] {
        try await database.read { db in try Outbox.list(db, status: status, limit: limit) }
    }

    /// When the next email may be sent (pacing, a relay's pause, the next due row).
    public func nextSend(rateLimit: SMTPRateLimit?, now: Date = Date()) async throws -> NextSend {
        try await database.read { db in try Outbox.nextSend(db, rateLimit: rateLimit, now: now) }
    }

    public func attempts(deliveryID: Int64) async throws -> [DeliveryAttempt] {
        try await database.read { db in try Outbox.attempts(db, deliveryID: deliveryID) }
    }

    /// With `actor`, an `outbox.retry` audit row is written in the same transaction.
    public func retry(ids: [Int64]?, actor: AuditActor? = nil) async throws -> Int {
        try await database.write { db in
            let requeued = try Outbox.retry(db, ids: ids)
            if let actor {
                try AuditLog.record(
                    db, .outboxRetry, actor: actor, target: ids.map { "deliveries:\($0.count)" } ?? "deliveries:dead",
                    details: ["requeued": requeued, "ids": (ids ?? []).prefix(100).map { Int($0) }])
            }
            return requeued
        }
    }

    /// With `actor`, an `outbox.purge` audit row is written in the same transaction.
    public func purge(olderThan: Date, includeDead: Bool, actor: AuditActor? = nil) async throws -> Int {
        try await database.write { db in
            let removed = try Outbox.purge(db, olderThan: olderThan, includeDead: includeDead)
            if let actor {
                try AuditLog.record(
                    db, .outboxPurge, actor: actor, target: "deliveries",
                    details: ["removed": removed, "older_than": ISO8601.format(olderThan), "dead": includeDead])
            }
            return removed
        }
    }
}

extension Outbox {
    /// Newest first; `status` filters on pending, sending, sent, dead or skipped. Sign-in emails are listed too,
    /// without an invitation or ticket.
    public static func list(_ db: any SQLConnection, status: String? = nil, limit: Int = 100, now: Date = Date()) throws -> [OutboxEntry] {
        let rows = try db.fetchAll(
            """
            SELECT * FROM (
                SELECT d.id AS delivery_id, d.invitation_id, c.ticket_id, d.purpose, d.channel, d.status, i.status AS invitation_status,
                       d.attempts, d.due_at, d.sent_at, d.last_error, i.skip_reason, i.expires_at, d.created_at
                FROM deliveries d LEFT JOIN invitations i ON i.id = d.invitation_id LEFT JOIN closures c ON c.id = i.closure_id
                WHERE CAST(?1 AS TEXT) IS NULL OR d.status = ?1
                UNION ALL
                SELECT NULL, i.id, c.ticket_id, 'survey', NULL, 'skipped', i.status, 0, NULL, NULL, NULL, i.skip_reason, i.expires_at, i.created_at
                FROM invitations i JOIN closures c ON c.id = i.closure_id
                WHERE i.status = 'skipped' AND (?1 IS NULL OR ?1 = 'skipped')) AS entries
            ORDER BY created_at DESC, delivery_id DESC LIMIT ?2
            """, status, limit
        )
        return rows.map { row in
            var entry = OutboxEntry(
                deliveryID: row["delivery_id"], invitationID: row["invitation_id"], ticketID: row["ticket_id"], purpose: row["purpose"],
                channel: row["channel"], status: row["status"], invitationStatus: row["invitation_status"], attempts: row["attempts"],
                dueAt: row["due_at"], sentAt: row["sent_at"], lastError: row["last_error"], note: ""
            )
            entry.note = note(for: entry, skipReason: row["skip_reason"], expiresAt: row["expires_at"], now: now)
            return entry
        }
    }

    static func note(for entry: OutboxEntry, skipReason: String?, expiresAt: Date?, now: Date) -> String {
        switch entry.status {
        case "skipped":
            return "policy: \(skipReason ?? "skipped")"
        case "pending" where entry.lastError?.hasPrefix("deferred") == true:
            return "deferred until \(entry.dueAt.map(ISO8601.format) ?? "?") (not counted as an attempt): \(entry.lastError ?? "")"
        case "pending" where entry.attempts > 0:
            return "retry \(entry.attempts + 1) at \(entry.dueAt.map(ISO8601.format) ?? "?"): \(entry.lastError ?? "")"
        case "pending" where (entry.dueAt ?? now) > now:
            let due = entry.dueAt.map(ISO8601.format) ?? "?"
            return entry.purpose == .reminder ? "policy: reminder due \(due)" : "policy: delayed until \(due)"
        case "dead":
            return entry.lastError ?? "dead"
        case "sent" where entry.invitationStatus == .expired, "pending" where entry.invitationStatus == .expired:
            return "invitation expired \(expiresAt.map(ISO8601.format) ?? "")"
        case "sent" where entry.invitationStatus == .sent && entry.purpose == .survey:
            return "awaiting answer until \(expiresAt.map(ISO8601.format) ?? "?")"
        default:
            return ""
        }
    }

    /// The attempts of one row, oldest first, for `outbox list --attempts ID`.
    public static func attempts(_ db: any SQLConnection, deliveryID: Int64) throws -> [DeliveryAttempt] {
        try db.fetchAll(
            "SELECT attempt, started_at, finished_at, outcome, status_code, curl_code, detail FROM delivery_attempts WHERE delivery_id = ? ORDER BY id",
            deliveryID
        ).map { row in
            DeliveryAttempt(
                attempt: row["attempt"], startedAt: row["started_at"], finishedAt: row["finished_at"], outcome: row["outcome"],
                statusCode: row["status_code"], curlCode: row["curl_code"], detail: row["detail"]
            )
        }
    }

    /// Puts dead (or waiting) rows back in the queue now, with a fresh attempt budget; a failed survey's
    /// invitation returns to `pending`. Returns the number of rows requeued.
    public static func retry(_ db: any SQLConnection, ids: [Int64]?, now: Date = Date()) throws -> Int {
        let filter: String
        var arguments: [SQLValue] = [now.sqlValue]
        if let ids {
            guard !ids.isEmpty else { return 0 }
            filter = "id IN (\(sqlPlaceholders(ids.count))) AND status IN ('dead', 'pending')"
            arguments += ids.map(\.sqlValue)
        } else {
            filter = "status = 'dead'"
        }
        let invitationIDs = try db.column(
            Int64.self,
            "UPDATE deliveries SET status = 'pending', attempts = 0, due_at = ?, claimed_until = NULL, lease_id = NULL WHERE \(filter) RETURNING invitation_id",
            arguments
        )
        for id in Set(invitationIDs) { try InvitationStore.markRetrying(db, id: id) }
        return invitationIDs.count
    }

    /// Deletes sent rows (and with `includeDead`, dead rows) older than `olderThan`, with their attempts,
    /// except rows something later still reads:
    /// - an invitation's `survey` row while the invitation is pending, sent or answered: it holds the sealed
    ///   token that a later analyst reply copies (its link) and a reminder copies;
    /// - its `reminder` row while the invitation is pending or sent: without it the policy would queue a
    ///   second reminder.
    /// Threading needs no row (`In-Reply-To` is derived from the invitation id). Old attempts of kept
    /// rows are still deleted. Returns the number of outbox rows deleted.
    public static func purge(_ db: any SQLConnection, olderThan: Date, includeDead: Bool) throws -> Int {
        let removed = try db.execute(
            """
            DELETE FROM deliveries
            WHERE ((status = 'sent' AND sent_at <= ?1) OR (?2 = 1 AND status = 'dead' AND created_at <= ?1))
              AND NOT (purpose IN ('survey', 'reminder') AND EXISTS (
                  SELECT 1 FROM invitations i WHERE i.id = deliveries.invitation_id
                    AND (i.status IN ('pending', 'sent') OR (deliveries.purpose = 'survey' AND i.status = 'answered'))))
            """, olderThan, includeDead
        )
        try db.execute(
            """
            DELETE FROM delivery_attempts WHERE finished_at <= ?1 AND delivery_id IN (
                SELECT id FROM deliveries WHERE (status = 'sent' AND sent_at <= ?1) OR (?2 = 1 AND status = 'dead' AND created_at <= ?1))
            """, olderThan, includeDead
        )
        return removed
    }
}
