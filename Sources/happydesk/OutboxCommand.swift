import ArgumentParser
import Foundation
import HappyDesk
import ServiceLifecycle

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Show and handle queued, sent and dead-lettered deliveries.",
        subcommands: [List.self, Retry.self, Purge.self, Send.self]
    )

    static func openDatabase(_ storage: StorageOptions) -> OutboxAdmin {
        let settings = storage.settings()
        do {
            let storage = try StorageOpener.open(settings: settings, poolSize: 2)
            try storage.checkMigrated(directory: settings.migrationsDirectory)
            return OutboxAdmin(database: storage)
        } catch {
            fail("\(error)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List deliveries newest first, with status, attempts, due time, last error and policy notes (skipped closures included)."
        )

        @OptionGroup var storage: StorageOptions

        @Option(help: "Only rows with this status: pending, sending, sent, dead or skipped.")
        var status: String?

        @Option(help: "At most this many rows.")
        var limit = 100

        @Option(help: ArgumentHelp("Show every attempt of one delivery instead.", valueName: "id"))
        var attempts: Int64?

        @Flag(help: "One JSON object per line.")
        var json = false

        @Option(
            help: ArgumentHelp(
                "The server's SMTP rate limit, to show when the next send is allowed. [env: HAPPYDESK_SMTP_RATE_LIMIT]", valueName: "rate"))
        var smtpRateLimit: String?

        func run() async throws {
            var rateLimit: SMTPRateLimit?
            if let text = smtpRateLimit ?? env("HAPPYDESK_SMTP_RATE_LIMIT") {
                do { rateLimit = try SMTPRateLimit.parse(text) } catch { fail("\(error)") }
            }
            if let status, !["pending", "sending", "sent", "dead", "skipped"].contains(status) {
                fail("--status must be pending, sending, sent, dead or skipped, not '\(status)'")
            }
            let admin = OutboxCommand.openDatabase(storage)
            if let attempts {
                let rows = try await admin.attempts(deliveryID: attempts)
                print("ATTEMPT  FINISHED                  OUTCOME  STATUS  CURL  DETAIL")
                for row in rows {
                    print(
                        pad("\(row.attempt)", 8), pad(ISO8601.format(row.finishedAt), 25), pad(row.outcome, 8),
                        pad(row.statusCode.map(String.init) ?? "-", 7), pad(row.curlCode.map(String.init) ?? "-", 5), row.detail ?? ""
                    )
                }
                return
            }
            let entries = try await admin.list(status: status, limit: limit)
            if json {
                for entry in entries { print(jsonLine(entry)) }
                return
            }
            let next = try await admin.nextSend(rateLimit: rateLimit)
            print("next send allowed: \(ISO8601.format(next.at)) (\(next.reason))")
            print("ID      INVITATION  TICKET        PURPOSE    CHANNEL  STATUS   INVITE    ATTEMPTS  DUE                   NOTE")
            for e in entries {
                print(
                    pad(e.deliveryID.map(String.init) ?? "-", 7), pad(e.invitationID.map(String.init) ?? "-", 11), pad(e.ticketID ?? "(sign-in)", 13),
                    pad(e.purpose.rawValue, 10),
                    pad(e.channel?.rawValue ?? "-", 8), pad(e.status, 8), pad(e.invitationStatus?.rawValue ?? "-", 9), pad("\(e.attempts)", 9),
                    pad(e.dueAt.map(ISO8601.format) ?? "-", 21), e.note
                )
            }
        }

        func jsonLine(_ e: OutboxEntry) -> String {
            let object: [String: Any] = [
                "id": e.deliveryID.map { $0 as Any } ?? NSNull(), "invitation_id": e.invitationID.map { $0 as Any } ?? NSNull(),
                "ticket_id": e.ticketID ?? NSNull(),
                "purpose": e.purpose.rawValue,
                "channel": e.channel?.rawValue ?? NSNull(), "status": e.status, "invitation_status": e.invitationStatus?.rawValue ?? NSNull(),
                "attempts": e.attempts,
                "due_at": e.dueAt.map(ISO8601.format) ?? NSNull(), "sent_at": e.sentAt.map(ISO8601.format) ?? NSNull(),
                "last_error": e.lastError ?? NSNull(), "note": e.note,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue dead-lettered (or waiting) deliveries again, now, with a fresh attempt budget; no ids means every dead one."
        )

        @OptionGroup var storage: StorageOptions

        @Argument(help: "Delivery ids from `outbox list`; omit them to requeue every dead-lettered delivery.")
        var ids: [Int64] = []

        @Flag(help: "Every dead-lettered delivery (the default without ids).")
        var allDead = false

        func run() async throws {
            let admin = OutboxCommand.openDatabase(storage)
            let requeued = try await admin.retry(ids: allDead || ids.isEmpty ? nil : ids, actor: .cli)
            print("requeued \(requeued) deliver\(requeued == 1 ? "y" : "ies")")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete sent deliveries (and with --dead, dead ones) older than N days, with their attempts.",
            discussion: """
                Keeps what later messages still need: the survey row (its sealed link) of every open or answered
                invitation, which an analyst's reply copies, and the reminder row of an open invitation, so no second
                reminder is queued. Old attempts of the rows kept are deleted.
                """
        )

        @OptionGroup var storage: StorageOptions

        @Option(help: "Age in days.")
        var olderThanDays = 30

        @Flag(help: "Also delete dead-lettered deliveries.")
        var dead = false

        func run() async throws {
            guard olderThanDays >= 0 else { fail("--older-than-days must be 0 or more") }
            let admin = OutboxCommand.openDatabase(storage)
            let cutoff = Date().addingTimeInterval(-Double(olderThanDays) * 86_400)
            let removed = try await admin.purge(olderThan: cutoff, includeDead: dead, actor: .cli)
            print("purged \(removed) deliver\(removed == 1 ? "y" : "ies")")
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send everything due now and exit (what `serve` does in the background); prints messages per second."
        )

        @OptionGroup var storage: StorageOptions
        @OptionGroup var delivery: DeliveryOptions

        @Option(help: ArgumentHelp("Public base URL used in survey links. [env: HAPPYDESK_PUBLIC_URL]", valueName: "url"))
        var publicURL: String?

        func run() async throws {
            var settings = storage.settings()
            delivery.apply(to: &settings)
            if let url = publicURL ?? env("HAPPYDESK_PUBLIC_URL") { settings.publicURL = url }
            settings.secretKey = env("HAPPYDESK_SECRET_KEY")
            settings.secretKeyFile = env("HAPPYDESK_SECRET_KEY_FILE")
            let logger = bootstrapLogging(level: settings.logLevel, format: storage.resolvedLogFormat())
            let dispatcher: OutboxDispatcher
            do {
                let server = try HappyDeskServer.open(settings: settings, logger: logger)
                dispatcher = try OutboxDispatcher(server: server)
            } catch {
                fail("\(error)")
            }
            defer { dispatcher.shutdown() }
            let start = Date()
            // SIGTERM/SIGINT stop it gracefully: unfinished rows are released for the next run, not left leased.
            let sender = OutboxDrainService(dispatcher: dispatcher)
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [.init(service: sender, successTerminationBehavior: .gracefullyShutdownGroup)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            let handled = sender.handled
            let seconds = Date().timeIntervalSince(start)
            let rate = seconds > 0 ? Double(handled) / seconds : 0
            print("handled \(handled) deliveries in \(String(format: "%.3f", seconds)) s (\(String(format: "%.1f", rate))/s)")
        }
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
