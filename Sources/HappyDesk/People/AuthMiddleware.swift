import Foundation
import HTTPTypes
import Hummingbird

/// Identifies the caller from `Authorization: Bearer <token>` or the `happydesk_session` cookie and
/// sets `context.user`; rejects with 401 when `required` and nobody is signed in.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    public static let cookieName = "happydesk_session"

    public let users: UserStore
    public let required: Bool
    /// Roles allowed through; empty allows every signed-in user.
    public let roles: Set<AuthenticatedUser.Role>

    public init(users: UserStore, required: Bool = true, roles: Set<AuthenticatedUser.Role> = []) {
        self.users = users
        self.required = required
        self.roles = roles
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw AppError(.unauthorized, code: "unauthorized", "Authorization must be 'Bearer <token>'")
            }
            guard let user = try await users.user(token: String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
                throw AppError(.unauthorized, code: "unauthorized", "the API token is unknown or revoked")
            }
            context.user = user
        } else if let session = request.cookies[Self.cookieName]?.value, let user = try await users.user(session: session) {
            context.user = user
        }
        if required {
            guard let user = context.user else {
                throw AppError(.unauthorized, code: "unauthorized", "sign in: send Authorization: Bearer <token> or log in at /analyst")
            }
            guard roles.isEmpty || roles.contains(user.role) else {
                throw AppError(.forbidden, code: "forbidden", "this needs the role \(roles.map(\.rawValue).sorted().joined(separator: " or "))")
            }
        }
        return try await next(request, context)
    }
}
