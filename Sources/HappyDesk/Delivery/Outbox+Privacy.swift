import Foundation

/// Retention and erasure in `deliveries` and `delivery_attempts`. Outbox rows carry the sealed link, the bodies of
/// replies and alerts, and errors that may quote the address, so they are deleted whole, with their attempts.
/// (A reminder is queued only beside a sent survey row, so an invitation whose rows are gone gets none.)
extension Outbox {
    /// Deletes every outbox row of these invitations, with its attempts.
    static func delete(_ db: any SQLConnection, invitationIDs ids: [Int64]) throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        let list = sqlPlaceholders(ids.count)
        let attempts = try db.execute(
            "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE invitation_id IN (\(list)))", ids.map(\.sqlValue))
        let deliveries = try db.execute("DELETE FROM deliveries WHERE invitation_id IN (\(list))", ids.map(\.sqlValue))
        return ["deliveries": deliveries, "delivery_attempts": attempts]
    }

    /// Deletes the sign-in emails of these `signin_links` rows, with their attempts.
    static func delete(_ db: any SQLConnection, signInLinkIDs ids: [Int64]) throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        let list = sqlPlaceholders(ids.count)
        let attempts = try db.execute(
            "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE signin_link_id IN (\(list)))", ids.map(\.sqlValue))
        let deliveries = try db.execute("DELETE FROM deliveries WHERE signin_link_id IN (\(list))", ids.map(\.sqlValue))
        return ["deliveries": deliveries, "delivery_attempts": attempts]
    }

    /// Retention: outbox rows created before `cutoff` are deleted, with their attempts.
    static func delete(_ db: any SQLConnection, before cutoff: Date, after: Int64, limit: Int) throws -> PrivacyStep {
        let ids = try db.column(Int64.self, "SELECT id FROM deliveries WHERE id > ? AND created_at < ? ORDER BY id LIMIT ?", after, cutoff, limit)
        guard !ids.isEmpty else { return PrivacyStep(lastID: nil) }
        let list = sqlPlaceholders(ids.count)
        let attempts = try db.execute("DELETE FROM delivery_attempts WHERE delivery_id IN (\(list))", ids.map(\.sqlValue))
        let deliveries = try db.execute("DELETE FROM deliveries WHERE id IN (\(list))", ids.map(\.sqlValue))
        return PrivacyStep(counts: ["deliveries": deliveries, "delivery_attempts": attempts], lastID: ids.count < limit ? nil : ids.last)
    }
}

extension FileMailer {
    /// Retention: `.eml` files last written before `cutoff`. Returns how many were (or, with `dryRun`, would be) removed.
    static func removeFiles(in directory: URL, writtenBefore cutoff: Date, dryRun: Bool) -> Int {
        var removed = 0
        for url in emlFiles(in: directory) {
            guard let modified = (try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate, modified < cutoff
            else { continue }
            if dryRun || (try? FileManager.default.removeItem(at: url)) != nil { removed += 1 }
        }
        return removed
    }

    /// Erasure: the `.eml` files of these invitations (named `invitation-<id>.…` after their Message-ID), and any
    /// other file that mentions `address` (compared ignoring ASCII case).
    static func removeFiles(in directory: URL, invitationIDs: Set<Int64>, mentioning address: String, dryRun: Bool) -> Int {
        let needle = Data(address.lowercased().utf8)
        var removed = 0
        for url in emlFiles(in: directory) {
            let name = url.lastPathComponent
            var matches = false
            if name.hasPrefix("invitation-") {
                let digits = name.dropFirst("invitation-".count).prefix(while: \.isNumber)
                let rest = name.dropFirst("invitation-".count + digits.count)
                if let id = Int64(digits), rest.hasPrefix("."), invitationIDs.contains(id) { matches = true }
            }
            if !matches, let data = try? Data(contentsOf: url) {
                let lowered = Data(data.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 })
                matches = !needle.isEmpty && lowered.range(of: needle) != nil
            }
            guard matches else { continue }
            if dryRun || (try? FileManager.default.removeItem(at: url)) != nil { removed += 1 }
        }
        return removed
    }

    static func emlFiles(in directory: URL) -> [URL] {
        let urls = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        return urls.filter { $0.pathExtension == "eml" }
    }
}
