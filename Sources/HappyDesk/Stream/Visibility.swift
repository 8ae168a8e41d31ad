import Foundation

/// Who a piece of feedback belongs to: the assignee snapshotted on the invitation at closure time.
public struct Audience: Sendable, Equatable, Decodable {
    public var assigneeID: String?
    public var assigneeEmail: String?

    public init(assigneeID: String?, assigneeEmail: String?) {
        self.assigneeID = assigneeID
        self.assigneeEmail = assigneeEmail
    }

    enum CodingKeys: String, CodingKey {
        case assigneeID = "assignee_id"
        case assigneeEmail = "assignee_email"
    }
}

extension AuthenticatedUser {
    /// The visibility rule, in one place: managers and admins see everything; an analyst sees feedback
    /// whose snapshotted assignee id equals theirs, or whose assignee email equals theirs ignoring case.
    public func canSee(_ audience: Audience) -> Bool {
        if seesEverything { return true }
        if let mine = assigneeID, !mine.isEmpty, audience.assigneeID == mine { return true }
        if let theirs = audience.assigneeEmail, theirs.caseInsensitiveCompare(email) == .orderedSame { return true }
        return false
    }

    /// The same rule as SQL over an `invitations` alias `i`, with its arguments.
    func visibilitySQL(_ dialect: SQLDialect) -> (sql: String, arguments: [SQLValue]) {
        if seesEverything { return ("1 = 1", []) }
        return ("(i.assignee_id = ? OR \(dialect.equalsIgnoringCase("i.assignee_email")))", [assigneeID.sqlValue, email.sqlValue])
    }
}
