import Foundation

/// Retention and erasure of the requester's data in `closures` and `invitations` (see `PersonalData`). A removed
/// address becomes '' (the columns are NOT NULL), a removed name or locale NULL; the dimensions the dashboard
/// counts by (kind, group, service, assignee, channel, country, source, reassignments) and every date stay.
extension InvitationStore {
    /// The invitations of a requester, by id from `after` on. `email` is normalised by `EmailAddress` and
    /// compared case-insensitively (as intake stored it).
    static func requesterInvitations(_ db: any SQLConnection, email: String, after: Int64, limit: Int) throws -> [Int64] {
        try db.column(
            Int64.self, "SELECT id FROM invitations WHERE id > ? AND \(db.dialect.equalsIgnoringCase("requester_email")) ORDER BY id LIMIT ?",
            after, email, limit)
    }

    /// Removes the requester's address, name and locale from these invitations and their closures.
    static func eraseRequester(_ db: any SQLConnection, invitationIDs ids: [Int64]) throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        let list = sqlPlaceholders(ids.count)
        let closures = try db.execute(
            """
            UPDATE closures SET requester_email = '', requester_name = NULL, requester_locale = NULL
            WHERE id IN (SELECT closure_id FROM invitations WHERE id IN (\(list)))
            """, ids.map(\.sqlValue))
        let invitations = try db.execute(
            "UPDATE invitations SET requester_email = '', requester_name = NULL WHERE id IN (\(list))", ids.map(\.sqlValue))
        return ["closures": closures, "invitations": invitations]
    }

    /// Closures of the address that have no invitation left to find them by (none today; belt and braces).
    static func eraseRequesterClosures(_ db: any SQLConnection, email: String) throws -> Int {
        try db.execute(
            "UPDATE closures SET requester_email = '', requester_name = NULL, requester_locale = NULL WHERE \(db.dialect.equalsIgnoringCase("requester_email"))",
            email)
    }

    /// Deletes these invitations and their closures (`erase --with-answers`; their responses, events, messages
    /// and outbox rows are deleted first by their own stores). The sent-invitations roll-up follows by trigger.
    static func delete(_ db: any SQLConnection, invitationIDs ids: [Int64]) throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        let list = sqlPlaceholders(ids.count)
        let closureIDs = try db.column(Int64.self, "SELECT closure_id FROM invitations WHERE id IN (\(list))", ids.map(\.sqlValue))
        let invitations = try db.execute("DELETE FROM invitations WHERE id IN (\(list))", ids.map(\.sqlValue))
        let closures =
            closureIDs.isEmpty
            ? 0 : try db.execute("DELETE FROM closures WHERE id IN (\(sqlPlaceholders(closureIDs.count)))", closureIDs.map(\.sqlValue))
        return ["closures": closures, "invitations": invitations]
    }

    /// Retention: closures received before `cutoff` lose the requester's address, name and locale.
    static func scrubClosures(_ db: any SQLConnection, before cutoff: Date, after: Int64, limit: Int) throws -> PrivacyStep {
        let ids = try db.column(
            Int64.self,
            """
            SELECT id FROM closures WHERE id > ? AND received_at < ?
              AND (requester_email <> '' OR requester_name IS NOT NULL OR requester_locale IS NOT NULL) ORDER BY id LIMIT ?
            """, after, cutoff, limit)
        guard !ids.isEmpty else { return PrivacyStep(lastID: nil) }
        let changed = try db.execute(
            "UPDATE closures SET requester_email = '', requester_name = NULL, requester_locale = NULL WHERE id IN (\(sqlPlaceholders(ids.count)))",
            ids.map(\.sqlValue))
        return PrivacyStep(counts: ["closures": changed], lastID: ids.count < limit ? nil : ids.last)
    }

    /// Retention: invitations created before `cutoff` lose the requester's address and name.
    static func scrubInvitations(_ db: any SQLConnection, before cutoff: Date, after: Int64, limit: Int) throws -> PrivacyStep {
        let ids = try db.column(
            Int64.self,
            """
            SELECT id FROM invitations WHERE id > ? AND created_at < ? AND (requester_email <> '' OR requester_name IS NOT NULL)
            ORDER BY id LIMIT ?
            """, after, cutoff, limit)
        guard !ids.isEmpty else { return PrivacyStep(lastID: nil) }
        let changed = try db.execute(
            "UPDATE invitations SET requester_email = '', requester_name = NULL WHERE id IN (\(sqlPlaceholders(ids.count)))", ids.map(\.sqlValue))
        return PrivacyStep(counts: ["invitations": changed], lastID: ids.count < limit ? nil : ids.last)
    }
}
