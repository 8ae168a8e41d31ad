import Foundation
import GRDB

/// A user as listed by `happydesk users list`.
public struct UserRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var email: String
    public var assigneeID: String?
    public var role: AuthenticatedUser.Role
    public var createdAt: Date
    public var revokedAt: Date?
}

/// Users, their API tokens and browser sessions. Tokens are 256-bit CSPRNG values shown once, stored hashed.
public struct UserStore: Sendable {
    public let writer: any DatabaseWriter
    /// How long a browser session lasts.
    public var sessionLifetime: TimeInterval = 12 * 3600

    public init(writer: any DatabaseWriter) { self.writer = writer }

    /// Adds a user and returns the clear API token, which is never stored.
    public func add(name: String, email: String, role: AuthenticatedUser.Role, assigneeID: String? = nil, now: Date = Date()) async throws -> (
        UserRecord, String
    ) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, TextLimit.fits(name, max: 200), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AppError.badRequest("name must be 1 to 200 characters with no line breaks")
        }
        guard EmailAddress.isValid(email) else { throw AppError.badRequest("'\(email)' is not a valid email address") }
        let token = "hd_" + SurveyToken.generate().value
        let record = try await writer.write { db -> UserRecord in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE email = ?", arguments: [email]) == true {
                throw AppError(.conflict, code: "user_exists", "a user with email \(email) already exists")
            }
            try db.execute(
                sql: "INSERT INTO users (name, email, assignee_id, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [name, email, assigneeID, role.rawValue, SurveyToken.hash(token), now]
            )
            return UserRecord(id: db.lastInsertedRowID, name: name, email: email, assigneeID: assigneeID, role: role, createdAt: now, revokedAt: nil)
        }
        return (record, token)
    }

    public func list() async throws -> [UserRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY id").map(Self.record)
        }
    }

    /// Revokes a user's token and ends their sessions; returns false when no active user matched.
    public func revoke(email: String, now: Date = Date()) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "UPDATE users SET revoked_at = ? WHERE email = ? AND revoked_at IS NULL", arguments: [now, email])
            let changed = db.changesCount > 0
            try db.execute(sql: "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE email = ?)", arguments: [email])
            return changed
        }
    }

    /// The active user owning an API token, or nil.
    public func user(token: String) async throws -> AuthenticatedUser? {
        guard token.hasPrefix("hd_"), token.utf8.count < 100 else { return nil }
        let hash = SurveyToken.hash(token)
        return try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE token_hash = ? AND revoked_at IS NULL", arguments: [hash]).map(Self.user)
        }
    }

    /// Starts a browser session for a token's owner; returns the clear session id for the cookie.
    public func startSession(token: String, now: Date = Date()) async throws -> (AuthenticatedUser, String)? {
        guard let user = try await user(token: token) else { return nil }
        let session = SurveyToken.generate().value
        let lifetime = sessionLifetime
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at < ?", arguments: [now])
            try db.execute(
                sql: "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [SurveyToken.hash(session), user.id, now, now.addingTimeInterval(lifetime)]
            )
        }
        return (user, session)
    }

    public func user(session: String, now: Date = Date()) async throws -> AuthenticatedUser? {
        guard SurveyToken.looksValid(session) else { return nil }
        let hash = SurveyToken.hash(session)
        return try await writer.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ? AND u.revoked_at IS NULL",
                arguments: [hash, now]
            ).map(Self.user)
        }
    }

    public func endSession(_ session: String) async throws {
        let hash = SurveyToken.hash(session)
        try await writer.write { db in try db.execute(sql: "DELETE FROM sessions WHERE id_hash = ?", arguments: [hash]) }
    }

    static func user(_ row: Row) -> AuthenticatedUser {
        AuthenticatedUser(
            id: row["id"], name: row["name"], email: row["email"],
            role: AuthenticatedUser.Role(rawValue: row["role"]) ?? .analyst, assigneeID: row["assignee_id"]
        )
    }

    static func record(_ row: Row) -> UserRecord {
        UserRecord(
            id: row["id"], name: row["name"], email: row["email"], assigneeID: row["assignee_id"],
            role: AuthenticatedUser.Role(rawValue: row["role"]) ?? .analyst, createdAt: row["created_at"], revokedAt: row["revoked_at"]
        )
    }
}
