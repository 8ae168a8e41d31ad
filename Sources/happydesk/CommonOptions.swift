import ArgumentParser
import Foundation
import HappyDesk

/// Reads a `HAPPYDESK_*` variable, treating an empty value as unset.
func env(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}

/// Options shared by every subcommand that touches the database or the surveys.
struct StorageOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("SQLite database file. [env: HAPPYDESK_DATABASE] (default: ./data/happydesk.sqlite)", valueName: "path"))
    var database: String?

    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL instead of the SQLite file: postgres://user:password@host:5432/name (add ?sslmode=require for TLS). [env: HAPPYDESK_DATABASE_URL]",
            valueName: "url"))
    var databaseURL: String?

    @Option(name: .long, help: ArgumentHelp("Folder of survey YAML files. [env: HAPPYDESK_SURVEYS] (default: ./Surveys)", valueName: "dir"))
    var surveys: String?

    @Option(
        name: .long, help: ArgumentHelp("Folder of numbered SQL migrations. [env: HAPPYDESK_MIGRATIONS] (default: ./Migrations)", valueName: "dir"))
    var migrations: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error. [env: HAPPYDESK_LOG_LEVEL] (default: info)", valueName: "level"))
    var logLevel: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Log lines as text (for people) or json (one object per line: time, level, message, metadata, request_id). [env: HAPPYDESK_LOG_FORMAT] (default: text)",
            valueName: "format"))
    var logFormat: String?

    /// The log format asked for; a bad value ends the command with a one-line error.
    func resolvedLogFormat() -> LogFormat {
        guard let text = logFormat ?? env("HAPPYDESK_LOG_FORMAT") else { return .text }
        guard let format = LogFormat(rawValue: text.lowercased()) else { fail("HAPPYDESK_LOG_FORMAT must be text or json, not '\(text)'") }
        return format
    }

    func settings() -> Settings {
        var settings = Settings(
            surveysDirectory: ResourceLocator.find("Surveys", override: surveys ?? env("HAPPYDESK_SURVEYS")),
            migrationsDirectory: ResourceLocator.find("Migrations", override: migrations ?? env("HAPPYDESK_MIGRATIONS"))
        )
        if let path = database ?? env("HAPPYDESK_DATABASE") { settings.databasePath = path }
        settings.databaseURL = databaseURL ?? env("HAPPYDESK_DATABASE_URL")
        if let level = logLevel ?? env("HAPPYDESK_LOG_LEVEL") { settings.logLevel = level }
        return settings
    }
}
