import ArgumentParser
import Foundation
import HappyDesk

/// `happydesk audit list`: who did what, when and from where.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit trail (sign-ins, replies, kudos, acknowledgements, views, exports, user and outbox changes, retention, erasures).",
        subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List audit rows, oldest first.",
            discussion: """
                Examples:
                  happydesk audit list --since 7d
                  happydesk audit list --since 2026-11-01 --actor manager@example.com --format json
                """
        )

        @OptionGroup var storage: StorageOptions

        @Option(
            help: ArgumentHelp(
                "Only rows from this date (2026-11-01), date-time (2026-11-01T08:00:00Z) or duration ago (90m, 24h, 7d).", valueName: "when"))
        var since: String?

        @Option(help: ArgumentHelp("Only rows of this user, by id or email.", valueName: "id|email"))
        var actor: String?

        @Option(help: "text or json (one object per line).")
        var format: String = "text"

        @Option(help: "At most this many rows, oldest first (add --since for the recent ones).")
        var limit: Int = 1000

        func run() async throws {
            guard ["text", "json"].contains(format.lowercased()) else { fail("--format must be text or json, not '\(format)'") }
            guard limit >= 1 else { fail("--limit must be at least 1") }
            var query = AuditQuery(limit: limit)
            if let since {
                do { query.since = try AuditQuery.parseSince(since) } catch { fail("--since: \(error)") }
            }
            let database = OutboxCommand.openDatabase(storage).database
            if let actor {
                if let id = Int64(actor), id > 0 {
                    query.actorUserID = id
                } else {
                    guard let id = try await UserStore(writer: database).id(email: actor) else { fail("--actor: no user has the email \(actor)") }
                    query.actorUserID = id
                }
            }
            let entries = try await AuditLog.list(database, query)
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if format.lowercased() == "json" {
                for entry in entries { print(String(decoding: (try? encoder.encode(entry)) ?? Data("{}".utf8), as: UTF8.self)) }
                return
            }
            if entries.isEmpty { print("no audit rows match") }
            for e in entries {
                let who = e.actor_user_id.map { "user \($0) (\(e.actor_role ?? "?"))" } ?? e.actor_kind
                print(
                    pad("\(e.id)", 7), pad(ISO8601.format(e.at), 21), pad(e.action, 16), pad(who, 22), pad(e.remote, 16), e.target ?? "-", e.details)
            }
        }
    }
}
