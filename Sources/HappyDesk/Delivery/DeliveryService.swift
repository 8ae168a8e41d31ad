import Foundation
import Logging
import ServiceLifecycle

/// The background sender started by `happydesk serve`: runs outbox rounds until graceful shutdown
/// (SIGTERM/SIGINT), then lets the sends in flight finish and stops the curl threads.
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
                "channel": "\(channel)", "concurrency": "\(delivery.concurrency)", "max_attempts": "\(delivery.maxAttempts)",
                "outbox": "\(channel == "file" ? dispatcher.settings.outboxDirectory : "-")",
            ]
        )
        defer { dispatcher.shutdown() }
        var lastPolicy = Date.distantPast
        // A round in progress finishes (its sends are short and bounded by timeouts); only the wait between rounds is cut short.
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
        logger.info("delivery service stopped")
    }

    private func gracefulShutdownSleep(seconds: Double) async throws {
        try await cancelWhenGracefulShutdown {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        }
    }
}
