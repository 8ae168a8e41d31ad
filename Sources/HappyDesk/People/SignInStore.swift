import Foundation

/// The one owner of `signin_states` (OpenID Connect sign-ins under way) and `signin_links` (emailed links).
/// Both hold only hashes of what the browser carries, and each row is used at most once: a take deletes or
/// marks it in the same statement that reads it, so two instances racing on PostgreSQL cannot both win.
public enum SignInStore {
    /// How long a started OpenID Connect sign-in may take.
    public static let stateLifetime: TimeInterval = 600
    /// How long an emailed link is good for.
    public static let linkLifetime: TimeInterval = 15 * 60

    /// What an OpenID Connect sign-in under way remembers: the nonce's hash, the PKCE verifier, where to land.
    public struct PendingState: Sendable, Equatable {
        public var nonceHash: Data
        public var codeVerifier: String
        public var nextPath: String?
    }

    static func saveState(
        _ db: any SQLConnection, stateHash: Data, nonceHash: Data, verifier: String, next: String?, now: Date
    ) throws {
        try db.execute("DELETE FROM signin_states WHERE expires_at < ?", now)
        try db.execute(
            "INSERT INTO signin_states (state_hash, nonce_hash, code_verifier, next_path, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            stateHash, nonceHash, verifier, next, now, now.addingTimeInterval(stateLifetime))
    }

    /// Deletes the state and returns it when it was there and unexpired: single use, whatever happens next.
    static func takeState(_ db: any SQLConnection, stateHash: Data, now: Date) throws -> PendingState? {
        guard
            let row = try db.fetchOne(
                "SELECT nonce_hash, code_verifier, next_path, expires_at FROM signin_states WHERE state_hash = ?", stateHash)
        else { return nil }
        // The DELETE decides: on PostgreSQL two instances may both read the row, only one deletes it.
        guard try db.execute("DELETE FROM signin_states WHERE state_hash = ?", stateHash) == 1 else { return nil }
        guard (row[3] as Date) > now else { return nil }
        return PendingState(nonceHash: row[0], codeVerifier: row[1], nextPath: row[2])
    }

    /// Sign-in links asked for this address since `since`: part of the mail-bomb guard.
    static func recentLinks(_ db: any SQLConnection, email: String, since: Date) throws -> Int {
        try db.scalar(
            Int.self, "SELECT count(*) FROM signin_links WHERE \(db.dialect.equalsIgnoringCase("email")) AND created_at >= ?", email, since) ?? 0
    }

    static func createLink(_ db: any SQLConnection, tokenHash: Data, email: String, next: String?, now: Date) throws -> Int64 {
        try db.execute("DELETE FROM signin_links WHERE expires_at < ?", now.addingTimeInterval(-86400))
        return try db.insert(
            "INSERT INTO signin_links (token_hash, email, next_path, created_at, expires_at) VALUES (?, ?, ?, ?, ?)", tokenHash,
            email.lowercased(), next, now, now.addingTimeInterval(linkLifetime))
    }

    /// Why a link does not sign anyone in.
    public enum LinkRefusal: String, Sendable, Error {
        case unknown, used, expired
    }

    /// What a link shows before it is used: nothing but whether it would work.
    static func peekLink(_ db: any SQLConnection, tokenHash: Data, now: Date) throws -> LinkRefusal? {
        guard let row = try db.fetchOne("SELECT expires_at, used_at FROM signin_links WHERE token_hash = ?", tokenHash) else { return .unknown }
        if (row[1] as Date?) != nil { return .used }
        if (row[0] as Date) <= now { return .expired }
        return nil
    }

    /// Marks the link used and returns its address and landing path; a used, expired or unknown link is refused.
    static func useLink(_ db: any SQLConnection, tokenHash: Data, now: Date) throws -> Result<(email: String, next: String?), LinkRefusal> {
        if let refusal = try peekLink(db, tokenHash: tokenHash, now: now) { return .failure(refusal) }
        guard try db.execute("UPDATE signin_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", now, tokenHash) == 1,
            let row = try db.fetchOne("SELECT email, next_path FROM signin_links WHERE token_hash = ?", tokenHash)
        else { return .failure(.used) }
        return .success((row[0], row[1]))
    }

    /// The address a sign-in link row mails to: the outbox's recipient for a `signin` delivery.
    static func linkEmail(_ db: any SQLConnection, id: Int64) throws -> String? {
        try db.scalar(String.self, "SELECT email FROM signin_links WHERE id = ?", id)
    }
}
