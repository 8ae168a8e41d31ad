import ArgumentParser
import Foundation
import HappyDesk

/// Delivery flags of `happydesk serve` and `happydesk outbox send`; each reads a `HAPPYDESK_*` variable, a flag wins.
struct DeliveryOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "SMTP server, smtp://host:587 or smtps://host:465; unset writes .eml files instead. [env: HAPPYDESK_SMTP_URL]", valueName: "url"))
    var smtpURL: String?

    @Option(
        help: ArgumentHelp(
            "From address, 'Name <addr>' or addr. [env: HAPPYDESK_SMTP_FROM] (default: IT Service Desk <happydesk@localhost>)", valueName: "address"))
    var smtpFrom: String?

    @Option(help: ArgumentHelp("SMTP user name for AUTH. [env: HAPPYDESK_SMTP_USER]", valueName: "user"))
    var smtpUser: String?

    @Option(help: ArgumentHelp("SMTP password; prefer the variable over the flag. [env: HAPPYDESK_SMTP_PASSWORD]", valueName: "password"))
    var smtpPassword: String?

    @Option(help: ArgumentHelp("PEM CA bundle to trust for SMTP and webhook TLS. [env: HAPPYDESK_SMTP_CA_FILE]", valueName: "path"))
    var smtpCAFile: String?

    @Option(
        help: ArgumentHelp(
            "STARTTLS on smtp:// URLs: required, opportunistic or off. [env: HAPPYDESK_SMTP_TLS] (default: required when an SMTP user is set, else opportunistic)",
            valueName: "mode"))
    var smtpTLS: String?

    @Option(
        help: ArgumentHelp("POST surveys as signed JSON here (used when no SMTP URL is set). [env: HAPPYDESK_DELIVERY_WEBHOOK_URL]", valueName: "url")
    )
    var deliveryWebhookURL: String?

    @Option(
        help: ArgumentHelp(
            "Secret signing outgoing webhooks. [env: HAPPYDESK_DELIVERY_WEBHOOK_SECRET] (default: HAPPYDESK_WEBHOOK_SECRET)", valueName: "secret"))
    var deliveryWebhookSecret: String?

    @Option(help: ArgumentHelp("Attempts before a message is dead-lettered. [env: HAPPYDESK_DELIVERY_MAX_ATTEMPTS] (default: 8)", valueName: "n"))
    var deliveryMaxAttempts: Int?

    @Option(
        help: ArgumentHelp("Messages sent at once, each on a reused connection. [env: HAPPYDESK_DELIVERY_CONCURRENCY] (default: 8)", valueName: "n"))
    var deliveryConcurrency: Int?

    @Option(
        help: ArgumentHelp(
            "Seconds one send may take before it counts as failed. [env: HAPPYDESK_DELIVERY_TIMEOUT] (default: 30)", valueName: "seconds"))
    var deliveryTimeout: Double?

    @Option(
        help: ArgumentHelp(
            "Seconds before the first retry; doubles each attempt, with jitter. [env: HAPPYDESK_DELIVERY_BACKOFF] (default: 30)", valueName: "seconds"
        ))
    var deliveryBackoff: Double?

    @Option(
        help: ArgumentHelp(
            "On shutdown, seconds the sends in flight may take before their rows are released for the next start. [env: HAPPYDESK_DELIVERY_SHUTDOWN_GRACE] (default: 10)",
            valueName: "seconds"))
    var deliveryShutdownGrace: Double?

    @Option(
        help: ArgumentHelp(
            "Seconds a claimed outbox row stays with this instance; after that another instance sharing the database sends it. [env: HAPPYDESK_DELIVERY_LEASE] (default: long enough for a whole batch to time out)",
            valueName: "seconds"))
    var deliveryLease: Double?

    @Option(
        help: ArgumentHelp(
            "Cap on SMTP sending, evenly paced (a token bucket with a burst of one): 30/min (Exchange Online's per-mailbox limit), 5/s, 1000/h. [env: HAPPYDESK_SMTP_RATE_LIMIT] (default: no cap)",
            valueName: "rate"))
    var smtpRateLimit: String?

    @Option(
        help: ArgumentHelp("Folder for .eml files when no SMTP URL is set. [env: HAPPYDESK_OUTBOX_DIR] (default: ./data/outbox)", valueName: "dir"))
    var outboxDir: String?

    func apply(to settings: inout Settings) {
        settings.smtpURL = smtpURL ?? env("HAPPYDESK_SMTP_URL")
        settings.deliveryWebhookURL = deliveryWebhookURL ?? env("HAPPYDESK_DELIVERY_WEBHOOK_URL")
        if let dir = outboxDir ?? env("HAPPYDESK_OUTBOX_DIR") { settings.outboxDirectory = dir }
        var delivery = settings.delivery
        if let from = smtpFrom ?? env("HAPPYDESK_SMTP_FROM") { delivery.smtpFrom = from }
        delivery.smtpUser = smtpUser ?? env("HAPPYDESK_SMTP_USER")
        delivery.smtpPassword = smtpPassword ?? env("HAPPYDESK_SMTP_PASSWORD")
        delivery.smtpCAFile = smtpCAFile ?? env("HAPPYDESK_SMTP_CA_FILE")
        if let tls = smtpTLS ?? env("HAPPYDESK_SMTP_TLS") {
            let mode = tls.lowercased()
            guard ["required", "opportunistic", "off"].contains(mode) else {
                fail("HAPPYDESK_SMTP_TLS must be required, opportunistic or off, not '\(tls)'")
            }
            delivery.smtpTLS = mode
        }
        delivery.webhookSecret = deliveryWebhookSecret ?? env("HAPPYDESK_DELIVERY_WEBHOOK_SECRET")
        delivery.maxAttempts = number("HAPPYDESK_DELIVERY_MAX_ATTEMPTS", flag: deliveryMaxAttempts, default: delivery.maxAttempts, range: 1...100)
        delivery.concurrency = number("HAPPYDESK_DELIVERY_CONCURRENCY", flag: deliveryConcurrency, default: delivery.concurrency, range: 1...64)
        delivery.timeout = seconds("HAPPYDESK_DELIVERY_TIMEOUT", flag: deliveryTimeout, default: delivery.timeout)
        delivery.backoffBase = seconds("HAPPYDESK_DELIVERY_BACKOFF", flag: deliveryBackoff, default: delivery.backoffBase)
        delivery.shutdownGrace = seconds("HAPPYDESK_DELIVERY_SHUTDOWN_GRACE", flag: deliveryShutdownGrace, default: delivery.shutdownGrace)
        if deliveryLease != nil || env("HAPPYDESK_DELIVERY_LEASE") != nil {
            delivery.lease = seconds("HAPPYDESK_DELIVERY_LEASE", flag: deliveryLease, default: 0)
            if let lease = delivery.lease, lease < 1 { fail("happydesk_delivery_lease must be at least 1 second, not \(lease)") }
        }
        delivery.connectTimeout = min(delivery.connectTimeout, delivery.timeout)
        if let rate = smtpRateLimit ?? env("HAPPYDESK_SMTP_RATE_LIMIT") {
            do { delivery.smtpRateLimit = try SMTPRateLimit.parse(rate) } catch { fail("\(error)") }
        }
        settings.delivery = delivery
    }

    private func number(_ name: String, flag: Int?, default value: Int, range: ClosedRange<Int>) -> Int {
        if let flag {
            guard range.contains(flag) else { fail("\(name.lowercased()) must be from \(range.lowerBound) to \(range.upperBound), not \(flag)") }
            return flag
        }
        guard let text = env(name) else { return value }
        guard let parsed = Int(text), range.contains(parsed) else {
            fail("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return parsed
    }

    private func seconds(_ name: String, flag: Double?, default value: Double) -> Double {
        if let flag {
            guard flag > 0 else { fail("\(name) must be a positive number of seconds, not \(flag)") }
            return flag
        }
        guard let text = env(name) else { return value }
        guard let parsed = Double(text), parsed > 0 else { fail("\(name) must be a positive number of seconds, not '\(text)'") }
        return parsed
    }
}
