import Foundation

/// Everything the server needs to know, resolved from flags and `HAPPYDESK_*` variables by the CLI.
public struct Settings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var databasePath = "./data/happydesk.sqlite"
    /// `postgres://user:password@host:5432/name`: PostgreSQL instead of the SQLite file (several instances).
    public var databaseURL: String?
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
    /// Alert webhooks for negative responses, by assignment group; the key `*` is the default.
    public var alertWebhooks: [String: String] = [:]
    /// Called with the ticket id when a requester says the issue is not solved.
    public var reopenWebhookURL: String?
    /// Events a stream socket may have waiting before it is disconnected as too slow.
    public var streamBufferLimit = 1024
    /// Browser sessions: idle and absolute lifetimes, and how often open sockets re-check them.
    public var sessions = SessionSettings()
    /// OpenID Connect sign-in (`HAPPYDESK_OIDC_*`); nil when not configured.
    public var oidc: OIDCSettings?
    /// Rate limits, the write queue's bound and the HTTP idle timeout (Support/LimitSettings.swift).
    public var limits = LimitSettings()
    /// `HAPPYDESK_RETENTION_DAYS`: personal data recorded more than this many days ago is removed (daily, and by
    /// `happydesk retention run`); nil keeps everything.
    public var retentionDays: Int?

    public init(surveysDirectory: URL, migrationsDirectory: URL) {
        self.surveysDirectory = surveysDirectory
        self.migrationsDirectory = migrationsDirectory
    }

    /// Whether a requester's address may have a non-ASCII local part: surveys do not go by email, or the SMTP
    /// relay offers SMTPUTF8 (found out at start-up, `SMTPCapabilities`).
    public var acceptsUTF8LocalPart: Bool { surveyChannel != .email || delivery.smtpUTF8 }

    /// What the database is, for messages: the file path, or PostgreSQL's host and database (never the password).
    public var databaseDisplayName: String {
        guard let url = databaseURL else { return databasePath }
        return (try? PostgresLocation(url: url).displayName) ?? "the PostgreSQL database"
    }

    public var resolvedSecretKeyFile: String {
        secretKeyFile ?? URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("secret.key").path
    }

    /// The channel a new survey goes out on: a webhook when configured without SMTP, else email, else a `.eml` file.
    public var surveyChannel: DeliveryChannel {
        if smtpURL?.isEmpty == false { return .email }
        if deliveryWebhookURL?.isEmpty == false { return .webhook }
        return .file
    }

    /// The alert webhook for a group: its own, else the default (`*`), else none.
    public func alertWebhook(group: String?) -> String? {
        if let group, let url = alertWebhooks[group] { return url }
        return alertWebhooks["*"]
    }

    /// Parses `HAPPYDESK_ALERT_WEBHOOKS`: `group=url,…`; a bare URL (or `*=url`) is the default.
    public static func parseAlertWebhooks(_ text: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in text.split(separator: ",") {
            let entry = item.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            var group = "*"
            var url = entry
            if entry.hasPrefix("http://") || entry.hasPrefix("https://") {
                url = entry
            } else if let eq = entry.firstIndex(of: "=") {
                group = entry[..<eq].trimmingCharacters(in: .whitespaces)
                url = entry[entry.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            } else {
                throw StartupError("alert webhook '\(entry)' must be group=https://… or a URL")
            }
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil, !group.isEmpty else {
                throw StartupError("alert webhook for '\(group)' must be an http(s) URL, not '\(url)'")
            }
            result[group] = url
        }
        return result
    }

    /// Parses `HAPPYDESK_RETENTION_DAYS`: unset or empty keeps everything; otherwise a whole number of days ≥ 1.
    public static func parseRetentionDays(_ text: String?) throws -> Int? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let days = Int(text), (1...36_500).contains(days) else {
            throw StartupError("HAPPYDESK_RETENTION_DAYS must be a whole number of days from 1 to 36500 (or unset to keep everything), not '\(text)'")
        }
        return days
    }

    /// The analyst page, linked from alerts.
    public var analystPageURL: String? {
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        return base.isEmpty ? nil : "\(base)/analyst"
    }

    /// Cookies get `Secure` when the service is reached over https.
    public var secureCookies: Bool { publicURL.lowercased().hasPrefix("https://") }

    /// An emailed sign-in link: `/signin/link/{token}`.
    public func signInLinkURL(token: SurveyToken) -> String {
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/signin/link/\(token.value)"
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
