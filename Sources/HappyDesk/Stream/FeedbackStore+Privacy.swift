import Foundation

/// Retention and erasure in `messages`, `kudos` and `response_follow_ups`.
extension FeedbackStore {
    /// Deletes the whole conversation of these invitations, the analysts' replies included.
    static func deleteThreads(_ db: any SQLConnection, invitationIDs ids: [Int64]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try db.execute("DELETE FROM messages WHERE invitation_id IN (\(sqlPlaceholders(ids.count)))", ids.map(\.sqlValue))
    }

    /// Deletes the kudos and follow-up state of these invitations' responses (`erase --with-answers`, before the
    /// responses themselves go).
    static func deleteResponseExtras(_ db: any SQLConnection, invitationIDs ids: [Int64]) throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        let responses = "SELECT id FROM responses WHERE invitation_id IN (\(sqlPlaceholders(ids.count)))"
        let kudos = try db.execute("DELETE FROM kudos WHERE response_id IN (\(responses))", ids.map(\.sqlValue))
        let followUps = try db.execute("DELETE FROM response_follow_ups WHERE response_id IN (\(responses))", ids.map(\.sqlValue))
        return ["kudos": kudos, "response_follow_ups": followUps]
    }

    /// Retention: messages written before `cutoff` are deleted (requesters' and analysts' alike).
    static func deleteMessages(_ db: any SQLConnection, before cutoff: Date, after: Int64, limit: Int) throws -> PrivacyStep {
        let ids = try db.column(Int64.self, "SELECT id FROM messages WHERE id > ? AND created_at < ? ORDER BY id LIMIT ?", after, cutoff, limit)
        guard !ids.isEmpty else { return PrivacyStep(lastID: nil) }
        let changed = try db.execute("DELETE FROM messages WHERE id IN (\(sqlPlaceholders(ids.count)))", ids.map(\.sqlValue))
        return PrivacyStep(counts: ["messages": changed], lastID: ids.count < limit ? nil : ids.last)
    }
}
