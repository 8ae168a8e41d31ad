import Foundation

/// Erasure in `users` and `sessions`: a person erased on request loses their account and sessions. Their audit
/// rows keep only the user id; messages and kudos they wrote keep their text, with `author_user_id` set NULL by
/// the foreign key.
extension UserStore {
    static func erase(_ db: any SQLConnection, email: String) throws -> [String: Int] {
        let condition = db.dialect.equalsIgnoringCase("email")
        let sessions = try db.execute("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE \(condition))", email)
        let users = try db.execute("DELETE FROM users WHERE \(condition)", email)
        return ["users": users, "sessions": sessions]
    }

    /// The id of the user with this email (case-insensitive), for `audit list --actor`.
    public func id(email: String) async throws -> Int64? {
        try await writer.read { db in
            try db.scalar(Int64.self, "SELECT id FROM users WHERE \(db.dialect.equalsIgnoringCase("email"))", email)
        }
    }
}
