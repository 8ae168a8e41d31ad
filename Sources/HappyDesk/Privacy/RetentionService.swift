import Foundation
import Logging
import ServiceLifecycle

/// Applies `HAPPYDESK_RETENTION_DAYS` while `happydesk serve` runs: once at start-up, then once a day.
public struct RetentionService: Service {
    public let personalData: PersonalData
    public let days: Int
    public let interval: Duration
    public let logger: Logger

    public init(personalData: PersonalData, days: Int, interval: Duration = .seconds(86_400), logger: Logger) {
        self.personalData = personalData
        self.days = days
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let report = try await personalData.applyRetention(days: days, actor: .system)
                // Counts only: no address or text in the log.
                logger.info(
                    "retention applied",
                    metadata: [
                        "days": "\(days)", "removed": "\(report.removed.lines.map { "\($0.0)=\($0.1)" }.joined(separator: " "))",
                    ])
            } catch {
                logger.error("retention run failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
