import Logging
import ServiceLifecycle

/// Fans the stream out across instances that share one PostgreSQL database. Every `events` insert also sends
/// `NOTIFY happydesk_events` in its transaction (see `EventLog.append`), delivered at commit; each instance
/// listens and, on a notification, reads the committed events it has not released yet (`StreamHub.pullCommitted`).
/// Notifications only say "look": a missed one costs nothing but latency, since the next one, the one-second
/// sweep or the reconnect catches up from the events table.
public struct PostgresEventFanOut: Service {
    public let storage: PostgresStorage
    public let hub: StreamHub
    public let logger: Logger
    public static let channel = "happydesk_events"

    public init(storage: PostgresStorage, hub: StreamHub, logger: Logger) {
        self.storage = storage
        self.hub = hub
        self.logger = logger
    }

    public func run() async throws {
        // Coalesces a burst of notifications into one read: at most one pull runs and one waits.
        let (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await storage.listen(channel: Self.channel, reconnected: { wake.yield() }, handle: { _ in wake.yield() })
            }
            group.addTask {
                // A safety net for a notification lost with its connection.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    wake.yield()
                }
            }
            group.addTask {
                for await _ in wakeups { await hub.pullCommitted() }
            }
            await withGracefulShutdownHandler {
                await group.next()
            } onGracefulShutdown: {
                wake.finish()
            }
            group.cancelAll()
        }
    }
}
