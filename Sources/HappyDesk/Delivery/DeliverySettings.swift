import Foundation

/// How the outbox sends: read from `HAPPYDESK_SMTP_*` / `HAPPYDESK_DELIVERY_*` by the CLI.
/// Times are seconds so tests can shrink them to milliseconds.
public struct DeliverySettings: Sendable {
    /// `From:` header, `Name <address>` or a bare address.
    public var smtpFrom = "IT Service Desk <happydesk@localhost>"
    public var smtpUser: String?
    public var smtpPassword: String?
    /// PEM file of CAs to trust for the SMTP server (and HTTPS webhooks) instead of the system store.
    public var smtpCAFile: String?
    /// `required`, `opportunistic` or `off`; ignored for `smtps://`. nil means the default of `smtpTLSMode`.
    public var smtpTLS: String?
    /// Signs outgoing webhooks; falls back to `Settings.webhookSecret`.
    public var webhookSecret: String?
    /// Attempts before a row is dead-lettered.
    public var maxAttempts = 8
    /// Sends in flight at once, each on its own reused connection.
    public var concurrency = 8
    public var connectTimeout: Double = 10
    public var timeout: Double = 30
    /// First retry waits about this long, doubling each attempt up to `backoffMax`, with jitter.
    public var backoffBase: Double = 30
    public var backoffMax: Double = 3600
    /// How often the service looks for due rows when idle.
    public var pollInterval: Double = 1
    /// How often invitations are expired and reminders queued.
    public var policyInterval: Double = 60
    /// On graceful shutdown, how long sends already in flight may take to finish; the rest are released.
    public var shutdownGrace: Double = 10
    /// Rows claimed per round.
    public var batchSize = 256
    /// Seconds a claimed outbox row stays with the instance that claimed it; after that another instance
    /// may send it (HAPPYDESK_DELIVERY_LEASE). nil: long enough for a whole batch to time out.
    public var lease: Double?
    /// The relay offers SMTPUTF8 (RFC 6531), so addresses with a non-ASCII local part can be sent. Set at start-up
    /// from the relay's EHLO answer (`SMTPCapabilities.probe`).
    public var smtpUTF8 = false
    /// `HAPPYDESK_SMTP_RATE_LIMIT`: SMTP sends evenly paced to at most this rate (nil: as fast as the relay takes them).
    public var smtpRateLimit: SMTPRateLimit?
    /// `/readyz` reports the sender stuck when due mail has waited this long (seconds) while the sender showed
    /// no progress for as long.
    public var readyOutboxMaxAge: Double = 300

    public init() {}

    /// The STARTTLS mode in force: an explicit `smtpTLS` wins; otherwise `required` when an SMTP user is set
    /// (AUTH must never send the password in clear because a server or a man in the middle left out
    /// STARTTLS), else `opportunistic`.
    public var smtpTLSMode: String {
        if let smtpTLS { return smtpTLS }
        return smtpUser?.isEmpty == false ? "required" : "opportunistic"
    }
}
