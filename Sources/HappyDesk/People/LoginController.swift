import Foundation
import Hummingbird

/// Browser sign-in for `/analyst`: the form posts the user's API token once; the answer is an HttpOnly,
/// SameSite=Strict session cookie (Secure when the public URL is https), so the token never lives in
/// the page's JavaScript or storage. The form must come from our own page: its Origin is checked and it
/// carries a CSRF token (`LoginCSRF`).
public struct LoginController: Sendable {
    public let users: UserStore
    public let secureCookies: Bool
    /// Sign-ins (successful and failed) and sign-outs are recorded here.
    public let audit: AuditTrail?

    public init(users: UserStore, secureCookies: Bool, audit: AuditTrail? = nil) {
        self.users = users
        self.secureCookies = secureCookies
        self.audit = audit
    }

    public func register(on router: Router<AppRequestContext>) {
        router.post("/analyst/login", use: login)
        router.post("/analyst/logout", use: logout)
    }

    @Sendable func login(request: Request, context: AppRequestContext) async throws -> Response {
        do {
            try users.origin.check(request)
        } catch let error as AppError {
            return try AnalystPage.loginPage(error: error.message, request: request, secure: secureCookies, status: .forbidden)
        }
        let body = try await JSONInput.body(request, limit: 4096)
        let form = FormDecoder.decode(String(buffer: body))
        guard LoginCSRF.matches(cookie: LoginCSRF.token(in: request), field: form.first(where: { $0.0 == LoginCSRF.fieldName })?.1) else {
            context.logger.notice("analyst login refused: CSRF token missing or wrong")
            return try AnalystPage.loginPage(
                error: "This sign-in form has expired or came from another site. Reload the page and sign in again.", request: request,
                secure: secureCookies, status: .forbidden
            )
        }
        let token = (form.first { $0.0 == "token" }?.1 ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let started = try await users.startSession(token: token) else {
            context.logger.notice("analyst login failed")
            try await audit?.record(
                .signinFailure, actor: .anonymous(remote: audit?.remote(request, context) ?? "unknown"), target: "token",
                details: ["reason": "unknown_or_revoked_token"])
            return try AnalystPage.loginPage(
                error: "That token is unknown or revoked. Ask an admin for a new one: happydesk users add …", request: request,
                secure: secureCookies, status: .unauthorized
            )
        }
        let (user, session) = started
        context.logger.info("analyst signed in", metadata: ["user": "\(user.id)"])
        try await audit?.record(
            .signinSuccess, actor: .user(user, remote: audit?.remote(request, context) ?? "unknown"), target: "user:\(user.id)",
            details: ["method": "token"])
        var response = Response(status: .seeOther, headers: [.location: "/analyst", .cacheControl: "no-store"])
        response.setCookie(
            try Cookie.validated(
                name: AuthMiddleware.cookieName, value: session, maxAge: Int(users.sessionLifetime), path: "/",
                secure: secureCookies, httpOnly: true, sameSite: .strict
            )
        )
        return response
    }

    /// Ends the session (open sockets close within a second); only our own page may sign someone out.
    @Sendable func logout(request: Request, context: AppRequestContext) async throws -> Response {
        do {
            try users.origin.check(request)
        } catch let error as AppError {
            return try AnalystPage.loginPage(error: error.message, request: request, secure: secureCookies, status: .forbidden)
        }
        if let session = request.cookies[AuthMiddleware.cookieName]?.value {
            let user = try await users.user(session: session)
            try await users.endSession(session)
            if let user, let audit {
                try await audit.record(.signout, actor: .user(user, remote: audit.remote(request, context)), target: "user:\(user.id)")
            }
        }
        var response = Response(status: .seeOther, headers: [.location: "/analyst", .cacheControl: "no-store"])
        response.setCookie(
            try Cookie.validated(
                name: AuthMiddleware.cookieName, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true, sameSite: .strict)
        )
        return response
    }
}
