import Foundation
import Hummingbird
import HummingbirdWebSocket

/// The analyst API: the WebSocket stream, its REST twins for clients without WebSockets, and the
/// thread and summary the analyst page shows. Every route needs a signed-in user.
public struct StreamController: Sendable {
    public let reader: any AppStorage
    public let hub: StreamHub
    public let actions: FeedbackActions
    public let users: UserStore
    public let catalog: SurveyCatalog

    public init(reader: any AppStorage, hub: StreamHub, actions: FeedbackActions, users: UserStore, catalog: SurveyCatalog) {
        self.reader = reader
        self.hub = hub
        self.actions = actions
        self.users = users
        self.catalog = catalog
    }

    public func register(on router: Router<AppRequestContext>) {
        let api = router.group("/api/v1").add(middleware: AuthMiddleware(users: users))
        api.get("me", use: me)
        api.get("events", use: events)
        api.get("responses/:id/messages", use: thread)
        api.post("responses/:id/replies", use: reply)
        api.post("responses/:id/ack", use: acknowledge)
        api.post("responses/:id/kudos", use: kudos)
        let session = self
        api.ws(
            "stream",
            shouldUpgrade: { request, context in
                try session.checkOrigin(request, context: context)
                _ = try Self.after(request)
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                guard let user = context.requestContext.user, let credential = context.requestContext.credential else { return }
                let after = (try? Self.after(context.request)) ?? nil
                try await StreamSession(
                    user: user, credential: credential, after: after, reader: session.reader, hub: session.hub, actions: session.actions,
                    users: session.users, remote: session.actions.remote(context.request, context.requestContext), logger: context.logger
                ).run(inbound: inbound, outbound: outbound)
            })
    }

    /// `?after=` as a non-negative event id; absent means "live only".
    static func after(_ request: Request) throws -> Int64? {
        guard let text = request.uri.queryParameters["after"] else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw AppError.badRequest("after must be an event id (a whole number ≥ 0), not '\(TextLimit.preview(text, 40))'", code: "invalid_after")
        }
        return value
    }

    /// Browsers send cookies on cross-site WebSocket handshakes: a cookie-authenticated upgrade must
    /// come from this site's own page, by the same Origin rule as every cookie-authenticated change.
    func checkOrigin(_ request: Request, context: AppRequestContext) throws {
        guard case .session = context.credential else { return }
        try users.origin.check(request)
    }

    @Sendable func events(request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let after = try Self.after(request) ?? 0
        let limit = try Self.limit(request)
        let page = try await reader.read { db in try EventLog.events(db, after: after, for: user, limit: limit) }
        let frames = page.map { StreamEvent($0, anonymity: hub.anonymity).frame }.joined(separator: ",")
        let last = page.last?.id ?? after
        let body = #"{"events":[\#(frames)],"last_id":\#(last),"has_more":\#(page.count == limit)}"#
        return JSONBody.response(body)
    }

    @Sendable func reply(request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let input = try JSONInput.decode(TextInput.self, from: try await JSONInput.body(request))
        let result = try await actions.reply(
            by: user, responseID: try Self.responseID(context), text: input.text, remote: actions.remote(request, context))
        return try JSONBody.response(result, status: .created)
    }

    @Sendable func kudos(request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let input = try JSONInput.decode(TextInput.self, from: try await JSONInput.body(request))
        let result = try await actions.kudos(
            by: user, responseID: try Self.responseID(context), text: input.text, remote: actions.remote(request, context))
        return try JSONBody.response(result, status: .created)
    }

    @Sendable func acknowledge(request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        return try JSONBody.response(
            try await actions.acknowledge(by: user, responseID: try Self.responseID(context), remote: actions.remote(request, context)))
    }

    @Sendable func thread(request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let messages = try await ThreadStore.messages(reader, responseID: try Self.responseID(context), user: user, anonymity: hub.anonymity)
        struct Output: Encodable { var messages: [ThreadMessage] }
        return try JSONBody.response(Output(messages: messages))
    }

    @Sendable func me(request: Request, context: AppRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let summary = try await AnalystSummary.load(reader, for: user, catalog: catalog)
        return try JSONBody.response(summary)
    }

    static func limit(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return EventLog.pageLimit }
        guard let value = Int(text), (1...EventLog.pageLimit).contains(value) else {
            throw AppError.badRequest("limit must be from 1 to \(EventLog.pageLimit)", code: "invalid_limit")
        }
        return value
    }

    static func responseID(_ context: AppRequestContext) throws -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else {
            throw AppError(.notFound, code: "unknown_response", "'\(TextLimit.preview(text, 40))' is not a response id")
        }
        return id
    }

    struct TextInput: Decodable {
        var text: String?
    }
}

extension AppRequestContext {
    /// The signed-in user; the auth middleware guarantees one on protected routes.
    func requireUser() throws -> AuthenticatedUser {
        guard let user else { throw AppError(.unauthorized, code: "unauthorized", "sign in first") }
        return user
    }
}

/// JSON responses with ISO 8601 dates and no caching.
enum JSONBody {
    static func response(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return response(String(decoding: try encoder.encode(value), as: UTF8.self), status: status)
    }
}
