import Foundation
import Logging
import ServiceLifecycle

/// Folds changed responses into the dashboard roll-ups every `interval` seconds while `happydesk serve`
/// runs, so the folding cost is paid in bulk and never inside a requester's submission.
public struct RollupService: Service {
    public let writer: any AppStorage
    public let interval: Duration
    public let logger: Logger

    public init(writer: any AppStorage, interval: Duration = .seconds(1), logger: Logger) {
        self.writer = writer
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // At most 500 responses per transaction (a few milliseconds), so submissions waiting for the
                // single writer are never held up for long.
                while try await writer.write({ db in try Rollups.fold(db, limit: 500) }) > 0 {}
            } catch {
                logger.error("roll-up fold failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        // A last fold on the way out leaves no backlog behind.
        _ = try? Rollups.foldAll(writer)
    }
}
