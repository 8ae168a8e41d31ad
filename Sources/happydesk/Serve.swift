import ArgumentParser
import Foundation
import HappyDesk
import Metrics
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Migrate the database, then serve the API, the survey pages and the background services.",
        discussion: """
            With no SMTP server or webhook configured, each message is written as a .eml file under ./data/outbox/
            and the log names the file that holds the survey link, so the whole loop can be tried at once.
            """
    )

    @OptionGroup var storage: StorageOptions
    @OptionGroup(title: "Delivery") var delivery: DeliveryOptions
    @OptionGroup(title: "Sign-in and intake") var sessions: SessionOptions
    @OptionGroup(title: "Single sign-on (OpenID Connect)") var oidc: OIDCOptions
    @OptionGroup(title: "Limits") var limits: LimitOptions

    @Flag(help: "Do not send from this process (run `happydesk outbox send` elsewhere). [env: HAPPYDESK_DELIVERY_DISABLED=1]")
    var noDelivery = false

    @Option(help: ArgumentHelp("Address to listen on; 0.0.0.0 for all interfaces. [env: HAPPYDESK_HOST] (default: 127.0.0.1)", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("TCP port. [env: HAPPYDESK_PORT] (default: 8080)", valueName: "port"))
    var port: Int?

    @Option(
        help: ArgumentHelp("Public base URL used in survey links. [env: HAPPYDESK_PUBLIC_URL] (default: http://localhost:PORT)", valueName: "url"))
    var publicURL: String?

    @Option(
        help: ArgumentHelp("Shared secret; when set, closures must carry X-Happydesk-Signature. [env: HAPPYDESK_WEBHOOK_SECRET]", valueName: "secret")
    )
    var webhookSecret: String?

    @Option(
        help: ArgumentHelp(
            "Key file sealing outbox tokens, created on first start. [env: HAPPYDESK_SECRET_KEY_FILE] (default: beside the database)",
            valueName: "path"))
    var secretKeyFile: String?

    @Option(
        help: ArgumentHelp(
            "Alert webhooks for negative (0–6) responses: 'group=url,…'; a bare URL or '*=url' is the default. Slack and Teams incoming webhooks work. [env: HAPPYDESK_ALERT_WEBHOOKS]",
            valueName: "list"))
    var alertWebhooks: String?

    @Option(
        help: ArgumentHelp(
            "Webhook called with the ticket id when a requester says the issue is not solved. [env: HAPPYDESK_REOPEN_WEBHOOK_URL]", valueName: "url"))
    var reopenWebhookURL: String?

    @Option(
        help: ArgumentHelp(
            "Events a stream socket may have waiting before it is disconnected as too slow. [env: HAPPYDESK_STREAM_BUFFER] (default: 1024)",
            valueName: "n"))
    var streamBuffer: Int?

    @Option(
        help: ArgumentHelp(
            "Remove personal data (comments, messages, requesters' names and addresses, outbox rows, .eml files) recorded more than this many days ago: at start-up and daily. [env: HAPPYDESK_RETENTION_DAYS] (default: keep everything)",
            valueName: "days"))
    var retentionDays: String?

    @Option(
        help: ArgumentHelp(
            "Address of the metrics listener (GET /metrics, Prometheus text format), host:port, or off. [env: HAPPYDESK_METRICS_ADDRESS] (default: 127.0.0.1:9464)",
            valueName: "host:port"))
    var metricsAddress: String?

    func run() async throws {
        var settings = storage.settings()
        do {
            settings.retentionDays = try Settings.parseRetentionDays(retentionDays ?? env("HAPPYDESK_RETENTION_DAYS"))
        } catch {
            fail("\(error)")
        }
        if let host = host ?? env("HAPPYDESK_HOST") { settings.host = host }
        if let port = port ?? env("HAPPYDESK_PORT").flatMap(Int.init) { settings.port = port }
        guard (1...65535).contains(settings.port) else { fail("port must be from 1 to 65535, not \(settings.port)") }
        if let text = port == nil ? env("HAPPYDESK_PORT") : nil, Int(text) == nil { fail("HAPPYDESK_PORT must be a number, not '\(text)'") }
        settings.publicURL = publicURL ?? env("HAPPYDESK_PUBLIC_URL") ?? "http://localhost:\(settings.port)"
        guard let url = URL(string: settings.publicURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            fail("public URL must be an http(s) URL such as https://happy.example.com, not '\(settings.publicURL)'")
        }
        settings.webhookSecret = webhookSecret ?? env("HAPPYDESK_WEBHOOK_SECRET")
        if let refusal = IntakeLock.refusal(host: settings.host, webhookSecret: settings.webhookSecret, allowUnsigned: sessions.unsignedIntakeAllowed)
        {
            fail(refusal)
        }
        sessions.apply(to: &settings)
        oidc.apply(to: &settings)
        settings.secretKey = env("HAPPYDESK_SECRET_KEY")
        settings.secretKeyFile = secretKeyFile ?? env("HAPPYDESK_SECRET_KEY_FILE")
        delivery.apply(to: &settings)
        limits.apply(to: &settings)
        if let list = alertWebhooks ?? env("HAPPYDESK_ALERT_WEBHOOKS") {
            do { settings.alertWebhooks = try Settings.parseAlertWebhooks(list) } catch { fail("\(error)") }
        }
        settings.reopenWebhookURL = reopenWebhookURL ?? env("HAPPYDESK_REOPEN_WEBHOOK_URL")
        if let url = settings.reopenWebhookURL, URL(string: url)?.host == nil || !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            fail("reopen webhook URL must be an http(s) URL, not '\(url)'")
        }
        if let text = streamBuffer.map(String.init) ?? env("HAPPYDESK_STREAM_BUFFER") {
            guard let value = Int(text), (16...1_000_000).contains(value) else {
                fail("stream buffer must be a number from 16 to 1000000, not '\(text)'")
            }
            settings.streamBufferLimit = value
        }

        let metricsListen: MetricsAddress?
        do {
            metricsListen = try MetricsAddress.parse(metricsAddress ?? env("HAPPYDESK_METRICS_ADDRESS") ?? "127.0.0.1:9464")
        } catch {
            fail("\(error)")
        }
        let logger = bootstrapLogging(level: settings.logLevel, format: storage.resolvedLogFormat())
        let server: HappyDeskServer
        do {
            server = try HappyDeskServer.open(settings: settings, logger: logger)
        } catch {
            fail("\(error)")
        }
        if settings.webhookSecret == nil {
            logger.warning(
                "HAPPYDESK_WEBHOOK_SECRET is not set: closures are accepted unsigned, and only signed or integration-token closures get survey_url back"
            )
        }
        logger.info(
            "happydesk listening", metadata: ["url": "http://\(settings.host):\(settings.port)", "database": "\(settings.databaseDisplayName)"])
        // Once per process: what libraries record through swift-metrics lands in this server's registry too.
        MetricsSystem.bootstrap(server.metrics.factory)
        var services: [any Service] = [RollupService(writer: server.database, logger: logger)]
        if let days = settings.retentionDays {
            services.append(RetentionService(personalData: server.personalData, days: days, logger: logger))
        }
        if let metricsListen {
            services.append(buildMetricsApplication(server, address: metricsListen))
            logger.info("metrics listening", metadata: ["url": "http://\(metricsListen.host):\(metricsListen.port)/metrics"])
        }
        if let postgres = server.database as? PostgresStorage {
            services.append(PostgresEventFanOut(storage: postgres, hub: server.hub, logger: logger))
        }
        if !noDelivery && env("HAPPYDESK_DELIVERY_DISABLED") == nil {
            do {
                services.append(DeliveryService(dispatcher: try OutboxDispatcher(server: server), logger: logger))
            } catch {
                fail("\(error)")
            }
        }
        let app = buildApplication(server, services: services)
        try await app.runService()
    }
}
