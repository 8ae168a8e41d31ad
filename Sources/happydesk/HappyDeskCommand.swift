import ArgumentParser
import Foundation
import HappyDesk
import Logging

@main
struct HappyDeskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "happydesk",
        abstract: "Post-closure surveys and happiness reporting for IT service desks.",
        discussion: """
            Closures come in over HTTP, requesters answer a 0–10 survey by link, responses land in SQLite
            (or PostgreSQL, with --database-url, for several instances).
            Every option also reads a HAPPYDESK_* environment variable; a flag wins over the variable.

            Start with:  happydesk serve        (migrates, then serves on http://127.0.0.1:8080)
            """,
        subcommands: [
            Serve.self, Migrate.self, Surveys.self, Users.self, OutboxCommand.self, Dashboard.self, Demo.self, Copy.self, Backup.self, Retention.self,
            Erase.self, Audit.self,
        ]
    )
}

/// Prints a one-line error and exits non-zero, instead of a stack of Swift error descriptions.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("happydesk: error: \(message)\n".utf8))
    exit(1)
}

/// Sets up swift-log once per process: human-readable lines (`text`, the default) or one JSON object per
/// line (`json`, `HAPPYDESK_LOG_FORMAT`), both on standard error.
func bootstrapLogging(level: String, format: LogFormat = .text) -> Logger {
    let parsed = Logger.Level(rawValue: level.lowercased()) ?? .info
    LoggingSystem.bootstrap { label in
        switch format {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        case .json:
            var handler = JSONLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
    }
    var logger = Logger(label: "happydesk")
    logger.logLevel = parsed
    return logger
}
