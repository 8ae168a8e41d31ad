import Foundation

/// The one owner of `responses` and `response_factors`: answering writes them; the stream and the dashboard
/// read them through their own read models.
public enum ResponseStore {
    /// The columns `response(from:at:)` reads, for a query that joins `responses r`.
    static let columns = "r.id, r.score, r.lost_bucket, r.lost_minutes, r.comment, r.revision, r.first_answered_at, r.last_changed_at"

    /// The response in `row` from `offset` on (selected with `columns`), with its factors; nil when not answered.
    static func response(_ db: any SQLConnection, from row: SQLRow, at offset: Int) throws -> StoredResponse? {
        guard let id: Int64 = row[offset] else { return nil }
        return StoredResponse(
            id: id, score: row[offset + 1], factors: try factorIDs(db, responseID: id), lostBucket: row[offset + 2],
            lostMinutes: row[offset + 3], comment: row[offset + 4], revision: row[offset + 5], firstAnsweredAt: row[offset + 6],
            lastChangedAt: row[offset + 7])
    }

    static func factorIDs(_ db: any SQLConnection, responseID: Int64) throws -> [String] {
        try db.column(String.self, "SELECT factor_id FROM response_factors WHERE response_id = ? ORDER BY factor_id", responseID)
    }

    /// A first answer; returns the new response id.
    static func insert(_ db: any SQLConnection, invitationID: Int64, answer: ValidAnswer, now: Date) throws -> Int64 {
        try insert(
            db, invitationID: invitationID, score: answer.score, lostBucket: answer.lostTime?.id, lostMinutes: answer.lostTime?.minutes,
            comment: answer.comment, factorIDs: answer.factors.map(\.id), at: now)
    }

    /// A first answer from its parts (the demo writes history this way).
    static func insert(
        _ db: any SQLConnection, invitationID: Int64, score: Int, lostBucket: String?, lostMinutes: Int?, comment: String?, factorIDs: [String],
        at now: Date
    ) throws -> Int64 {
        let id = try db.insert(
            """
            INSERT INTO responses (invitation_id, score, lost_bucket, lost_minutes, comment, revision, first_answered_at, last_changed_at)
            VALUES (?, ?, ?, ?, ?, 1, ?, ?)
            """, invitationID, score, lostBucket, lostMinutes, comment, now, now)
        try insertFactors(db, responseID: id, factorIDs)
        return id
    }

    /// An amended answer: one revision more; the factors are replaced only when they changed.
    static func update(_ db: any SQLConnection, responseID: Int64, answer: ValidAnswer, factorsChanged: Bool, now: Date) throws {
        try db.executeDeferred(
            """
            UPDATE responses SET score = ?, lost_bucket = ?, lost_minutes = ?, comment = ?, revision = revision + 1, last_changed_at = ?
            WHERE id = ?
            """, answer.score, answer.lostTime?.id, answer.lostTime?.minutes, answer.comment, now, responseID)
        if factorsChanged {
            try db.executeDeferred("DELETE FROM response_factors WHERE response_id = ?", responseID)
            try insertFactors(db, responseID: responseID, answer.factors.map(\.id))
        }
    }

    static func insertFactors(_ db: any SQLConnection, responseID: Int64, _ factorIDs: [String]) throws {
        for factor in factorIDs {
            try db.executeDeferred("INSERT INTO response_factors (response_id, factor_id) VALUES (?, ?)", responseID, factor)
        }
    }
}
