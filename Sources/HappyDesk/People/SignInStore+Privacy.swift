import Foundation

/// Retention and erasure in `signin_links`, whose rows hold an address. Their outbox rows (the sign-in emails) go
/// first, through `Outbox`, so no attempt's error quoting the address outlives its link. `signin_states` holds no
/// personal data and expires in minutes.
extension SignInStore {
    /// Erasure: every link mailed to `email` (case-insensitive), with its outbox rows and their attempts.
    static func erase(_ db: any SQLConnection, email: String) throws -> [String: Int] {
        let ids = try db.column(Int64.self, "SELECT id FROM signin_links WHERE \(db.dialect.equalsIgnoringCase("email"))", email)
        guard !ids.isEmpty else { return [:] }
        var counts = try Outbox.delete(db, signInLinkIDs: ids)
        counts["signin_links"] = try db.execute("DELETE FROM signin_links WHERE id IN (\(sqlPlaceholders(ids.count)))", ids.map(\.sqlValue))
        return counts
    }

    /// Retention: links created before `cutoff` (long expired: a link lasts 15 minutes), with their outbox rows.
    static func deleteLinks(_ db: any SQLConnection, before cutoff: Date, after: Int64, limit: Int) throws -> PrivacyStep {
        let ids = try db.column(Int64.self, "SELECT id FROM signin_links WHERE id > ? AND created_at < ? ORDER BY id LIMIT ?", after, cutoff, limit)
        guard !ids.isEmpty else { return PrivacyStep(lastID: nil) }
        var counts = try Outbox.delete(db, signInLinkIDs: ids)
        counts["signin_links"] = try db.execute("DELETE FROM signin_links WHERE id IN (\(sqlPlaceholders(ids.count)))", ids.map(\.sqlValue))
        return PrivacyStep(counts: counts, lastID: ids.count < limit ? nil : ids.last)
    }
}
