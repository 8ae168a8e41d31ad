import Foundation

/// Everything the server needs to know, resolved from flags and `HAPPYDESK_*` variables by the CLI.
public struct Settings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var databasePath = "./data/happydesk.sqlite"
    public var surveysDirectory: URL
    public var migrationsDirectory: URL
    /// Base of every link sent out, e.g. `https://happy.example.com`.
    public var publicURL = "http://localhost:8080"
    /// When set, closures must carry a valid `X-Happydesk-Signature`.
    public var webhookSecret: String?
    /// Base64 key sealing outbox tokens; when nil a key file beside the database is used.
    public var secretKey: String?
    public var secretKeyFile: String?
    /// Folder for `.eml` files when no SMTP server is configured.
    public var outboxDirectory = "./data/outbox"
    public var smtpURL: String?
    public var deliveryWebhookURL: String?
    public var logLevel = "info"
    /// Sending: SMTP account, TLS, retries and concurrency (see docs/delivery.md).
    public var delivery = DeliverySettings()

    public init(surveysDirectory: URL, migrationsDirectory: URL) {
        self.surveysDirectory = surveysDirectory
        self.migrationsDirectory = migrationsDirectory
    }

    public var resolvedSecretKeyFile: String {
        secretKeyFile ?? URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("secret.key").path
    }

    /// The channel a new survey goes out on: a webhook when configured without SMTP, else email, else a `.eml` file.
    public var surveyChannel: String {
        if smtpURL?.isEmpty == false { return "email" }
        if deliveryWebhookURL?.isEmpty == false { return "webhook" }
        return "file"
    }

    public func surveyURL(token: SurveyToken) -> String {
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/s/\(token.value)"
    }
}

/// Finds a data folder shipped with the project (`Surveys/`, `Migrations/`): the working directory first,
/// then beside the executable, then the source checkout this binary was built from.
public enum ResourceLocator {
    public static func find(_ name: String, override: String? = nil) -> URL {
        if let override, !override.isEmpty { return URL(fileURLWithPath: override) }
        let fm = FileManager.default
        var candidates = [URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent(name)]
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(exe.appendingPathComponent("../share/happydesk/\(name)").standardizedFileURL)
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../\(name)")
        candidates.append(checkout.standardizedFileURL)
        return candidates.first { fm.fileExists(atPath: $0.path) } ?? candidates[0]
    }
}
