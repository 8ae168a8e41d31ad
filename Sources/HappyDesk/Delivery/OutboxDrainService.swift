import Foundation
import ServiceLifecycle
import Synchronization

/// `happydesk outbox send` as a service: sends everything due now, then returns. Run under a service
/// group with SIGTERM/SIGINT as graceful shutdown signals, a stop behaves as in `serve`: no further
/// claims, sends in flight get the shutdown grace, and unfinished rows are released back to `pending`.
public final class OutboxDrainService: Service, Sendable {
    public let dispatcher: OutboxDispatcher
    private let count = Mutex(0)

    public init(dispatcher: OutboxDispatcher) { self.dispatcher = dispatcher }

    /// Rows handled by `run`.
    public var handled: Int { count.withLock { $0 } }

    public func run() async throws {
        let dispatcher = dispatcher
        try await withTaskCancellationOrGracefulShutdownHandler {
            await dispatcher.rebindLegacyTokens()
            try await dispatcher.applyPolicy()
            let total = try await dispatcher.drain()
            count.withLock { $0 = total }
        } onCancelOrGracefulShutdown: {
            dispatcher.stopSending()
        }
    }
}
