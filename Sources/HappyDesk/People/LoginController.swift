import Foundation
import Hummingbird

/// Browser sign-in for `/analyst`: the form posts the user's API token once; the answer is an HttpOnly,
/// SameSite=Strict session cookie (Secure when the public URL is https), so the token never lives in
/// the page's JavaScript or storage. The form must come from our own page: its Origin is checked and it
/// carries a CSRF token (`LoginCSRF`).
public struct LoginController: Sendable {
    public let users: UserStore
    public let secureCookies: Bool
    public let oidc: OIDCSettings?
    public let trustProxy: Bool
    /// Sign-ins (successful and failed) and sign-outs are recorded here.
    public let audit: AuditTrail?

    public init(users: UserStore, secureCookies: Bool, oidc: OIDCSettings? = nil, trustProxy: Bool = false, audit: AuditTrail? = nil) {
        self.users = users
        self.secureCookies = secureCookies
        self.oidc = oidc
        self.trustProxy = trustProxy
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
            return try AnalystPage.loginPage(error: error.message, request: request, secure: secureCookies, oidc: oidc, status: .forbidden)
        }
        let body = try await JSONInput.body(request, limit: 4096)
        let form = FormDecoder.decode(String(buffer: body))
        let next = SignInPage.localPath(form.first(where: { $0.0 == "next" })?.1)
        let remote = ClientAddress.of(request, context, trustProxy: trustProxy)
        guard LoginCSRF.matches(cookie: LoginCSRF.token(in: request), field: form.first(where: { $0.0 == LoginCSRF.fieldName })?.1) else {
            await SignInAudit.record(
                method: .token, success: false, reason: "csrf", userID: nil, remoteAddress: remote, audit: audit, logger: context.logger)
            return try AnalystPage.loginPage(
                error: "This sign-in form has expired or came from another site. Reload the page and sign in again.", request: request,
                secure: secureCookies, oidc: oidc, next: next, status: .forbidden
            )
        }
        let token = (form.first { $0.0 == "token" }?.1 ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let started = try await users.startSession(token: token) else {
            await SignInAudit.record(
                method: .token, success: false, reason: "unknown_token", userID: nil, remoteAddress: remote, audit: audit,
                logger: context.logger)
            return try AnalystPage.loginPage(
                error: "That token is unknown or revoked. Ask an admin for a new one: happydesk users add …", request: request,
                secure: secureCookies, oidc: oidc, next: next, status: .unauthorized
            )
        }
        let (user, session) = started
        await SignInAudit.record(
            method: .token, success: true, reason: "signed_in", userID: user.id, remoteAddress: remote, audit: audit, logger: context.logger
        )
        var response = Response(status: .seeOther, headers: [.location: next ?? user.role.landingPath, .cacheControl: "no-store"])
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
            return try AnalystPage.loginPage(error: error.message, request: request, secure: secureCookies, oidc: oidc, status: .forbidden)
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
