import Foundation
import HTTPTypes
import Hummingbird

/// Identifies the caller from `Authorization: Bearer <token>` or the `happydesk_session` cookie and
/// sets `context.user`; rejects with 401 when `required` and nobody is signed in, 403 for a role not allowed.
///
/// A request authenticated by the cookie that changes state (POST, PUT, PATCH, DELETE) must also carry
/// the public URL's `Origin` (403) and a JSON body type (415): a cross-site form can send the cookie but
/// can neither forge Origin nor send `application/json` without a CORS preflight. Bearer requests are not
/// sent by browsers on their own, so they need neither.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    public static let cookieName = "happydesk_session"

    public let users: UserStore
    public let required: Bool
    /// Roles allowed through; the default is every person (an integration token opens no analyst route).
    public let roles: Set<AuthenticatedUser.Role>

    public init(users: UserStore, required: Bool = true, roles: Set<AuthenticatedUser.Role> = AuthenticatedUser.Role.people) {
        self.users = users
        self.required = required
        self.roles = roles
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization] {
            let token = try Self.bearerToken(authorization)
            guard let user = try await users.user(token: token) else {
                throw AppError(.unauthorized, code: "unauthorized", "the API token is unknown or revoked")
            }
            context.user = user
            context.credential = .apiToken(hash: SurveyToken.hash(token))
        } else if let session = request.cookies[Self.cookieName]?.value, let user = try await users.user(session: session) {
            context.user = user
            context.credential = .session(hash: SurveyToken.hash(session))
            if Self.changesState(request.method) {
                try users.origin.check(request)
                try Self.requireJSON(request)
            }
        }
        if required {
            guard let user = context.user else {
                throw AppError(.unauthorized, code: "unauthorized", "sign in: send Authorization: Bearer <token> or log in at /analyst")
            }
            guard roles.contains(user.role) else {
                if user.role == .integration {
                    throw AppError(.forbidden, code: "forbidden", "an integration token may only post closures; sign in as a person for this")
                }
                throw AppError(.forbidden, code: "forbidden", "this needs the role \(roles.map(\.rawValue).sorted().joined(separator: " or "))")
            }
        }
        return try await next(request, context)
    }

    /// The token of `Authorization: Bearer <token>`; any other scheme is a 401 that says what to send.
    static func bearerToken(_ authorization: String) throws -> String {
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw AppError(.unauthorized, code: "unauthorized", "Authorization must be 'Bearer <token>'")
        }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }

    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        method == .post || method == .put || method == .patch || method == .delete
    }

    static func requireJSON(_ request: Request) throws {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            throw AppError(
                .unsupportedMediaType, code: "unsupported_media_type",
                "send Content-Type: application/json (requests signed in with the session cookie must be JSON)")
        }
    }
}
