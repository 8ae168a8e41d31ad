import Foundation

/// Retention and erasure in `responses` and `response_factors`. Removing a comment touches none of the columns the
/// roll-up triggers watch (score, lost_minutes, first_answered_at, invitation_id), so the dashboard's figures do
/// not move; deleting a response (`erase --with-answers`) marks it for the next fold, which subtracts it.
extension ResponseStore {
    /// Removes the comments of these invitations' responses; the scores, factors and lost time stay.
    static func eraseComments(_ db: any SQLConnection, invitationIDs ids: [Int64]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try db.execute(
            "UPDATE responses SET comment = NULL WHERE comment IS NOT NULL AND invitation_id IN (\(sqlPlaceholders(ids.count)))", ids.map(\.sqlValue))
    }

    /// Deletes these invitations' responses and their factors (`erase --with-answers`).
    static func delete(_ db: any SQLConnection, invitationIDs ids: [Int64]) throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        let list = sqlPlaceholders(ids.count)
        let factors = try db.execute(
            "DELETE FROM response_factors WHERE response_id IN (SELECT id FROM responses WHERE invitation_id IN (\(list)))", ids.map(\.sqlValue))
        let responses = try db.execute("DELETE FROM responses WHERE invitation_id IN (\(list))", ids.map(\.sqlValue))
        return ["responses": responses, "response_factors": factors]
    }

    /// Retention: comments last changed before `cutoff` are removed.
    static func scrubComments(_ db: any SQLConnection, before cutoff: Date, after: Int64, limit: Int) throws -> PrivacyStep {
        let ids = try db.column(
            Int64.self, "SELECT id FROM responses WHERE id > ? AND last_changed_at < ? AND comment IS NOT NULL ORDER BY id LIMIT ?", after, cutoff,
            limit)
        guard !ids.isEmpty else { return PrivacyStep(lastID: nil) }
        let changed = try db.execute("UPDATE responses SET comment = NULL WHERE id IN (\(sqlPlaceholders(ids.count)))", ids.map(\.sqlValue))
        return PrivacyStep(counts: ["responses": changed], lastID: ids.count < limit ? nil : ids.last)
    }
}
