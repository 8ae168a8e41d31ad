import Curl
import Foundation
import GRDB
import Logging

/// One round of the outbox: apply the time-driven policy, claim due rows, send them concurrently, and
/// record every attempt. `DeliveryService` runs rounds forever; tests and the benchmark call them directly.
public final class OutboxDispatcher: Sendable {
    public let database: any DatabaseWriter
    public let batcher: WriteBatcher
    public let catalog: SurveyCatalog
    public let vault: TokenVault
    public let settings: Settings
    public let logger: Logger
    public let pool: CurlWorkerPool
    /// nil when no SMTP URL is configured: `email` rows then fail with a clear message.
    let smtp: SMTPMailer?
    let files: FileMailer
    let webhooks: WebhookSender
    let from: MailAddress
    let backoff: Backoff

    public init(database: any DatabaseWriter, batcher: WriteBatcher, catalog: SurveyCatalog, vault: TokenVault, settings: Settings, logger: Logger)
        throws
    {
        let delivery = settings.delivery
        do {
            from = try MailAddress.parse(delivery.smtpFrom)
        } catch {
            throw DeliveryConfigurationError("HAPPYDESK_SMTP_FROM: \(error)")
        }
        guard let tls = SMTPConfiguration.TLSMode(rawValue: delivery.smtpTLS) else {
            throw DeliveryConfigurationError("HAPPYDESK_SMTP_TLS must be required, opportunistic or off, not '\(delivery.smtpTLS)'")
        }
        guard delivery.maxAttempts >= 1, delivery.concurrency >= 1 else {
            throw DeliveryConfigurationError("delivery max attempts and concurrency must be at least 1")
        }
        pool = CurlWorkerPool(size: delivery.concurrency, name: "happydesk-send")
        if let url = settings.smtpURL, !url.isEmpty {
            guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                throw DeliveryConfigurationError("HAPPYDESK_SMTP_URL must start with smtp:// or smtps://, not '\(url)'")
            }
            smtp = SMTPMailer(
                pool: pool,
                configuration: SMTPConfiguration(
                    url: url, tls: tls, username: delivery.smtpUser, password: delivery.smtpPassword, caFile: delivery.smtpCAFile,
                    connectTimeout: delivery.connectTimeout, timeout: delivery.timeout
                )
            )
        } else {
            smtp = nil
        }
        files = FileMailer(directory: URL(fileURLWithPath: settings.outboxDirectory), logger: logger)
        webhooks = WebhookSender(
            pool: pool, secret: delivery.webhookSecret ?? settings.webhookSecret, connectTimeout: delivery.connectTimeout,
            timeout: delivery.timeout, caFile: delivery.smtpCAFile
        )
        backoff = Backoff(base: delivery.backoffBase, max: delivery.backoffMax)
        self.database = database
        self.batcher = batcher
        self.catalog = catalog
        self.vault = vault
        self.settings = settings
        self.logger = logger
    }

    public convenience init(server: HappyDeskServer) throws {
        try self.init(
            database: server.database, batcher: server.batcher, catalog: server.catalog, vault: server.vault, settings: server.settings,
            logger: server.logger
        )
    }

    /// Ends the sending threads once queued sends finish.
    public func shutdown() { pool.shutdown() }

    deinit { pool.shutdown() }

    /// Expires invitations and queues due reminders; returns (expired, reminders queued).
    @discardableResult
    public func applyPolicy(now: Date = Date()) async throws -> (expired: Int, reminders: Int) {
        let catalog = catalog
        let result = try await batcher.write { db in
            (try Outbox.expire(db, now: now), try Outbox.scheduleReminders(db, catalog: catalog, now: now))
        }
        if result.0 > 0 || result.1 > 0 {
            logger.info("survey policy applied", metadata: ["expired": "\(result.0)", "reminders": "\(result.1)"])
        }
        return (result.0, result.1)
    }

    /// Claims up to one batch of due rows and sends them all, `concurrency` at a time.
    /// Returns how many rows were handled (0 when nothing was due).
    @discardableResult
    public func runOnce(now: Date = Date()) async throws -> Int {
        let delivery = settings.delivery
        let limit = delivery.batchSize
        // Long enough for the whole batch to pass through the pool even if every send times out.
        let lease = Double(limit / max(1, delivery.concurrency) + 1) * (delivery.timeout + delivery.connectTimeout) + 30
        let jobs = try await batcher.write { db in try Outbox.claim(db, now: now, lease: lease, limit: limit) }
        guard !jobs.isEmpty else { return 0 }
        // Results are recorded in groups, one transaction (and one fsync) per group instead of per message;
        // a crash before a group is recorded only means those rows are sent again after their lease.
        await withTaskGroup(of: Finished.self) { group in
            for job in jobs {
                group.addTask {
                    let started = Date()
                    let result = await self.deliver(job, now: started)
                    return Finished(job: job, result: result, startedAt: started, finishedAt: Date())
                }
            }
            var done: [Finished] = []
            for await finished in group {
                done.append(finished)
                if done.count >= 32 {
                    await record(done)
                    done.removeAll(keepingCapacity: true)
                }
            }
            if !done.isEmpty { await record(done) }
        }
        return jobs.count
    }

    /// Runs rounds until nothing is due; for tests, the benchmark and `outbox send`.
    @discardableResult
    public func drain(now: @Sendable () -> Date = { Date() }) async throws -> Int {
        var total = 0
        while true {
            let handled = try await runOnce(now: now())
            if handled == 0 { return total }
            total += handled
        }
    }

    /// One send's outcome, waiting to be written.
    struct Finished: Sendable {
        var job: DeliveryJob
        var result: AttemptResult
        var startedAt: Date
        var finishedAt: Date
    }

    func record(_ finished: [Finished]) async {
        let maxAttempts = settings.delivery.maxAttempts
        let backoff = backoff
        do {
            let outcomes = try await batcher.write { db in
                try finished.map { item in
                    try Outbox.record(
                        db, job: item.job, result: item.result, startedAt: item.startedAt, now: item.finishedAt, maxAttempts: maxAttempts,
                        backoff: backoff
                    )
                }
            }
            for (item, outcome) in zip(finished, outcomes) {
                let job = item.job
                // Metadata is built only when the level is enabled (it is an autoclosure): this runs per message.
                func metadata() -> Logger.Metadata {
                    [
                        "delivery": "\(job.deliveryID)", "invitation": "\(job.invitationID)", "purpose": "\(job.purpose)",
                        "channel": "\(job.channel)", "outcome": "\(outcome)", "detail": "\(item.result.detail)",
                    ]
                }
                switch outcome {
                case "sent", "cancelled": logger.debug("delivery attempt", metadata: metadata())
                case "retry": logger.notice("delivery failed, will retry", metadata: metadata())
                default: logger.warning("delivery dead-lettered", metadata: metadata())
                }
            }
        } catch {
            // The leases run out and the rows are sent again: at-least-once, recognisable by Message-ID.
            logger.error("cannot record delivery attempts", metadata: ["count": "\(finished.count)", "error": "\(error)"])
        }
    }
}
