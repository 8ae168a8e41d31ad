import Foundation

/// A response with the invitation facts the stream's actions need, loaded only for a user who may see it.
struct ResponseAccess: Sendable {
    var responseID: Int64
    var invitationID: Int64
    var ticketID: String
    var surveyID: String
    var score: Int
    var assigneeID: String?
    var assigneeName: String?
    var assigneeEmail: String?
    var requesterName: String?
    var group: String?
    var service: String?

    var audience: Audience { Audience(assigneeID: assigneeID, assigneeEmail: assigneeEmail, group: group, service: service) }

    /// Unknown ids answer 404; another analyst's response answers 403 and nothing about it.
    static func load(_ db: any SQLConnection, responseID: Int64, user: AuthenticatedUser) throws -> ResponseAccess {
        guard let access = try load(db, responseID: responseID) else {
            throw AppError(.notFound, code: "unknown_response", "there is no response \(responseID)")
        }
        guard user.canSee(access.audience) else {
            throw AppError(.forbidden, code: "forbidden", "response \(responseID) is \(user.scope.outsideDescription)")
        }
        return access
    }

    static func load(_ db: any SQLConnection, responseID: Int64) throws -> ResponseAccess? {
        try db.fetchOne(
            """
            SELECT r.id, r.invitation_id, r.score, c.ticket_id, i.survey, i.assignee_id, i.assignee_name, i.assignee_email, i.requester_name,
                   i.group_name, i.service
            FROM responses r JOIN invitations i ON i.id = r.invitation_id JOIN closures c ON c.id = i.closure_id
            WHERE r.id = ?
            """, responseID
        ).map { row in
            ResponseAccess(
                responseID: row["id"], invitationID: row["invitation_id"], ticketID: row["ticket_id"], surveyID: row["survey"],
                score: row["score"], assigneeID: row["assignee_id"], assigneeName: row["assignee_name"],
                assigneeEmail: row["assignee_email"], requesterName: row["requester_name"],
                group: row["group_name"], service: row["service"]
            )
        }
    }
}
