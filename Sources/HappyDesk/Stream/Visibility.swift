import Foundation

/// Who a piece of feedback belongs to: the assignee, assignment group and service snapshotted on the
/// invitation at closure time.
public struct Audience: Sendable, Equatable, Decodable {
    public var assigneeID: String?
    public var assigneeEmail: String?
    /// The closure's `group` (invitations.group_name).
    public var group: String?
    /// The closure's `service` (invitations.service).
    public var service: String?

    public init(assigneeID: String?, assigneeEmail: String?, group: String? = nil, service: String? = nil) {
        self.assigneeID = assigneeID
        self.assigneeEmail = assigneeEmail
        self.group = group
        self.service = service
    }

    enum CodingKeys: String, CodingKey {
        case assigneeID = "assignee_id"
        case assigneeEmail = "assignee_email"
        case group, service
    }
}

/// What a user may read: everything (managers, admins), their assignment groups (leads), their services
/// (owners), the feedback on their own tickets (analysts), or nothing (integrations). Derived from
/// `AuthenticatedUser.scope`; the stream, threads, kudos, the summary and the dashboard all ask it.
///
/// Groups and services match a closure's `group` and `service` ignoring ASCII case, the same way in Swift
/// (`Scope.fold`) and in SQL (`SQLDialect.asciiLower`) on both backends.
public enum Scope: Sendable, Equatable {
    case everything
    case groups([String])
    case services([String])
    case ownAssignee
    case nothing

    /// A name as scopes compare it: ASCII letters lowercased, everything else as it is.
    public static func fold(_ name: String) -> String {
        var folded = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            folded.append(("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32) ?? scalar : scalar)
        }
        return String(folded)
    }

    /// How a 403 names what the user may not read: "outside your groups (Network)".
    public var outsideDescription: String {
        switch self {
        case .everything: return "visible to you"
        case .nothing: return "not for an integration token"
        case .groups(let groups): return "outside your groups (\(groups.joined(separator: ", ")))"
        case .services(let services): return "outside your services (\(services.joined(separator: ", ")))"
        case .ownAssignee: return "not on one of your tickets"
        }
    }

    /// Whether `name` is one of `names`, by `fold`.
    public static func contains(_ names: [String], _ name: String?) -> Bool {
        guard let name else { return false }
        let folded = fold(name)
        return names.contains { fold($0) == folded }
    }
}

extension AuthenticatedUser {
    /// The visibility rule, in one place: managers and admins see everything; a lead sees feedback of their
    /// groups, an owner of their services; an analyst sees feedback whose snapshotted assignee id equals
    /// theirs, or whose assignee email equals theirs ignoring case.
    public func canSee(_ audience: Audience) -> Bool {
        switch scope {
        case .everything: return true
        case .nothing: return false
        case .groups(let groups): return Scope.contains(groups, audience.group)
        case .services(let services): return Scope.contains(services, audience.service)
        case .ownAssignee:
            if let mine = assigneeID, !mine.isEmpty, audience.assigneeID == mine { return true }
            if let theirs = audience.assigneeEmail, theirs.caseInsensitiveCompare(email) == .orderedSame { return true }
            return false
        }
    }

    /// The same rule as SQL over an `invitations` alias `i`, with its arguments.
    func visibilitySQL(_ dialect: SQLDialect, invitations alias: String = "i") -> (sql: String, arguments: [SQLValue]) {
        switch scope {
        case .everything: return ("1 = 1", [])
        case .nothing: return ("1 = 0", [])
        case .groups(let groups): return dialect.inFolded("\(alias).group_name", groups)
        case .services(let services): return dialect.inFolded("\(alias).service", services)
        case .ownAssignee:
            return (
                "(\(alias).assignee_id = ? OR \(dialect.equalsIgnoringCase("\(alias).assignee_email")))", [assigneeID.sqlValue, email.sqlValue]
            )
        }
    }
}

extension SQLDialect {
    /// `column` with ASCII letters lowercased: SQLite's `lower()` folds only ASCII; PostgreSQL's does under the C collation.
    public func asciiLower(_ column: String) -> String {
        switch self {
        case .sqlite: return "lower(\(column))"
        case .postgres: return "lower(\(column) COLLATE \"C\")"
        }
    }

    /// `column` is one of `names` ignoring ASCII case (`Scope.fold`); an empty list matches nothing.
    func inFolded(_ column: String, _ names: [String]) -> (sql: String, arguments: [SQLValue]) {
        guard !names.isEmpty else { return ("1 = 0", []) }
        return ("\(asciiLower(column)) IN (\(sqlPlaceholders(names.count)))", names.map { Scope.fold($0).sqlValue })
    }
}
