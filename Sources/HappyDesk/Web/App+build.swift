import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle

/// Everything a running server shares: opened once in `HappyDeskServer.open`, used by routes and services.
public struct HappyDeskServer: Sendable {
    public let settings: Settings
    public let database: any AppStorage
    public let batcher: WriteBatcher
    public let catalog: SurveyCatalog
    public let vault: TokenVault
    public let publisher: any EventPublisher
    /// The in-process fan-out behind `/api/v1/stream`; it is also `publisher`, forwarding to any publisher given to `open`.
    public let hub: StreamHub
    /// The OpenID Connect relying party, when `HAPPYDESK_OIDC_*` is configured; it caches discovery and keys.
    public let oidc: OIDCClient?
    public let logger: Logger
    /// This server's metrics (`GET /metrics` on the metrics listener); one registry per server, see `HappyDeskMetrics`.
    public let metrics: HappyDeskMetrics
    /// The sender's sign of life, for `/readyz`.
    public let heartbeat: DeliveryHeartbeat

    /// Loads the surveys, opens and migrates the database and the key: every start-up error is a `StartupError`
    /// or a `SurveyFileError` with a message fit for one line.
    public static func open(settings: Settings, logger: Logger, publisher: (any EventPublisher)? = nil) throws -> HappyDeskServer {
        var settings = settings
        if let smtp = settings.smtpURL, !smtp.isEmpty {
            // Intake accepts a non-ASCII local part only when it can be sent (SMTPUTF8); ask the relay once.
            settings.delivery.smtpUTF8 = SMTPCapabilities.offersSMTPUTF8(url: smtp)
        }
        let catalog = try SurveyCatalog.load(directory: settings.surveysDirectory)
        let (database, applied) = try StorageOpener.openMigrated(settings: settings)
        if !applied.isEmpty { logger.info("applied migrations", metadata: ["migrations": "\(applied.joined(separator: ", "))"]) }
        let vault = try TokenVault.load(base64: settings.secretKey, keyFile: settings.resolvedSecretKeyFile)
        try vault.verifyAgainst(database)
        // Instances sharing PostgreSQL allocate event ids in one sequence but commit in their own time, so an id
        // gap there is more often an event still committing elsewhere than one rolled back: wait longer for it.
        let hub = StreamHub(
            bufferLimit: settings.streamBufferLimit, gapTimeout: database.dialect == .postgres ? .milliseconds(500) : .milliseconds(50),
            anonymity: Anonymity(catalog: catalog), forwardTo: publisher ?? NoEventPublisher(), logger: logger)
        try hub.attach(database)
        let metrics = HappyDeskMetrics()
        return HappyDeskServer(
            settings: settings, database: database,
            batcher: WriteBatcher(storage: database, maxPending: settings.limits.writeQueueLimit, metrics: metrics),
            catalog: catalog, vault: vault,
            publisher: hub, hub: hub, oidc: settings.oidc.map { OIDCClient(settings: $0, publicURL: settings.publicURL) }, logger: logger,
            metrics: metrics, heartbeat: DeliveryHeartbeat()
        )
    }

    public var intake: IntakeService {
        IntakeService(batcher: batcher, catalog: catalog, vault: vault, settings: settings, logger: logger)
    }

    public var users: UserStore { UserStore(writer: database, sessions: settings.sessions, publicURL: settings.publicURL) }

    public var answers: AnswerService {
        AnswerService(
            reader: database, batcher: batcher, catalog: catalog, publisher: publisher, followUp: FollowUpRules(settings: settings), metrics: metrics)
    }

    /// The audit trail as request paths record it (through the batcher).
    public var audit: AuditTrail { AuditTrail(batcher: batcher, trustProxy: settings.limits.trustProxy) }

    /// Retention and erasure (`PersonalData`).
    public var personalData: PersonalData { PersonalData(server: self) }

    public var feedback: FeedbackActions {
        FeedbackActions(batcher: batcher, catalog: catalog, settings: settings, publisher: publisher)
    }
}

/// Every route of the service, at a glance.
public func buildRouter(_ server: HappyDeskServer) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    // Outermost: the request id (in every log line and the X-Request-Id reply header), then the metrics, which
    // see the final status of every request, errors included.
    router.middlewares.add(RequestIDMiddleware())
    router.middlewares.add(RequestMetrics(server.metrics))
    router.middlewares.add(ErrorMiddleware())
    router.middlewares.add(RedactedRequestLog(.debug))
    let limits = server.settings.limits
    // Failed sign-ins, bearer tokens and signatures, per client address: checked before any credential is.
    if let limit = limits.signIn {
        let limiter = RateLimiter(id: "signin", counts: "failed sign-ins from this address", variable: "HAPPYDESK_RATE_LIMIT_SIGNIN", limit: limit)
        router.middlewares.add(
            RateLimitMiddleware(limiter: limiter, counting: .failures) { request, context in
                RateLimitKeys.presentsCredential(request) ? ClientAddress.of(request, context, trustProxy: limits.trustProxy) : nil
            })
    }

    router.get("/healthz") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    // Readiness (database migrated and writable, sender not stuck); /healthz above is liveness only.
    Readiness(server: server).register(on: router)
    router.get("/") { _, _ -> Response in
        // A person opening the server's address lands somewhere useful rather than on a 404.
        Response(status: .ok, headers: Templates.pageHeaders, body: .init(byteBuffer: ByteBuffer(string: Templates.homePage)))
    }

    // This API's OpenAPI 3.1 description, read once at start-up from docs/openapi.yaml.
    let openAPI = OpenAPIDocument.load()
    router.get("/openapi.yaml") { _, _ -> Response in
        guard let openAPI else { throw AppError.notFound("docs/openapi.yaml was not found beside this server") }
        return Response(
            status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(string: openAPI)))
    }

    // Intake: closures in, limited per credential.
    let intakeRoutes = router.group()
    if let limit = limits.closures {
        let limiter = RateLimiter(id: "closures", counts: "closures for this credential", variable: "HAPPYDESK_RATE_LIMIT_CLOSURES", limit: limit)
        intakeRoutes.add(
            middleware: RateLimitMiddleware(limiter: limiter, counting: .requests) { request, context in
                RateLimitKeys.closureCredential(request, context, trustProxy: limits.trustProxy)
            })
    }
    ClosureController(
        intake: server.intake, metrics: server.metrics,
        verifier: server.settings.webhookSecret.flatMap { $0.isEmpty ? nil : SignatureVerifier(secret: $0) },
        users: server.users
    ).register(on: intakeRoutes)

    // Answering: the requester's survey page; answers and replies limited per link.
    let surveyRoutes = router.group()
    if let limit = limits.survey {
        let limiter = RateLimiter(id: "survey", counts: "answers for this survey link", variable: "HAPPYDESK_RATE_LIMIT_SURVEY", limit: limit)
        surveyRoutes.add(middleware: RateLimitMiddleware(limiter: limiter, counting: .requests, key: RateLimitKeys.surveyLink))
    }
    SurveyPageController(answers: server.answers, feedback: server.feedback).register(on: surveyRoutes)

    // Stream: the analyst's live feed, replies, acknowledgements and kudos; the analyst page and its sign-in.
    StreamController(reader: server.database, hub: server.hub, actions: server.feedback, users: server.users, catalog: server.catalog)
        .register(on: router)
    let oidcSettings = server.oidc?.settings
    LoginController(
        users: server.users, secureCookies: server.settings.secureCookies, oidc: oidcSettings, trustProxy: limits.trustProxy, audit: server.audit
    ).register(on: router)
    AnalystPage(users: server.users, catalog: server.catalog, oidc: oidcSettings).register(on: router)
    // People: the sign-in page, single sign-on, emailed links and signing out.
    SignInController(
        users: server.users, batcher: server.batcher, vault: server.vault, settings: server.settings, oidc: server.oidc, audit: server.audit
    ).register(on: router)

    // Dashboard: managers' live view and metrics API.
    DashboardController(
        builder: DashboardBuilder(
            store: DashboardStore(reader: server.database), catalog: server.catalog, retentionDays: server.settings.retentionDays),
        users: server.users, audit: server.audit
    ).register(on: router)

    // Operating: erasure of one requester and the audit trail, for admins.
    ErasureController(personalData: server.personalData, users: server.users, trail: server.audit).register(on: router)
    AuditController(reader: server.database, users: server.users, trail: server.audit).register(on: router)

    return router
}

/// The HTTP server with its background services; run it with `runService()`.
public func buildApplication(_ server: HappyDeskServer, services: [any Service] = []) -> some ApplicationProtocol {
    let router = buildRouter(server)
    let idle = TimeAmount.nanoseconds(Int64(server.settings.limits.httpIdleTimeout * 1_000_000_000))
    let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
        http1: .init(idleTimeout: idle),
        // A frame over the stream's 64 KB limit is refused by the decoder (close code 1009) before it is buffered.
        ws: .init(maxFrameSize: ClientFrame.maxBytes)
    )
    let webSocketResponder = router.buildResponder()
    var app = Application(
        router: router,
        server: HTTPServerBuilder { responder in
            FirstRequestDeadlineChannel(
                base: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                timeout: idle)
        },
        configuration: .init(address: .hostname(server.settings.host, port: server.settings.port), serverName: "happydesk"),
        logger: server.logger
    )
    app.addServices(services)
    return app
}
