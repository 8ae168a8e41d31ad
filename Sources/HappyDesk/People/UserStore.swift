import Foundation

/// A user as listed by `happydesk users list`.
public struct UserRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// Nil only for an integration, which names a system rather than a person.
    public var email: String?
    public var assigneeID: String?
    public var role: AuthenticatedUser.Role
    public var createdAt: Date
    public var revokedAt: Date?
}

/// Who an address signs in as.
public enum SignInMatch: Sendable, Equatable {
    case existing(AuthenticatedUser)
    /// Created just now from closures' assignee email.
    case provisioned(AuthenticatedUser)
    case revoked(AuthenticatedUser)
    /// No user and no closure names this address.
    case unknown
}

/// What a request or an open socket was authenticated with, kept only as a hash so a socket can re-check
/// it later without holding the clear secret.
public enum Credential: Sendable, Equatable {
    case apiToken(hash: Data)
    case session(hash: Data)
}

/// Users, their API tokens and browser sessions. Tokens are 256-bit CSPRNG values shown once, stored hashed.
public struct UserStore: Sendable {
    public let writer: any AppStorage
    /// Idle and absolute lifetimes of browser sessions.
    public var sessions: SessionSettings
    /// Cookie-authenticated state changes and stream upgrades must come from this origin.
    public var origin: OriginPolicy

    public init(writer: any AppStorage, sessions: SessionSettings = SessionSettings(), publicURL: String = "http://localhost:8080") {
        self.writer = writer
        self.sessions = sessions
        self.origin = OriginPolicy(publicURL: publicURL)
    }

    /// How long a browser session lasts at most; the cookie's Max-Age.
    public var sessionLifetime: TimeInterval { sessions.absoluteLifetime }

    /// Adds a user and returns the clear API token, which is never stored. People need an email (it is
    /// matched against closures' assignee); an integration may go without one.
    public func add(name: String, email: String?, role: AuthenticatedUser.Role, assigneeID: String? = nil, now: Date = Date()) async throws -> (
        UserRecord, String
    ) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, TextLimit.fits(name, max: 200), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw AppError.badRequest("name must be 1 to 200 characters with no line breaks")
        }
        var email = email.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        if let given = email {
            do {
                email = try EmailAddress.deliverable(given)
            } catch {
                throw AppError.badRequest("'\(given)' is not a valid email address: \(error)")
            }
        } else if role != .integration {
            throw AppError.badRequest("an \(role.rawValue) needs an email (only an integration may go without one)")
        }
        let token = "hd_" + SurveyToken.generate().value
        let stored = email
        let record = try await writer.write { db -> UserRecord in
            if let email = stored, try db.fetchOne("SELECT 1 FROM users WHERE \(db.dialect.equalsIgnoringCase("email"))", email) != nil {
                throw AppError(.conflict, code: "user_exists", "a user with email \(email) already exists")
            }
            let id = try db.insert(
                "INSERT INTO users (name, email, assignee_id, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                name, stored, assigneeID, role.rawValue, SurveyToken.hash(token), now)
            return UserRecord(id: id, name: name, email: stored, assigneeID: assigneeID, role: role, createdAt: now, revokedAt: nil)
        }
        return (record, token)
    }

    public func list() async throws -> [UserRecord] {
        try await writer.read { db in
            try db.fetchAll("SELECT * FROM users ORDER BY id").map(Self.record)
        }
    }

    /// Revokes a user's token and ends their sessions; returns false when no active user matched.
    /// Open sockets notice within `SessionSettings.recheckInterval`, even when this runs in another process.
    public func revoke(email: String, now: Date = Date()) async throws -> Bool {
        try await revoke(where: writer.dialect.equalsIgnoringCase("email"), email, now: now)
    }

    /// Revokes by id: the way to revoke an integration, which may have no email.
    public func revoke(id: Int64, now: Date = Date()) async throws -> Bool {
        try await revoke(where: "id = ?", id, now: now)
    }

    private func revoke(where condition: String, _ value: some SQLBindable, now: Date) async throws -> Bool {
        try await writer.write { db in
            let changed = try db.execute("UPDATE users SET revoked_at = ? WHERE \(condition) AND revoked_at IS NULL", now, value) > 0
            try db.execute("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE \(condition))", value)
            return changed
        }
    }

    /// The active user owning an API token, or nil.
    public func user(token: String) async throws -> AuthenticatedUser? {
        guard Self.looksLikeToken(token) else { return nil }
        let hash = SurveyToken.hash(token)
        return try await writer.read { db in
            try db.fetchOne("SELECT * FROM users WHERE token_hash = ? AND revoked_at IS NULL", hash).map(Self.user)
        }
    }

    static func looksLikeToken(_ token: String) -> Bool { token.hasPrefix("hd_") && token.utf8.count < 100 }

    /// Starts a browser session for a person's token; returns the clear session id for the cookie.
    /// An integration token opens no session: it is for closures only.
    public func startSession(token: String, now: Date = Date()) async throws -> (AuthenticatedUser, String)? {
        guard let user = try await user(token: token), AuthenticatedUser.Role.people.contains(user.role) else { return nil }
        return (user, try await startSession(for: user, now: now))
    }

    /// Starts a browser session for a person already identified (OpenID Connect, an email link); returns the clear id.
    public func startSession(for user: AuthenticatedUser, now: Date = Date()) async throws -> String {
        let session = SurveyToken.generate().value
        let lifetime = sessions.absoluteLifetime
        let idle = sessions.idleTimeout
        try await writer.write { db in
            try db.execute("DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?", now, now.addingTimeInterval(-idle))
            try db.execute(
                "INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                SurveyToken.hash(session), user.id, now, now.addingTimeInterval(lifetime), now)
        }
        return session
    }

    /// The user with this email (case-insensitive), revoked or not: a revoked person is refused, not re-created.
    public func user(email: String) async throws -> (user: AuthenticatedUser, revoked: Bool)? {
        try await writer.read { db in
            try db.fetchOne("SELECT * FROM users WHERE \(db.dialect.equalsIgnoringCase("email"))", email).map {
                (Self.user($0), ($0["revoked_at"] as Date?) != nil)
            }
        }
    }

    /// Sets a person's role (OpenID Connect group claims, at each sign-in); an integration is never changed.
    public func setRole(id: Int64, role: AuthenticatedUser.Role) async throws {
        _ = try await writer.write { db in
            try db.execute("UPDATE users SET role = ? WHERE id = ? AND role <> 'integration'", role.rawValue, id)
        }
    }

    /// The person an address signs in as: its user, or, the first time an address that appears as an assignee
    /// email on closures signs in, a new analyst matched to that assignee id (auto-provisioning). Nil for an
    /// address known nowhere, or a revoked user.
    public func signInUser(email: String, name: String?, now: Date = Date()) async throws -> SignInMatch {
        if let (user, revoked) = try await user(email: email) {
            if revoked { return .revoked(user) }
            guard AuthenticatedUser.Role.people.contains(user.role) else { return .unknown }
            return .existing(user)
        }
        guard let assignee = try await writer.read({ db in try InvitationStore.assignee(db, email: email) }) else { return .unknown }
        let display = [name, assignee.name].compactMap { $0?.trimmingCharacters(in: .whitespaces) }.first {
            !$0.isEmpty && TextLimit.fits($0, max: 200)
        }
        let fallback = String(email.split(separator: "@").first ?? "analyst")
        do {
            let (record, _) = try await add(name: display ?? fallback, email: email, role: .analyst, assigneeID: assignee.id, now: now)
            return .provisioned(
                AuthenticatedUser(id: record.id, name: record.name, email: record.email ?? email, role: .analyst, assigneeID: record.assigneeID))
        } catch let error as AppError where error.status == .conflict {
            // Another request provisioned the same address first.
            if let (user, revoked) = try await user(email: email), !revoked { return .existing(user) }
            return .unknown
        }
    }

    /// The user of a live session: not signed out, not revoked, within both lifetimes. Marks the session
    /// used (at most once per `touchInterval`), which is what keeps it from going idle.
    public func user(session: String, now: Date = Date()) async throws -> AuthenticatedUser? {
        guard SurveyToken.looksValid(session) else { return nil }
        let hash = SurveyToken.hash(session)
        guard let (user, lastSeen) = try await liveSession(hash: hash, now: now) else { return nil }
        try await touch(hash: hash, lastSeen: lastSeen, now: now)
        return user
    }

    private func liveSession(hash: Data, now: Date) async throws -> (AuthenticatedUser, Date?)? {
        let idleSince = now.addingTimeInterval(-sessions.idleTimeout)
        return try await writer.read { db in
            try db.fetchOne(
                """
                SELECT u.*, s.last_seen_at AS session_last_seen FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.id_hash = ? AND s.expires_at > ? AND s.last_seen_at > ? AND u.revoked_at IS NULL
                """, hash, now, idleSince
            ).map { (Self.user($0), $0["session_last_seen"] as Date?) }
        }
    }

    private func touch(hash: Data, lastSeen: Date?, now: Date) async throws {
        if let lastSeen, now.timeIntervalSince(lastSeen) < sessions.touchInterval { return }
        try await writer.write { db in
            try db.execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", now, hash)
        }
    }

    public func endSession(_ session: String) async throws {
        let hash = SurveyToken.hash(session)
        _ = try await writer.write { db in try db.execute("DELETE FROM sessions WHERE id_hash = ?", hash) }
    }

    /// Whether a credential still holds: one read by primary key or unique index, cheap enough for every
    /// open socket to run each second. `used` marks a session used, as a frame from its socket does.
    public func isValid(_ credential: Credential, used: Bool = false, now: Date = Date()) async throws -> Bool {
        switch credential {
        case .apiToken(let hash):
            return try await writer.read { db in
                try db.fetchOne("SELECT 1 FROM users WHERE token_hash = ? AND revoked_at IS NULL", hash) != nil
            }
        case .session(let hash):
            guard let (_, lastSeen) = try await liveSession(hash: hash, now: now) else { return false }
            if used { try await touch(hash: hash, lastSeen: lastSeen, now: now) }
            return true
        }
    }

    static func user(_ row: SQLRow) -> AuthenticatedUser {
        AuthenticatedUser(
            id: row["id"], name: row["name"], email: row["email"] as String? ?? "",
            role: AuthenticatedUser.Role(rawValue: row["role"]) ?? .analyst, assigneeID: row["assignee_id"]
        )
    }

    static func record(_ row: SQLRow) -> UserRecord {
        UserRecord(
            id: row["id"], name: row["name"], email: row["email"], assigneeID: row["assignee_id"],
            role: AuthenticatedUser.Role(rawValue: row["role"]) ?? .analyst, createdAt: row["created_at"], revokedAt: row["revoked_at"]
        )
    }
}
