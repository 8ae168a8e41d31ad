import Foundation

/// The transactional outbox: rows written in the same transaction as the change they announce.
/// The delivery service claims due rows, sends them and records each attempt.
public enum Outbox {
    @discardableResult
    public static func enqueue(
        _ db: any SQLConnection, invitationID: Int64, purpose: DeliveryPurpose, channel: DeliveryChannel,
        sealedToken: Data?, payload: String? = nil, dueAt: Date, now: Date
    ) throws -> Int64 {
        try db.insert(
            """
            INSERT INTO deliveries (invitation_id, purpose, channel, status, sealed_token, payload, due_at, created_at)
            VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)
            """, invitationID, purpose, channel, sealedToken, payload, dueAt, now)
    }

    /// Queues a sign-in email for a link; its token is sealed bound to the link's id.
    @discardableResult
    public static func enqueueSignIn(_ db: any SQLConnection, linkID: Int64, channel: DeliveryChannel, sealedToken: Data, now: Date) throws -> Int64 {
        try db.insert(
            """
            INSERT INTO deliveries (invitation_id, signin_link_id, purpose, channel, status, sealed_token, due_at, created_at)
            VALUES (NULL, ?, 'signin', ?, 'pending', ?, ?, ?)
            """, linkID, channel, sealedToken, now, now)
    }

    /// The sealed survey token of an invitation's first survey row: a reply to the requester carries it, so
    /// its email can link back to the survey.
    static func surveySealedToken(_ db: any SQLConnection, invitationID: Int64) throws -> Data? {
        try db.scalar(
            Data.self, "SELECT sealed_token FROM deliveries WHERE invitation_id = ? AND purpose = 'survey' ORDER BY id LIMIT 1", invitationID)
    }

    /// Outbox tokens sealed before boxes were bound to their invitation, with the invitation's token hash.
    static func legacySealedTokens(_ db: any SQLConnection) throws -> [(deliveryID: Int64, invitationID: Int64, sealed: Data, tokenHash: Data)] {
        try db.fetchAll(
            """
            SELECT d.id, d.invitation_id, d.sealed_token, i.token_hash FROM deliveries d JOIN invitations i ON i.id = d.invitation_id
            WHERE d.sealed_token IS NOT NULL AND substr(d.sealed_token, 1, 4) <> ?
            """, TokenVault.boundPrefix
        ).map { ($0[0], $0[1], $0[2], $0[3]) }
    }

    static func reseal(_ db: any SQLConnection, deliveryID: Int64, sealed: Data) throws {
        try db.execute("UPDATE deliveries SET sealed_token = ? WHERE id = ?", sealed, deliveryID)
    }

    /// The channel a new message to a requester (survey, reminder, reply) goes out on, given the
    /// configuration: `email` with an SMTP URL, `webhook` with only a delivery webhook URL, else `file`.
    /// A `reply` on `webhook` is posted to the delivery webhook URL as `{"type": "survey.reply", …}`.
    public static func defaultChannel(settings: Settings) -> DeliveryChannel {
        settings.surveyChannel
    }
}

/// Why a `deliveries` row exists.
public enum DeliveryPurpose: String, Sendable, SQLBindable, SQLDecodable, CaseIterable {
    case survey, reminder, reply, alert, reopen
    /// An emailed sign-in link (`signin_links`); the row names the link, not an invitation.
    case signin
}

/// How a `deliveries` row goes out.
public enum DeliveryChannel: String, Sendable, SQLBindable, SQLDecodable, CaseIterable {
    case email, webhook, file
}
