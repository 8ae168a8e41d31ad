import Curl
import Foundation
import Logging

/// One round of the outbox: apply the time-driven policy, claim due rows, send them concurrently, and
/// record every attempt. `DeliveryService` runs rounds forever; tests and the benchmark call them directly.
public final class OutboxDispatcher: Sendable {
    public let database: any AppStorage
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
    /// Tripped by `stopSending()` at graceful shutdown.
    let stopLatch = StopLatch()
    /// `HAPPYDESK_SMTP_RATE_LIMIT` pacing and the channel pause after a relay's 421/451.
    public let pacer: SMTPPacer
    /// `happydesk_deliveries_total{channel,result}`.
    public let metrics: HappyDeskMetrics
    /// Beaten at every round and every recorded result, for `/readyz`.
    public let heartbeat: DeliveryHeartbeat

    public init(
        database: any AppStorage, batcher: WriteBatcher, catalog: SurveyCatalog, vault: TokenVault, settings: Settings, logger: Logger,
        metrics: HappyDeskMetrics = HappyDeskMetrics(), heartbeat: DeliveryHeartbeat = DeliveryHeartbeat()
    ) throws {
        let delivery = settings.delivery
        do {
            from = try MailAddress.parse(delivery.smtpFrom)
        } catch {
            throw DeliveryConfigurationError("HAPPYDESK_SMTP_FROM: \(error)")
        }
        guard let tls = SMTPConfiguration.TLSMode(rawValue: delivery.smtpTLSMode) else {
            throw DeliveryConfigurationError("HAPPYDESK_SMTP_TLS must be required, opportunistic or off, not '\(delivery.smtpTLSMode)'")
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
        pacer = SMTPPacer(limit: delivery.smtpRateLimit)
        self.metrics = metrics
        self.heartbeat = heartbeat
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
            logger: server.logger, metrics: server.metrics, heartbeat: server.heartbeat
        )
    }

    /// Ends the sending threads once queued sends finish.
    public func shutdown() { pool.shutdown() }

    /// Graceful shutdown: no more claims; a round in progress starts no further sends, gives the sends in
    /// flight `shutdownGrace` seconds, then releases every row it still holds back to `pending`.
    public func stopSending() { stopLatch.trip() }

    deinit { pool.shutdown() }

    /// Rewrites outbox tokens sealed before boxes were bound to their invitation (no `hdv2` prefix) as bound
    /// boxes, so rows queued by an older version are delivered and, from now on, cannot be moved to another
    /// invitation. A box whose token does not hash to its invitation's token (moved already) is left alone
    /// and never delivered. Runs once when the sender starts.
    public func rebindLegacyTokens() async {
        let vault = vault
        do {
            let rebound = try await batcher.write { db -> Int in
                var count = 0
                for row in try Outbox.legacySealedTokens(db) {
                    guard let token = try? vault.openLegacy(row.sealed), token.hash == row.tokenHash else { continue }
                    try Outbox.reseal(db, deliveryID: row.deliveryID, sealed: try vault.seal(token, invitationID: row.invitationID))
                    count += 1
                }
                return count
            }
            if rebound > 0 { logger.info("outbox tokens bound to their invitation", metadata: ["rows": "\(rebound)"]) }
        } catch {
            logger.error("cannot rebind legacy outbox tokens; they stay readable", metadata: ["error": "\(error)"])
        }
    }

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
    /// Returns how many rows were handled (0 when nothing was due, or after `stopSending()`).
    @discardableResult
    public func runOnce(now: Date = Date()) async throws -> Int {
        guard !stopLatch.isTripped else { return 0 }
        heartbeat.beat()
        let delivery = settings.delivery
        // With a configured lease, claim only what the pool can start at once, so the rows of one claim are
        // not left waiting past their lease (when another instance may take them) behind slow sends.
        var limit = delivery.lease == nil ? delivery.batchSize : min(delivery.batchSize, max(1, delivery.concurrency) * 2)
        if let rate = delivery.smtpRateLimit, settings.surveyChannel == .email {
            // Paced: claim about a minute of sends, so claimed rows do not wait out their lease behind the pace.
            limit = min(limit, max(delivery.concurrency, Int(60 / rate.interval)))
        }
        // Long enough for the whole batch to pass through the pool even if every send times out.
        var lease = delivery.lease ?? Double(limit / max(1, delivery.concurrency) + 1) * (delivery.timeout + delivery.connectTimeout) + 30
        if let rate = delivery.smtpRateLimit, settings.surveyChannel == .email {
            // Paced rows wait for their slot while held: the lease covers the last slot and its send (and a
            // relay's pause), or the next round, here or on another instance, would claim and send it again.
            lease = max(lease, Double(limit) * rate.interval + delivery.timeout + delivery.connectTimeout + 30)
        }
        let leaseID = Outbox.newLeaseID()
        let claimLimit = limit
        let claimLease = lease
        let jobs = try await batcher.write { db in try Outbox.claim(db, leaseID: leaseID, now: now, lease: claimLease, limit: claimLimit) }
        guard !jobs.isEmpty else { return 0 }
        let stopped = await send(jobs)
        if stopped || Task.isCancelled {
            // Rows not started, and sends that outlived the grace period, go back to the queue now rather
            // than after the lease: another sender (or the next start) picks them up at once.
            do {
                let released = try release(leaseID: leaseID)
                if released > 0 { logger.notice("delivery stopping: unsent rows released", metadata: ["released": "\(released)"]) }
            } catch {
                logger.error("cannot release delivery claims; they are sent after their lease runs out", metadata: ["error": "\(error)"])
            }
        }
        return jobs.count
    }

    /// A blocking write on purpose: it must still run when the task is cancelled (the async write would not start).
    private func release(leaseID: String) throws -> Int {
        try database.writeSync { db in try Outbox.release(db, leaseID: leaseID) }
    }

    /// What a round waits for next: a send's outcome, the stop signal, or the end of the shutdown grace.
    private enum RoundEvent: Sendable {
        case finished(Finished)
        case stopping
        case graceOver
    }

    /// Sends the claimed rows, at most `concurrency` in flight, recording results in groups; returns true
    /// when the round was cut short by `stopSending()` (some rows may be unsent and still claimed).
    private func send(_ jobs: [DeliveryJob]) async -> Bool {
        let concurrency = max(1, settings.delivery.concurrency)
        let grace = settings.delivery.shutdownGrace
        let latch = stopLatch
        return await withTaskGroup(of: RoundEvent.self) { group in
            group.addTask {
                await latch.wait()
                return .stopping
            }
            var next = jobs.startIndex
            var inFlight = 0
            var stopping = false
            var done: [Finished] = []
            while true {
                while !stopping && inFlight < concurrency && next < jobs.endIndex {
                    let job = jobs[next]
                    next += 1
                    inFlight += 1
                    group.addTask {
                        let started = Date()
                        let result = await self.deliver(job, now: started)
                        // A send cut off at the end of the shutdown grace has no result worth recording.
                        return .finished(Finished(job: job, result: result, startedAt: started, finishedAt: Date(), interrupted: Task.isCancelled))
                    }
                }
                if inFlight == 0 && (stopping || next == jobs.endIndex) { break }
                guard let event = await group.next() else { break }
                switch event {
                case .finished(let finished):
                    inFlight -= 1
                    guard !finished.interrupted else { continue }
                    done.append(finished)
                    // Results are recorded in groups, one transaction (and one fsync) per group instead of per
                    // message; a crash before a group is recorded only means those rows are sent again after their lease.
                    // Paced sends are few per second: record each at once, so `outbox list` and the metrics follow.
                    if done.count >= (settings.delivery.smtpRateLimit == nil ? 32 : 1) {
                        await record(done)
                        done.removeAll(keepingCapacity: true)
                    }
                case .stopping:
                    guard !stopping, next < jobs.endIndex || inFlight > 0 else { continue }
                    stopping = true
                    group.addTask {
                        try? await Task.sleep(for: .milliseconds(Int(grace * 1000)))
                        return .graceOver
                    }
                case .graceOver:
                    // Cancelling a send returns it at once (CurlWorkerPool.run); its transfer ends on its own thread.
                    group.cancelAll()
                }
            }
            if !done.isEmpty { await record(done) }
            group.cancelAll()
            return stopping
        }
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
        /// Cut off by shutdown before it finished: not recorded, the row is released instead.
        var interrupted = false
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
            heartbeat.beat()
            for (item, outcome) in zip(finished, outcomes) {
                let job = item.job
                metrics.delivery(channel: job.channel, outcome: outcome)
                // Metadata is built only when the level is enabled (it is an autoclosure): this runs per message.
                func metadata() -> Logger.Metadata {
                    [
                        "delivery": "\(job.deliveryID)", "invitation": "\(job.invitationID)", "purpose": "\(job.purpose)",
                        "channel": "\(job.channel)", "outcome": "\(outcome)", "detail": "\(item.result.detail)",
                    ]
                }
                switch outcome {
                case "sent", "cancelled": logger.debug("delivery attempt", metadata: metadata())
                case Outbox.staleOutcome: logger.notice("delivery result dropped: the row's lease passed to another sender", metadata: metadata())
                case "retry": logger.notice("delivery failed, will retry", metadata: metadata())
                case Outbox.deferredOutcome: logger.notice("delivery deferred by the receiver, not counted as an attempt", metadata: metadata())
                default: logger.warning("delivery dead-lettered", metadata: metadata())
                }
            }
        } catch {
            // The leases run out and the rows are sent again: at-least-once, recognisable by Message-ID.
            logger.error("cannot record delivery attempts", metadata: ["count": "\(finished.count)", "error": "\(error)"])
        }
    }
}
