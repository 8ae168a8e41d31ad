import Foundation
import Hummingbird

/// `GET /api/v1/audit`: the audit trail for admins, oldest first, paginated by id (`?after=` the previous page's
/// `next_after`), filtered by `?since=` (a date, a date-time or a duration such as `7d`) and `?actor=` (a user id or email).
public struct AuditController: Sendable {
    public let reader: any AppStorage
    public let users: UserStore
    public let trail: AuditTrail

    public init(reader: any AppStorage, users: UserStore, trail: AuditTrail) {
        self.reader = reader
        self.users = users
        self.trail = trail
    }

    public func register(on router: Router<AppRequestContext>) {
        let admins = router.group("/api/v1").add(middleware: AuthMiddleware(users: users, roles: [.admin]))
        admins.get("audit", use: list)
    }

    struct Page: Encodable {
        var entries: [AuditEntry]
        /// Pass as `?after=` for the next page; null on the last page.
        var next_after: Int64?
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        var query = AuditQuery()
        do {
            if let since = parameters["since"].map(String.init), !since.isEmpty { query.since = try AuditQuery.parseSince(since) }
        } catch let problem as AuditInputError {
            throw AppError.badRequest(problem.description, code: "invalid_since")
        }
        if let text = parameters["limit"].map(String.init) {
            guard let limit = Int(text), (1...1000).contains(limit) else {
                throw AppError.badRequest("limit must be a whole number from 1 to 1000, not '\(TextLimit.preview(text, 40))'", code: "invalid_limit")
            }
            query.limit = limit
        }
        if let text = parameters["after"].map(String.init) {
            guard let after = Int64(text), after >= 0 else {
                throw AppError.badRequest(
                    "after must be an audit id (a whole number ≥ 0), not '\(TextLimit.preview(text, 40))'", code: "invalid_after")
            }
            query.after = after
        }
        if let actor = parameters["actor"].map(String.init), !actor.isEmpty {
            query.actorUserID = try await resolveActor(actor)
        }
        let entries = try await reader.read { [query] db in try AuditLog.list(db, query) }
        return try JSONBody.response(Page(entries: entries, next_after: entries.count == query.limit ? entries.last?.id : nil))
    }

    /// A user id, or the email of a user (case-insensitive); an unknown email is a 400 that says so.
    func resolveActor(_ text: String) async throws -> Int64 {
        if let id = Int64(text), id > 0 { return id }
        guard let id = try await users.id(email: text) else {
            throw AppError.badRequest(
                "actor must be a user id or the email of a user; no user has the email '\(TextLimit.preview(text, 80))'", code: "invalid_actor")
        }
        return id
    }
}

/// A `since` that cannot be read.
public struct AuditInputError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension AuditQuery {
    /// `2026-11-01`, `2026-11-01T08:00:00Z`, or a duration back from now: `90m`, `24h`, `7d`, `4w`.
    public static func parseSince(_ text: String, now: Date = Date()) throws -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let amount = Double(trimmed.dropLast()), amount.isFinite, amount >= 0, amount <= 1_000_000 {
            let seconds: Double? =
                switch unit {
                case "s": 1
                case "m": 60
                case "h": 3600
                case "d": 86_400
                case "w": 604_800
                default: nil
                }
            if let seconds { return now.addingTimeInterval(-amount * seconds) }
        }
        if let date = ISO8601.parse(trimmed) { return date }
        if trimmed.count == 10, let date = ISO8601.parse(trimmed + "T00:00:00Z") { return date }
        throw AuditInputError(
            description:
                "since must be a date (2026-11-01), a date-time (2026-11-01T08:00:00Z) or a duration (90m, 24h, 7d), not '\(TextLimit.preview(text, 40))'"
        )
    }
}
