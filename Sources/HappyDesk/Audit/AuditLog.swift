import Crypto
import Foundation

/// What the audit trail records: a closed list, so `audit list` and alerts can rely on the names.
public enum AuditAction: String, Sendable, CaseIterable, Codable, SQLBindable, SQLDecodable {
    case signinSuccess = "signin.success"
    case signinFailure = "signin.failure"
    case signout
    case reply
    case kudos
    case acknowledge
    case dashboardView = "dashboard.view"
    case export
    case userAdd = "user.add"
    case userUpdate = "user.update"
    case userRevoke = "user.revoke"
    case outboxRetry = "outbox.retry"
    case outboxPurge = "outbox.purge"
    case retentionRun = "retention.run"
    case erasure
    case auditView = "audit.view"
}

/// Who did it and from where: a signed-in user (by id and role, never by name or address), the CLI, the server
/// itself (`system`: the daily retention job), or nobody yet (`anonymous`: a failed sign-in).
public struct AuditActor: Sendable, Equatable {
    public enum Kind: String, Sendable, SQLBindable, SQLDecodable { case user, cli, system, anonymous }

    public var kind: Kind
    public var userID: Int64?
    public var role: String?
    /// The client address (`ClientAddress`), or "cli" / "system".
    public var remote: String

    public init(kind: Kind, userID: Int64? = nil, role: String? = nil, remote: String) {
        self.kind = kind
        self.userID = userID
        self.role = role
        self.remote = String(remote.prefix(64))
    }

    public static func user(_ user: AuthenticatedUser, remote: String) -> AuditActor {
        AuditActor(kind: .user, userID: user.id, role: user.role.rawValue, remote: remote)
    }

    public static func anonymous(remote: String) -> AuditActor { AuditActor(kind: .anonymous, remote: remote) }

    /// A command run on the server's machine (`happydesk users add`, `outbox purge`, `erase`, …).
    public static let cli = AuditActor(kind: .cli, remote: "cli")

    /// The server on its own (the daily retention job).
    public static let system = AuditActor(kind: .system, remote: "system")
}

/// One row of the audit trail.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var at: Date
    public var actor_kind: String
    public var actor_user_id: Int64?
    public var actor_role: String?
    public var action: String
    public var target: String?
    public var remote: String
    /// A JSON object, without personal data in clear.
    public var details: String
}

/// Which rows `audit list` and `GET /api/v1/audit` return.
public struct AuditQuery: Sendable {
    public var since: Date?
    public var actorUserID: Int64?
    /// Only rows with an id above this (the cursor of the previous page).
    public var after: Int64 = 0
    public var limit: Int = 100

    public init(since: Date? = nil, actorUserID: Int64? = nil, after: Int64 = 0, limit: Int = 100) {
        self.since = since
        self.actorUserID = actorUserID
        self.after = after
        self.limit = limit
    }
}

/// The one owner of `audit` (Migrations/0013_audit.sql): append-only, refused UPDATE and DELETE by triggers.
/// Record inside the transaction of the change being audited (replies, kudos, acknowledgements, erasures) or in
/// a write of its own (`AuditTrail.record` on request paths, through `WriteBatcher`).
public enum AuditLog {
    /// Appends one row. `details` must hold no personal data in clear (ids, counts, keyed hashes).
    @discardableResult
    public static func record(
        _ db: any SQLConnection, _ action: AuditAction, actor: AuditActor, target: String? = nil, details: [String: any Sendable] = [:],
        at now: Date = Date()
    ) throws -> Int64 {
        try db.insert(
            "INSERT INTO audit (at, actor_kind, actor_user_id, actor_role, action, target, remote, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            now, actor.kind, actor.userID, actor.role, action, target.map { String($0.prefix(200)) }, actor.remote, json(details))
    }

    /// Oldest first, from `query.after` on.
    public static func list(_ db: any SQLConnection, _ query: AuditQuery) throws -> [AuditEntry] {
        try db.fetchAll(
            """
            SELECT id, at, actor_kind, actor_user_id, actor_role, action, target, remote, details FROM audit
            WHERE id > ? AND (CAST(? AS TEXT) IS NULL OR at >= ?) AND (CAST(? AS BIGINT) IS NULL OR actor_user_id = ?)
            ORDER BY id LIMIT ?
            """, query.after, query.since, query.since, query.actorUserID, query.actorUserID, max(1, query.limit)
        ).map { row in
            AuditEntry(
                id: row[0], at: row[1], actor_kind: row[2], actor_user_id: row[3], actor_role: row[4], action: row[5], target: row[6],
                remote: row[7], details: row[8])
        }
    }

    static func json(_ details: [String: any Sendable]) -> String {
        guard !details.isEmpty, JSONSerialization.isValidJSONObject(details),
            let data = try? JSONSerialization.data(withJSONObject: details, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension TokenVault {
    /// HMAC-SHA256 of a normalised email address under a key derived from the server's secret key (HKDF, its own
    /// label): the audit trail can show that an erasure concerned a given address, when asked with that address,
    /// without keeping the address. Hex, 64 characters.
    public func addressHash(_ normalizedAddress: String) -> String {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key, info: Data("happydesk audit address hash v1".utf8), outputByteCount: 32)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(normalizedAddress.lowercased().utf8), using: derived)
        return Data(mac).map { String(format: "%02x", $0) }.joined()
    }
}

extension AuditLog {
    /// `list` on its own read (the CLI).
    public static func list(_ storage: any AppStorage, _ query: AuditQuery) async throws -> [AuditEntry] {
        try await storage.read { db in try list(db, query) }
    }
}
