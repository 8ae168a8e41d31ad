import Foundation
import HTTPTypes
import Hummingbird

/// `POST /api/v1/closures` (generic JSON) and `POST /api/v1/closures/jira` (Jira's native webhook).
///
/// A caller proves itself with a valid signature or an integration's bearer token; with no secret set,
/// unsigned closures are still taken (loopback, or `--allow-unsigned-intake`) but their reply leaves out
/// `survey_url`: the link is the requester's, so only an authenticated ITSM may see it.
public struct ClosureController: Sendable {
    public let intake: IntakeService
    public let verifier: SignatureVerifier?
    public let users: UserStore
    /// `happydesk_closures_total{source,result}`; nil counts nothing.
    public let metrics: HappyDeskMetrics?

    public init(intake: IntakeService, metrics: HappyDeskMetrics? = nil, verifier: SignatureVerifier?, users: UserStore) {
        self.intake = intake
        self.metrics = metrics
        self.verifier = verifier
        self.users = users
    }

    /// Who posted a closure.
    enum Caller: Sendable, Equatable {
        case signed
        case integration(AuthenticatedUser)
        case anonymous

        var isAuthenticated: Bool { self != .anonymous }
    }

    public func register(on router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/closures") { request, context in try await counted(.generic) { try await create(request: request, context: context) } }
        router.post("/api/v1/closures/jira") { request, context in
            try await counted(.jira) { try await createFromJira(request: request, context: context) }
        }
    }

    /// Runs a closure route and counts what came of it; an error the caller caused counts as `rejected`.
    func counted(_ source: HappyDeskMetrics.ClosureSource, _ body: () async throws -> EditedResponse<Reply>) async throws -> EditedResponse<Reply> {
        guard let metrics else { return try await body() }
        do {
            let response = try await body()
            let reply = response.responseGenerator
            let result: HappyDeskMetrics.ClosureResult
            if reply.duplicate {
                result = .duplicate
            } else if reply.status == "ignored" {
                result = .ignored
            } else if reply.status == InvitationStatus.skipped.rawValue {
                result = reply.skip_reason?.hasPrefix("throttled") == true ? .throttled : .sampled_out
            } else {
                result = .created
            }
            metrics.closure(source: source, result: result)
            return response
        } catch let error as any HTTPResponseError where error.status.code < 500 {
            metrics.closure(source: source, result: .rejected)
            throw error
        }
    }

    /// The answer to an ingest call; `survey_url` only on first creation, since the token is stored hashed.
    struct Reply: ResponseEncodable {
        var id: Int64?
        var status: String
        var duplicate: Bool
        var skip_reason: String?
        var survey_url: String?
        var expires_at: String?
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> EditedResponse<Reply> {
        let body = try await JSONInput.body(request)
        let caller = try await authenticate(request, body: body)
        var closure = try JSONInput.decode(Closure.self, from: body)
        do {
            try closure.validate(utf8LocalPart: intake.settings.acceptsUTF8LocalPart)
        } catch {
            throw AppError.badRequest(error.description, code: "invalid_field")
        }
        return try await ingest(closure, caller: caller)
    }

    @Sendable func createFromJira(request: Request, context: AppRequestContext) async throws -> EditedResponse<Reply> {
        let body = try await JSONInput.body(request)
        let caller = try await authenticate(request, body: body)
        switch try JiraAdapter.convert(Data(buffer: body)) {
        case .notAClosure(let reason):
            return EditedResponse(status: .accepted, response: Reply(status: "ignored", duplicate: false, skip_reason: reason))
        case .closure(var closure):
            do {
                try closure.validate(utf8LocalPart: intake.settings.acceptsUTF8LocalPart)
            } catch {
                throw AppError.badRequest(error.description, code: "invalid_field")
            }
            return try await ingest(closure, caller: caller)
        }
    }

    func ingest(_ closure: Closure, caller: Caller) async throws -> EditedResponse<Reply> {
        let result = try await intake.ingest(closure)
        let reply = Reply(
            id: result.invitationID, status: result.status, duplicate: result.outcome == .duplicate,
            skip_reason: result.skipReason, survey_url: caller.isAuthenticated ? result.surveyURL : nil,
            expires_at: result.expiresAt.map(ISO8601.format)
        )
        let status: HTTPResponse.Status =
            switch result.outcome {
            case .created: .created
            case .duplicate: .ok
            case .ignored: .accepted
            }
        return EditedResponse(status: status, response: reply)
    }

    /// An integration's `Authorization: Bearer` token, else the signature when a secret is set, else nobody.
    /// A person's token is refused (403): people do not post closures, and a leaked analyst token should
    /// not create surveys in their name.
    func authenticate(_ request: Request, body: ByteBuffer) async throws -> Caller {
        if let authorization = request.headers[.authorization] {
            let token = try AuthMiddleware.bearerToken(authorization)
            guard let user = try await users.user(token: token) else {
                throw AppError(.unauthorized, code: "unauthorized", "the API token is unknown or revoked")
            }
            guard user.role == .integration else {
                throw AppError(
                    .forbidden, code: "forbidden",
                    "closures need an integration token (happydesk users add --role integration) or a signature, not an \(user.role.rawValue)'s token"
                )
            }
            return .integration(user)
        }
        guard verifier != nil else { return .anonymous }
        try checkSignature(request, body: body)
        return .signed
    }

    /// Accepts our own `X-Happydesk-Signature`, or `X-Hub-Signature: sha256=…` as Jira's webhook secret sends it.
    func checkSignature(_ request: Request, body: ByteBuffer) throws {
        guard let verifier else { return }
        let ours = request.headers[.happydeskSignature]
        let hub = request.headers[.hubSignature]
        do {
            if ours == nil, let hub {
                try verifier.verifyHub(header: hub, body: body.readableBytesView)
            } else {
                try verifier.verify(header: ours, body: body.readableBytesView)
            }
        } catch {
            throw AppError(.unauthorized, code: "bad_signature", error.description)
        }
    }
}
