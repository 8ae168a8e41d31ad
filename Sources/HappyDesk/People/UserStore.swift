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
    /// A lead's groups; empty for every other role.
    public var groups: [String] = []
    /// An owner's services; empty for every other role.
    public var services: [String] = []
}

/// The names of a lead's groups or an owner's services, as given on the CLI (`--groups "Service Desk,Network"`).
public enum ScopeNames {
    /// The longest group or service name, as the `user_scopes.name` CHECK allows.
    public static let maxLength = 200
    /// The most names one user may have.
    public static let maxCount = 100

    /// Splits a comma-separated list, trims each name, drops empty ones and collapses duplicates that
    /// differ only in ASCII case (the first spelling stays). A name over 200 characters or with a control
    /// character is a one-line error naming the flag.
    public static func parse(_ raw: String, flag: String) throws -> [String] {
        try validate(raw.split(separator: ",", omittingEmptySubsequences: false).map(String.init), flag: flag)
    }

    public static func validate(_ names: [String], flag: String) throws -> [String] {
        var result: [String] = []
        var seen: Set<String> = []
        for raw in names {
            let name = raw.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
                throw AppError.badRequest("--\(flag): '\(TextLimit.preview(name, 40))' has a control character or line break")
            }
            guard TextLimit.fits(name, max: maxLength) else {
                throw AppError.badRequest("--\(flag): '\(TextLimit.preview(name, 40))' is longer than \(maxLength) characters")
            }
            if seen.insert(Scope.fold(name)).inserted { result.append(name) }
        }
        guard result.count <= maxCount else { throw AppError.badRequest("--\(flag): at most \(maxCount) names, not \(result.count)") }
        return result
    }

    /// The rule between a role and its scope: a lead needs a group, an owner a service, nobody else either.
    static func check(role: AuthenticatedUser.Role, groups: [String], services: [String]) throws {
        switch role {
        case .lead:
            guard !groups.isEmpty else { throw AppError.badRequest("a lead needs at least one group: --groups \"Service Desk,Network\"") }
            guard services.isEmpty else { throw AppError.badRequest("--services is only for an owner; a lead has --groups") }
        case .owner:
            guard !services.isEmpty else { throw AppError.badRequest("an owner needs at least one service: --services \"VPN,Email\"") }
            guard groups.isEmpty else { throw AppError.badRequest("--groups is only for a lead; an owner has --services") }
        default:
            guard groups.isEmpty else { throw AppError.badRequest("--groups is only for a lead, not an \(role.rawValue)") }
            guard services.isEmpty else { throw AppError.badRequest("--services is only for an owner, not an \(role.rawValue)") }
        }
    }
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
    /// A lead needs `groups`, an owner `services` (`ScopeNames`); nobody else may have either.
    /// With `actor`, a `user.add` audit row is written in the same transaction.
    public func add(
        name: String, email: String?, role: AuthenticatedUser.Role, assigneeID: String? = nil, groups: [String] = [], services: [String] = [],
        actor: AuditActor? = nil, now: Date = Date()
    ) async throws -> (UserRecord, String) {
        let name = try Self.validName(name)
        let groups = try ScopeNames.validate(groups, flag: "groups")
        let services = try ScopeNames.validate(services, flag: "services")
        try ScopeNames.check(role: role, groups: groups, services: services)
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
            try Self.replaceScope(db, userID: id, groups: groups, services: services)
            if let actor {
                try AuditLog.record(db, .userAdd, actor: actor, target: "user:\(id)", details: ["role": role.rawValue], at: now)
            }
            return UserRecord(
                id: id, name: name, email: stored, assigneeID: assigneeID, role: role, createdAt: now, revokedAt: nil, groups: groups,
                services: services)
        }
        return (record, token)
    }

    static func validName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, TextLimit.fits(name, max: 200), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw AppError.badRequest("name must be 1 to 200 characters with no line breaks")
        }
        return name
    }

    /// Which user `update` changes: by email (people) or id (any user, integrations included).
    public enum UserKey: Sendable, Equatable {
        case email(String)
        case id(Int64)
    }

    /// Changes a user's name, role, groups or services; nil leaves a field as it is. Changing the role away
    /// from lead or owner drops the groups or services it had; the result must follow `ScopeNames.check`.
    /// Ends the user's browser sessions when the role or scope changed, so pages pick up the new scope on
    /// the next sign-in; open streams re-read the user within `SessionSettings.recheckInterval`.
    /// Returns nil when no user matched. With `actor`, a `user.update` audit row (the new role and which fields
    /// changed, no names) is written in the same transaction.
    public func update(
        _ key: UserKey, name: String? = nil, role: AuthenticatedUser.Role? = nil, groups: [String]? = nil, services: [String]? = nil,
        actor: AuditActor? = nil, now: Date = Date()
    ) async throws -> UserRecord? {
        let name = try name.map(Self.validName)
        let groups = try groups.map { try ScopeNames.validate($0, flag: "groups") }
        let services = try services.map { try ScopeNames.validate($0, flag: "services") }
        if role == .integration { throw AppError.badRequest("a person cannot become an integration: add a new integration user instead") }
        let dialect = writer.dialect
        return try await writer.write { db -> UserRecord? in
            let row: SQLRow?
            switch key {
            case .email(let email): row = try db.fetchOne("SELECT * FROM users WHERE \(dialect.equalsIgnoringCase("email"))", email)
            case .id(let id): row = try db.fetchOne("SELECT * FROM users WHERE id = ?", id)
            }
            guard let row else { return nil }
            var record = try Self.withScope(db, Self.record(row))
            if record.role == .integration, let role, role != .integration {
                throw AppError.badRequest("an integration cannot become a person: add a new user with an email instead")
            }
            let before = record
            if let name { record.name = name }
            if let role { record.role = role }
            record.groups = groups ?? (record.role == .lead ? record.groups : [])
            record.services = services ?? (record.role == .owner ? record.services : [])
            try ScopeNames.check(role: record.role, groups: record.groups, services: record.services)
            try db.execute("UPDATE users SET name = ?, role = ? WHERE id = ?", record.name, record.role.rawValue, record.id)
            try Self.replaceScope(db, userID: record.id, groups: record.groups, services: record.services)
            if before.role != record.role || before.groups != record.groups || before.services != record.services {
                try db.execute("DELETE FROM sessions WHERE user_id = ?", record.id)
            }
            if let actor {
                var changed: [String] = []
                if before.name != record.name { changed.append("name") }
                if before.role != record.role { changed.append("role") }
                if before.groups != record.groups { changed.append("groups") }
                if before.services != record.services { changed.append("services") }
                try AuditLog.record(
                    db, .userUpdate, actor: actor, target: "user:\(record.id)",
                    details: ["role": record.role.rawValue, "changed": changed.joined(separator: ",")], at: now)
            }
            return record
        }
    }

    static func replaceScope(_ db: any SQLConnection, userID: Int64, groups: [String], services: [String]) throws {
        try db.execute("DELETE FROM user_scopes WHERE user_id = ?", userID)
        for (kind, names) in [("group", groups), ("service", services)] {
            for name in names {
                try db.execute("INSERT INTO user_scopes (user_id, kind, name) VALUES (?, ?, ?)", userID, kind, name)
            }
        }
    }

    /// A user's groups and services, each sorted by name.
    static func scope(_ db: any SQLConnection, userID: Int64) throws -> (groups: [String], services: [String]) {
        var groups: [String] = []
        var services: [String] = []
        for row in try db.fetchAll("SELECT kind, name FROM user_scopes WHERE user_id = ? ORDER BY kind, name", userID) {
            if (row[0] as String) == "group" { groups.append(row[1]) } else { services.append(row[1]) }
        }
        return (groups, services)
    }

    static func withScope(_ db: any SQLConnection, _ record: UserRecord) throws -> UserRecord {
        guard record.role == .lead || record.role == .owner else { return record }
        var record = record
        (record.groups, record.services) = try scope(db, userID: record.id)
        return record
    }

    static func withScope(_ db: any SQLConnection, _ user: AuthenticatedUser) throws -> AuthenticatedUser {
        guard user.role == .lead || user.role == .owner else { return user }
        var user = user
        (user.groups, user.services) = try scope(db, userID: user.id)
        return user
    }

    public func list() async throws -> [UserRecord] {
        try await writer.read { db in
            try db.fetchAll("SELECT * FROM users ORDER BY id").map { try Self.withScope(db, Self.record($0)) }
        }
    }

    /// Revokes a user's token and ends their sessions; returns false when no active user matched.
    /// Open sockets notice within `SessionSettings.recheckInterval`, even when this runs in another process.
    public func revoke(email: String, actor: AuditActor? = nil, now: Date = Date()) async throws -> Bool {
        try await revoke(where: writer.dialect.equalsIgnoringCase("email"), email, actor: actor, now: now)
    }

    /// Revokes by id: the way to revoke an integration, which may have no email.
    public func revoke(id: Int64, actor: AuditActor? = nil, now: Date = Date()) async throws -> Bool {
        try await revoke(where: "id = ?", id, actor: actor, now: now)
    }

    /// With `actor`, a `user.revoke` audit row (by user id) is written in the same transaction.
    private func revoke(where condition: String, _ value: some SQLBindable, actor: AuditActor?, now: Date) async throws -> Bool {
        try await writer.write { db in
            let ids = try db.column(
                Int64.self, "UPDATE users SET revoked_at = ? WHERE \(condition) AND revoked_at IS NULL RETURNING id", now, value)
            try db.execute("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE \(condition))", value)
            if let actor {
                for id in ids { try AuditLog.record(db, .userRevoke, actor: actor, target: "user:\(id)", at: now) }
            }
            return !ids.isEmpty
        }
    }

    /// The active user owning an API token, or nil.
    public func user(token: String) async throws -> AuthenticatedUser? {
        guard Self.looksLikeToken(token) else { return nil }
        let hash = SurveyToken.hash(token)
        return try await writer.read { db in
            try db.fetchOne("SELECT * FROM users WHERE token_hash = ? AND revoked_at IS NULL", hash).map { try Self.withScope(db, Self.user($0)) }
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
    public func setRole(id: Int64, role: AuthenticatedUser.Role, actor: AuditActor? = nil) async throws {
        // Through `update`: a lead or owner promoted by a group loses their stale groups or services, their
        // other sessions end, and the change is audited.
        _ = try await update(.id(id), role: role, actor: actor)
    }

    /// The person an address signs in as: its user, or, the first time an address that appears as an assignee
    /// email on closures signs in, a new analyst matched to that assignee id (auto-provisioning). Nil for an
    /// address known nowhere, or a revoked user.
    /// With `actor`, a provisioned user gets its `user.add` audit row.
    public func signInUser(email: String, name: String?, actor: AuditActor? = nil, now: Date = Date()) async throws -> SignInMatch {
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
            let (record, _) = try await add(
                name: display ?? fallback, email: email, role: .analyst, assigneeID: assignee.id, actor: actor, now: now)
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
            ).map { (try Self.withScope(db, Self.user($0)), $0["session_last_seen"] as Date?) }
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
    /// With `holder`, the credential also stops holding once that user's role, groups or services changed
    /// (`users update`), so an open stream never outlives a narrowed scope.
    public func isValid(_ credential: Credential, used: Bool = false, holder: AuthenticatedUser? = nil, now: Date = Date()) async throws -> Bool {
        @Sendable func same(_ current: AuthenticatedUser) -> Bool {
            guard let holder else { return true }
            return current.role == holder.role && current.groups == holder.groups && current.services == holder.services
        }
        switch credential {
        case .apiToken(let hash):
            return try await writer.read { db in
                guard let row = try db.fetchOne("SELECT * FROM users WHERE token_hash = ? AND revoked_at IS NULL", hash) else { return false }
                return same(try Self.withScope(db, Self.user(row)))
            }
        case .session(let hash):
            guard let (current, lastSeen) = try await liveSession(hash: hash, now: now), same(current) else { return false }
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
            role: AuthenticatedUser.Role(rawValue: row["role"]) ?? .analyst, createdAt: row["created_at"], revokedAt: row["revoked_at"],
            groups: [], services: []
        )
    }
}
