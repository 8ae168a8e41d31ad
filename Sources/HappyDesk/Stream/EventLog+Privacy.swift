import Foundation

/// Retention and erasure in `events`. The log is the stream's resume cursor, so rows stay (ids keep their
/// order) and only the personal fields leave their bodies: the requester's name and address, the comment, and a
/// message's text (and a requester's name on it). Such a body carries `"personal_data_removed": true`.
extension EventLog {
    static let removedMarker = "personal_data_removed"

    /// The body without its personal fields; nil when there was nothing to remove and the marker is there.
    static func scrubbed(payload: String, type: String) -> String? {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else {
            return #"{"personal_data_removed":true}"#
        }
        if object[removedMarker] as? Bool == true { return nil }
        for field in ["requester_name", "requester_email", "requester", "comment", "survey_url"] { object.removeValue(forKey: field) }
        if type == StreamEventType.messageCreated {
            object.removeValue(forKey: "text")
            if object["author"] as? String == "requester" { object.removeValue(forKey: "author_name") }
        }
        object[removedMarker] = true
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return #"{"personal_data_removed":true}"#
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func rewrite(_ db: any SQLConnection, rows: [SQLRow]) throws -> Int {
        var changed = 0
        for row in rows {
            let id: Int64 = row[0]
            guard let body = scrubbed(payload: row[2], type: row[1]) else { continue }
            changed += try db.execute("UPDATE events SET payload = ? WHERE id = ?", body, id)
        }
        return changed
    }

    /// Removes the personal fields from the events of these invitations.
    static func scrub(_ db: any SQLConnection, invitationIDs ids: [Int64]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let rows = try db.fetchAll(
            "SELECT id, type, payload FROM events WHERE invitation_id IN (\(sqlPlaceholders(ids.count))) ORDER BY id", ids.map(\.sqlValue))
        return try rewrite(db, rows: rows)
    }

    /// Deletes the events of these invitations (`erase --with-answers`).
    static func delete(_ db: any SQLConnection, invitationIDs ids: [Int64]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try db.execute("DELETE FROM events WHERE invitation_id IN (\(sqlPlaceholders(ids.count)))", ids.map(\.sqlValue))
    }

    /// Retention: events recorded before `cutoff` lose their personal fields.
    static func scrub(_ db: any SQLConnection, before cutoff: Date, after: Int64, limit: Int) throws -> PrivacyStep {
        let rows = try db.fetchAll(
            "SELECT id, type, payload FROM events WHERE id > ? AND created_at < ? AND payload NOT LIKE ? ORDER BY id LIMIT ?", after, cutoff,
            "%\"\(removedMarker)\":true%", limit)
        guard let last = rows.last else { return PrivacyStep(lastID: nil) }
        let changed = try rewrite(db, rows: rows)
        return PrivacyStep(counts: ["events": changed], lastID: rows.count < limit ? nil : last[0])
    }
}
