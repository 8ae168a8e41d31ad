import Foundation

/// Where an invitation is in its life.
public enum InvitationStatus: String, Sendable, SQLBindable, SQLDecodable, CaseIterable {
    case pending, sent, answered, skipped, expired, failed
}

/// The one owner of `closures` and `invitations` (a closure has exactly one invitation): intake writes them,
/// delivery and answering move an invitation's status through these methods, every other step only reads.
public enum InvitationStore {
    /// The invitation already made for (source, ticket_id), if any: intake's idempotency key.
    static func find(_ db: any SQLConnection, source: String, ticketID: String) throws -> IntakeResult? {
        guard
            let row = try db.fetchOne(
                """
                SELECT i.id, i.status, i.skip_reason, i.expires_at FROM closures c JOIN invitations i ON i.closure_id = c.id
                WHERE c.source = ? AND c.ticket_id = ?
                """, source, ticketID)
        else { return nil }
        return IntakeResult(outcome: .duplicate, invitationID: row[0], status: row[1], skipReason: row[2], expiresAt: row[3])
    }

    /// When `email` was last surveyed (not skipped) since `since`: the throttle.
    static func lastSurveyed(_ db: any SQLConnection, email: String, since: Date) throws -> Date? {
        try db.scalar(
            Date.self,
            "SELECT max(created_at) FROM invitations WHERE \(db.dialect.equalsIgnoringCase("requester_email")) AND status <> 'skipped' AND created_at >= ?",
            email, since)
    }

    /// Whether `email` appears as an assignee email on any closure, and the assignee id and name of the latest
    /// one (an id first): what auto-provisioning matches a first sign-in to. Nil when it appears nowhere.
    public static func assignee(_ db: any SQLConnection, email: String) throws -> (id: String?, name: String?)? {
        try db.fetchOne(
            """
            SELECT assignee_id, assignee_name FROM invitations WHERE \(db.dialect.equalsIgnoringCase("assignee_email"))
            ORDER BY CASE WHEN assignee_id IS NULL THEN 1 ELSE 0 END, id DESC LIMIT 1
            """, email
        ).map { ($0[0], $0[1]) }
    }

    /// Stores the closure as received and its invitation; returns the invitation id.
    static func create(
        _ db: any SQLConnection, closure: Closure, surveyID: String, tokenHash: Data, locale: String, status: InvitationStatus,
        skipReason: String?, now: Date, expiresAt: Date, sentAt: Date? = nil
    ) throws -> Int64 {
        let closureID = try db.insert(
            """
            INSERT INTO closures (source, ticket_id, kind, state, requester_email, requester_name, requester_locale,
                assignee_id, assignee_name, assignee_email, group_name, service, channel, country, reassignments, closed_at, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                closure.source as any SQLBindable, closure.ticketID, closure.kind.rawValue, closure.state, closure.requester.email,
                closure.requester.name, closure.requester.locale, closure.assignee?.id, closure.assignee?.name,
                closure.assignee?.email, closure.group, closure.service, closure.channel, closure.country,
                closure.reassignments, closure.closedAt, now,
            ].map { $0.sqlValue })
        return try db.insert(
            """
            INSERT INTO invitations (closure_id, survey, kind, token_hash, locale, requester_email, requester_name,
                assignee_id, assignee_name, assignee_email, group_name, service, status, skip_reason, created_at, expires_at, sent_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                closureID as any SQLBindable, surveyID, closure.kind.rawValue, tokenHash, locale, closure.requester.email,
                closure.requester.name, closure.assignee?.id, closure.assignee?.name, closure.assignee?.email,
                closure.group, closure.service, status, skipReason, now, expiresAt, sentAt,
            ].map { $0.sqlValue })
    }

    /// The invitation behind a survey token (by its SHA-256), with its ticket and its response if answered.
    static func state(_ db: any SQLConnection, tokenHash: Data) throws -> InvitationState? {
        guard
            let row = try db.fetchOne(
                """
                SELECT i.id, i.survey, i.locale, i.status, i.expires_at, c.ticket_id, c.source, i.kind,
                       i.assignee_id, i.assignee_name, i.assignee_email, i.group_name, i.service, i.requester_name, i.requester_email,
                       \(ResponseStore.columns)
                FROM invitations i JOIN closures c ON c.id = i.closure_id LEFT JOIN responses r ON r.invitation_id = i.id
                WHERE i.token_hash = ?
                """, tokenHash)
        else { return nil }
        return InvitationState(
            invitationID: row[0], surveyID: row[1], locale: row[2], status: row[3], expiresAt: row[4], ticketID: row[5],
            response: try ResponseStore.response(db, from: row, at: 15),
            snapshot: .init(
                source: row[6], kind: row[7], assigneeID: row[8], assigneeName: row[9], assigneeEmail: row[10], group: row[11],
                service: row[12], requesterName: row[13], requesterEmail: row[14])
        )
    }

    /// What a survey link is good for: its invitation's status and expiry, and its response if answered.
    static func link(_ db: any SQLConnection, tokenHash: Data) throws -> (status: InvitationStatus, expiresAt: Date, responseID: Int64?)? {
        guard
            let row = try db.fetchOne(
                "SELECT i.status, i.expires_at, r.id FROM invitations i LEFT JOIN responses r ON r.invitation_id = i.id WHERE i.token_hash = ?",
                tokenHash)
        else { return nil }
        return (row[0], row[1], row[2])
    }

    static func markSent(_ db: any SQLConnection, id: Int64, at now: Date) throws {
        try db.execute("UPDATE invitations SET status = 'sent', sent_at = ? WHERE id = ? AND status IN ('pending', 'failed')", now, id)
    }

    static func markFailed(_ db: any SQLConnection, id: Int64) throws {
        try db.execute("UPDATE invitations SET status = 'failed' WHERE id = ? AND status = 'pending'", id)
    }

    /// A dead-lettered survey queued again: its invitation is pending once more.
    static func markRetrying(_ db: any SQLConnection, id: Int64) throws {
        try db.execute("UPDATE invitations SET status = 'pending' WHERE id = ? AND status = 'failed'", id)
    }

    static func markAnswered(_ db: any SQLConnection, id: Int64) throws {
        try db.executeDeferred("UPDATE invitations SET status = 'answered' WHERE id = ?", id)
    }

    /// Marks invitations past their expiry as `expired`; returns how many.
    static func expire(_ db: any SQLConnection, now: Date) throws -> Int {
        try db.execute("UPDATE invitations SET status = 'expired' WHERE status IN ('pending', 'sent') AND expires_at <= ?", now)
    }
}
