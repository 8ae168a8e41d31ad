import Foundation

/// What an erasure or a retention run removed (or, for a dry run, would remove), table by table.
public struct PersonalDataReport: Sendable, Equatable {
    /// Table → rows deleted or cleared; `outbox_files` counts `.eml` files.
    public var removed: PrivacyCounts
    public var dryRun: Bool
    /// What the storage did to leave no copy behind (VACUUM and checkpoint on SQLite); nil for a dry run.
    public var storageNote: String?

    /// `{"dry_run":false,"removed":{"closures":2,…},"storage":"…"}` plus `extra` fields.
    public func json(_ extra: [String: any Sendable] = [:]) -> String {
        var object: [String: Any] = ["dry_run": dryRun, "removed": removed.tables]
        if let storageNote { object["storage"] = storageNote }
        for (key, value) in extra { object[key] = value }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The tables a personal-data pass covers, in the order they are processed. Retention walks each table by id in
/// bounded batches; a table another step adds joins by adding one line here (and a `scrub`/`delete` method in its
/// store).
struct RetentionTable: Sendable {
    let name: String
    let step: @Sendable (any SQLConnection, Date, Int64, Int) throws -> PrivacyStep

    static let all: [RetentionTable] = [
        RetentionTable(name: "messages") { db, cutoff, after, limit in
            try FeedbackStore.deleteMessages(db, before: cutoff, after: after, limit: limit)
        },
        RetentionTable(name: "responses") { db, cutoff, after, limit in
            try ResponseStore.scrubComments(db, before: cutoff, after: after, limit: limit)
        },
        RetentionTable(name: "events") { db, cutoff, after, limit in try EventLog.scrub(db, before: cutoff, after: after, limit: limit) },
        RetentionTable(name: "deliveries") { db, cutoff, after, limit in try Outbox.delete(db, before: cutoff, after: after, limit: limit) },
        RetentionTable(name: "signin_links") { db, cutoff, after, limit in
            try SignInStore.deleteLinks(db, before: cutoff, after: after, limit: limit)
        },
        RetentionTable(name: "invitations") { db, cutoff, after, limit in
            try InvitationStore.scrubInvitations(db, before: cutoff, after: after, limit: limit)
        },
        RetentionTable(name: "closures") { db, cutoff, after, limit in
            try InvitationStore.scrubClosures(db, before: cutoff, after: after, limit: limit)
        },
    ]
}

/// The privacy seam: retention (`HAPPYDESK_RETENTION_DAYS`, daily in `serve` and `happydesk retention run`) and
/// erasure of one requester (`happydesk erase`, `DELETE /api/v1/requesters/{email}`). It holds no SQL: each
/// table's store removes its own rows (`…+Privacy.swift` beside each store); this orchestrates them in bounded
/// transactions through `WriteBatcher` (so writers wait at most one batch), with SQLite's `secure_delete` on, and
/// records the run in the audit trail.
///
/// Kept: scores, factors, lost time, dimensions and dates, so the dashboard's figures do not move (unless
/// `--with-answers`, which deletes the answers and folds the roll-ups).
public struct PersonalData: Sendable {
    public let storage: any AppStorage
    public let batcher: WriteBatcher
    /// Where `FileMailer` writes `.eml` files.
    public let outboxDirectory: URL
    /// Keys the address hash in the audit trail; without it the hash is left out.
    public let vault: TokenVault?
    /// Rows (or invitations) per transaction.
    public var batchSize = 200

    public init(storage: any AppStorage, batcher: WriteBatcher, outboxDirectory: URL, vault: TokenVault?) {
        self.storage = storage
        self.batcher = batcher
        self.outboxDirectory = outboxDirectory
        self.vault = vault
    }

    public init(server: HappyDeskServer) {
        self.init(
            storage: server.database, batcher: server.batcher, outboxDirectory: URL(fileURLWithPath: server.settings.outboxDirectory),
            vault: server.vault)
    }

    /// A dry run's transaction is rolled back with its result.
    private struct RolledBack: Error, @unchecked Sendable { let value: Any }

    /// Runs `body` in a bounded transaction with `secure_delete` on: through the batcher, or for a dry run in a
    /// transaction of its own that is rolled back, so it changes nothing.
    private func batch<T: Sendable>(dryRun: Bool, _ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let secured: @Sendable (any SQLConnection) throws -> T = { db in
            try db.secureDelete(true)
            defer { try? db.secureDelete(false) }
            return try body(db)
        }
        guard dryRun else { return try await batcher.write(secured) }
        do {
            _ = try await storage.write { db -> Int in throw RolledBack(value: try secured(db)) }
        } catch let rolledBack as RolledBack {
            guard let value = rolledBack.value as? T else { preconditionFailure("dry run result type mismatch") }
            return value
        }
        preconditionFailure("a dry run committed")
    }

    // MARK: Erasure

    /// The address as intake stores it (`EmailAddress`), or a 400 naming the problem.
    public static func normalizedAddress(_ text: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            return try EmailAddress.deliverable(trimmed)
        } catch {
            throw AppError.badRequest("'\(TextLimit.preview(trimmed, 80))' is not an email address: \(error)", code: "invalid_email")
        }
    }

    /// Removes one requester's personal data everywhere it is kept: their closures' and invitations' address,
    /// name and locale, their responses' comments, their whole conversations (analysts' replies included), the
    /// personal fields of their events, their outbox rows and attempts, their `.eml` files, their user and sessions.
    /// With `withAnswers` their responses, factors, kudos, events, invitations and closures are deleted outright
    /// and the roll-ups folded. Then (SQLite) the file is vacuumed and the WAL truncated, so no byte of it is left.
    public func erase(requester: String, withAnswers: Bool = false, dryRun: Bool = false, actor: AuditActor, now: Date = Date()) async throws
        -> PersonalDataReport
    {
        let email = try Self.normalizedAddress(requester)
        var counts = PrivacyCounts()
        var cursor: Int64 = 0
        var invitations: Set<Int64> = []
        let size = batchSize
        while true {
            let (ids, changed) = try await batch(dryRun: dryRun) { [cursor] db -> ([Int64], [String: Int]) in
                let ids = try InvitationStore.requesterInvitations(db, email: email, after: cursor, limit: size)
                guard !ids.isEmpty else { return ([], [:]) }
                var changed = PrivacyCounts()
                changed.add("messages", try FeedbackStore.deleteThreads(db, invitationIDs: ids))
                changed.add(try Outbox.delete(db, invitationIDs: ids))
                if withAnswers {
                    changed.add(try FeedbackStore.deleteResponseExtras(db, invitationIDs: ids))
                    changed.add("events", try EventLog.delete(db, invitationIDs: ids))
                    changed.add(try ResponseStore.delete(db, invitationIDs: ids))
                    changed.add(try InvitationStore.delete(db, invitationIDs: ids))
                } else {
                    changed.add("events", try EventLog.scrub(db, invitationIDs: ids))
                    changed.add("responses", try ResponseStore.eraseComments(db, invitationIDs: ids))
                    changed.add(try InvitationStore.eraseRequester(db, invitationIDs: ids))
                }
                return (ids, changed.tables)
            }
            counts.add(changed)
            invitations.formUnion(ids)
            guard ids.count == size, let last = ids.last else { break }
            cursor = last
        }
        let hash = vault?.addressHash(email)
        let summary = counts
        let last = try await batch(dryRun: dryRun) { db -> [String: Int] in
            var changed = PrivacyCounts()
            changed.add("closures", try InvitationStore.eraseRequesterClosures(db, email: email))
            changed.add(try SignInStore.erase(db, email: email))
            changed.add(try UserStore.erase(db, email: email))
            if !dryRun {
                var all = summary
                all.add(changed.tables)
                var details: [String: any Sendable] = ["with_answers": withAnswers, "removed": all.tables]
                if let hash { details["address_hmac"] = hash }
                try AuditLog.record(db, .erasure, actor: actor, target: hash.map { "requester:\($0.prefix(16))" }, details: details, at: now)
            }
            return changed.tables
        }
        counts.add(last)
        counts.add("outbox_files", FileMailer.removeFiles(in: outboxDirectory, invitationIDs: invitations, mentioning: email, dryRun: dryRun))
        var report = PersonalDataReport(removed: counts, dryRun: dryRun)
        if !dryRun {
            if withAnswers { _ = try Rollups.foldAll(storage) }
            report.storageNote = try await storage.reclaimFreedSpace()
        }
        return report
    }

    // MARK: Retention

    /// Removes personal data recorded more than `days` days before `now`, table by table in bounded batches:
    /// messages (whole conversations), comments, the personal fields of events, outbox rows with their sealed
    /// links, bodies and attempts, requesters' names and addresses, and `.eml` files.
    public func applyRetention(days: Int, dryRun: Bool = false, actor: AuditActor, now: Date = Date()) async throws -> PersonalDataReport {
        precondition(days > 0, "retention days must be positive")
        let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
        var counts = PrivacyCounts()
        let size = batchSize
        for table in RetentionTable.all {
            var cursor: Int64 = 0
            counts.add(table.name, 0)
            while true {
                let step = try await batch(dryRun: dryRun) { [cursor] db in try table.step(db, cutoff, cursor, size) }
                counts.add(step.counts)
                guard let last = step.lastID else { break }
                cursor = last
            }
        }
        counts.add("outbox_files", FileMailer.removeFiles(in: outboxDirectory, writtenBefore: cutoff, dryRun: dryRun))
        if !dryRun {
            let removed = counts.tables
            try await batcher.write { db in
                _ = try AuditLog.record(
                    db, .retentionRun, actor: actor, target: "retention:\(days)d",
                    details: ["days": days, "cutoff": ISO8601.format(cutoff), "removed": removed], at: now)
            }
        }
        return PersonalDataReport(removed: counts, dryRun: dryRun)
    }
}
