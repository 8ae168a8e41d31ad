import Foundation

/// A claimed outbox row with what sending needs from its invitation and ticket.
public struct DeliveryJob: Sendable {
    public var deliveryID: Int64
    public var invitationID: Int64
    public var purpose: DeliveryPurpose
    public var channel: DeliveryChannel
    public var sealedToken: Data?
    /// The invitation's SHA-256 token hash: an opened token must match it to be used.
    public var tokenHash: Data?
    public var payload: String?
    /// The claim this sender holds; its result is recorded only while the row still carries it.
    public var leaseID: String?
    /// Attempts already recorded before this one.
    public var attempts: Int
    public var invitationStatus: InvitationStatus
    public var surveyID: String
    public var locale: String
    public var requesterEmail: String
    public var requesterName: String?
    public var assigneeName: String?
    public var ticketID: String
    public var source: String
    public var expiresAt: Date
    /// The emailed sign-in link a `signin` row belongs to (such a row has no invitation: `invitationID` is 0).
    public var signInLinkID: Int64?

    init(row: SQLRow) {
        deliveryID = row["id"]
        invitationID = row["invitation_id"]
        purpose = row["purpose"]
        channel = row["channel"]
        sealedToken = row["sealed_token"]
        tokenHash = row["token_hash"]
        payload = row["payload"]
        attempts = row["attempts"]
        leaseID = row["lease_id"]
        invitationStatus = row["invitation_status"]
        surveyID = row["survey"]
        locale = row["locale"]
        requesterEmail = row["requester_email"]
        requesterName = row["requester_name"]
        assigneeName = row["assignee_name"]
        ticketID = row["ticket_id"]
        source = row["source"]
        expiresAt = row["expires_at"]
        signInLinkID = row["signin_link_id"]
    }

    static let selectSQL = """
        SELECT d.id, COALESCE(d.invitation_id, 0) AS invitation_id, d.purpose, d.channel, d.sealed_token, d.payload, d.attempts, d.lease_id,
               COALESCE(i.status, 'pending') AS invitation_status, i.token_hash, COALESCE(i.survey, '') AS survey,
               COALESCE(i.locale, 'en') AS locale, COALESCE(i.requester_email, l.email) AS requester_email, i.requester_name, i.assignee_name,
               COALESCE(i.expires_at, l.expires_at) AS expires_at, COALESCE(c.ticket_id, '') AS ticket_id, COALESCE(c.source, '') AS source,
               d.signin_link_id
        FROM deliveries d LEFT JOIN invitations i ON i.id = d.invitation_id LEFT JOIN closures c ON c.id = i.closure_id
        LEFT JOIN signin_links l ON l.id = d.signin_link_id
        """

    /// A survey or reminder speaks to the requester about their survey; other purposes carry a payload.
    var isSurveyMessage: Bool { purpose == .survey || purpose == .reminder }
}
