import Foundation
import Logging
import ServiceLifecycle

/// The background sender started by `happydesk serve`: runs outbox rounds until graceful shutdown
/// (SIGTERM/SIGINT). Then it claims nothing more, gives the sends in flight `shutdownGrace` seconds
/// (`HAPPYDESK_DELIVERY_SHUTDOWN_GRACE`, default 10), releases every row it still holds back to `pending`
/// (no waiting for the lease), and stops the curl threads.
public struct DeliveryService: Service {
    public let dispatcher: OutboxDispatcher
    public let logger: Logger

    public init(dispatcher: OutboxDispatcher, logger: Logger) {
        self.dispatcher = dispatcher
        self.logger = logger
    }

    public func run() async throws {
        let delivery = dispatcher.settings.delivery
        let channel = dispatcher.settings.surveyChannel
        logger.info(
            "delivery service started",
            metadata: [
                "channel": "\(channel.rawValue)", "concurrency": "\(delivery.concurrency)", "max_attempts": "\(delivery.maxAttempts)",
                "outbox": "\(channel == .file ? dispatcher.settings.outboxDirectory : "-")",
            ]
        )
        defer { dispatcher.shutdown() }
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await rounds()
        } onCancelOrGracefulShutdown: {
            dispatcher.stopSending()
        }
        logger.info("delivery service stopped")
    }

    private func rounds() async throws {
        let delivery = dispatcher.settings.delivery
        await dispatcher.rebindLegacyTokens()
        var lastPolicy = Date.distantPast
        // A round in progress is cut short by `stopSending()`; the wait between rounds ends at once too.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if Date().timeIntervalSince(lastPolicy) >= delivery.policyInterval {
                    try await dispatcher.applyPolicy()
                    lastPolicy = Date()
                }
                if try await dispatcher.runOnce() > 0 { continue }
            } catch {
                logger.error("delivery round failed", metadata: ["error": "\(error)"])
            }
            try? await gracefulShutdownSleep(seconds: delivery.pollInterval)
        }
    }

    private func gracefulShutdownSleep(seconds: Double) async throws {
        try await cancelWhenGracefulShutdown {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        }
    }
}
