import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// People signing in from a browser: the sign-in page, OpenID Connect, emailed links, and signing out.
///
/// Cookies set here are `SameSite=Lax`: the provider sends the browser back cross-site, and a Strict cookie set
/// at the end of that redirect chain would not come with the next request. Cross-site writes are still refused,
/// by `OriginPolicy` on every cookie-authenticated state change, not by Strict.
public struct SignInController: Sendable {
    public static let stateCookieName = "happydesk_oidc_state"

    public let users: UserStore
    public let batcher: WriteBatcher
    public let vault: TokenVault
    public let settings: Settings
    public let oidc: OIDCClient?
    /// Every sign-in outcome and sign-out is recorded here (through `SignInAudit`).
    public let audit: AuditTrail?
    /// `POST /signin/email` per client address (a 429 page) and per requested address (silently no mail).
    let perClient: RateLimiter
    let perAddress: RateLimiter

    public init(users: UserStore, batcher: WriteBatcher, vault: TokenVault, settings: Settings, oidc: OIDCClient?, audit: AuditTrail? = nil) {
        self.users = users
        self.audit = audit
        self.batcher = batcher
        self.vault = vault
        self.settings = settings
        self.oidc = oidc
        perClient = RateLimiter(
            id: "signin-email", counts: "sign-in emails asked from this address", variable: "(fixed)", limit: RateLimit(count: 20, per: .hour))
        perAddress = RateLimiter(
            id: "signin-email-address", counts: "sign-in emails to one address", variable: "(fixed)", limit: RateLimit(count: 5, per: .hour))
    }

    public func register(on router: Router<AppRequestContext>) {
        router.get("/signin", use: page)
        router.post("/signin/oidc", use: startOIDC)
        router.get("/signin/oidc/callback", use: callback)
        router.post("/signin/email", use: requestLink)
        router.get("/signin/link/{token}", use: showLink)
        router.post("/signin/link/{token}", use: useLink)
        router.post("/signout", use: signOut)
    }

    var secure: Bool { settings.secureCookies }
    var oidcSettings: OIDCSettings? { oidc?.settings }

    func remote(_ request: Request, _ context: AppRequestContext) -> String {
        ClientAddress.of(request, context, trustProxy: settings.limits.trustProxy)
    }

    func audit(_ method: SignInAudit.Method, _ success: Bool, _ reason: String, user: Int64?, _ request: Request, _ context: AppRequestContext) async
    {
        await SignInAudit.record(
            method: method, success: success, reason: reason, userID: user, remoteAddress: remote(request, context), audit: audit,
            logger: context.logger)
    }

    /// A browser POST from another site carries that site's Origin: refuse it. Scripts that send no Origin are let through,
    /// since without our cookie they gain nothing a form on our page would not give them.
    func refuseForeignOrigin(_ request: Request) throws {
        if request.headers[.origin] != nil { try users.origin.check(request) }
    }

    static func form(_ request: Request) async throws -> [String: String] {
        let body = try await JSONInput.body(request, limit: 4096)
        var fields: [String: String] = [:]
        for (name, value) in FormDecoder.decode(String(buffer: body)) where fields[name] == nil { fields[name] = value }
        return fields
    }

    // MARK: the page

    @Sendable func page(request: Request, context: AppRequestContext) async throws -> Response {
        let next = SignInPage.localPath(request.uri.queryParameters["next"].map(String.init))
        if let session = request.cookies[AuthMiddleware.cookieName]?.value, let user = try await users.user(session: session),
            AuthenticatedUser.Role.people.contains(user.role)
        {
            return Self.redirect(next ?? user.role.landingPath)
        }
        return try SignInPage.page(request: request, oidc: oidcSettings, next: next, secure: secure)
    }

    // MARK: OpenID Connect

    @Sendable func startOIDC(request: Request, context: AppRequestContext) async throws -> Response {
        guard let oidc else { throw AppError.notFound("single sign-on is not configured on this server (HAPPYDESK_OIDC_ISSUER)").html() }
        do {
            try refuseForeignOrigin(request)
        } catch let error as AppError {
            return try SignInPage.page(request: request, oidc: oidcSettings, next: nil, error: error.message, secure: secure, status: .forbidden)
        }
        let next = SignInPage.localPath(try await Self.form(request)["next"])
        let state = SurveyToken.generate().value
        let nonce = SurveyToken.generate().value
        // RFC 7636: 43 to 128 characters of [A-Za-z0-9-._~]; two base64url tokens give 86.
        let verifier = SurveyToken.generate().value + SurveyToken.generate().value
        let location: String
        do {
            location = try await oidc.authorizationURL(state: state, nonce: nonce, verifier: verifier)
        } catch {
            await audit(.oidc, false, error.reason, user: nil, request, context)
            return SignInPage.message(title: "Sign-in failed", error.message, error: true, status: .badGateway)
        }
        let now = Date()
        try await batcher.write { db in
            try SignInStore.saveState(
                db, stateHash: SurveyToken.hash(state), nonceHash: SurveyToken.hash(nonce), verifier: verifier, next: next, now: now)
        }
        var response = Self.redirect(location)
        response.setCookie(
            try Cookie.validated(
                name: Self.stateCookieName, value: state, maxAge: Int(SignInStore.stateLifetime), path: "/signin/oidc", secure: secure,
                httpOnly: true, sameSite: .lax))
        return response
    }

    /// The provider's redirect back. A GET, as OpenID Connect prescribes; what it changes (the state row is used up,
    /// a session starts) is bound to the browser's state cookie, so a link alone changes nothing.
    @Sendable func callback(request: Request, context: AppRequestContext) async throws -> Response {
        guard let oidc else { throw AppError.notFound("single sign-on is not configured on this server (HAPPYDESK_OIDC_ISSUER)").html() }
        let query = request.uri.queryParameters
        func refuse(_ reason: String, _ message: String, status: HTTPResponse.Status = .badRequest, user: Int64? = nil) async throws -> Response {
            await audit(.oidc, false, reason, user: user, request, context)
            var response = SignInPage.message(title: "Sign-in failed", message, error: true, status: status)
            response.setCookie(
                try Cookie.validated(
                    name: Self.stateCookieName, value: "", maxAge: 0, path: "/signin/oidc", secure: secure, httpOnly: true, sameSite: .lax))
            return response
        }
        if let error = query["error"].map(String.init) {
            return try await refuse(
                "provider_refused",
                "The sign-in provider did not sign you in (\(TextLimit.preview(error, 60))). Try again, or ask your administrator for access.")
        }
        guard let state = query["state"].map(String.init), SurveyToken.looksValid(state), let code = query["code"].map(String.init), !code.isEmpty,
            code.utf8.count <= 4096
        else {
            return try await refuse("bad_callback", "This sign-in link is incomplete (no state or code). Start again from the sign-in page.")
        }
        guard let cookie = request.cookies[Self.stateCookieName]?.value,
            SurveyToken.constantTimeEquals(Data(cookie.utf8), Data(state.utf8))
        else {
            return try await refuse(
                "state_mismatch", "This sign-in was started in another browser or has already been used. Start again from the sign-in page.")
        }
        let now = Date()
        let stateHash = SurveyToken.hash(state)
        guard let pending = try await batcher.write({ db in try SignInStore.takeState(db, stateHash: stateHash, now: now) }) else {
            return try await refuse(
                "state_unknown", "This sign-in has expired or was already used. Start again from the sign-in page.")
        }
        let claims: IDTokenClaims
        do {
            claims = try await oidc.signIn(code: code, verifier: pending.codeVerifier, nonceHash: pending.nonceHash, now: now)
        } catch {
            let status: HTTPResponse.Status = error.reason == "provider_unreachable" || error.reason == "provider_error" ? .badGateway : .forbidden
            return try await refuse(error.reason, error.message, status: status)
        }
        guard let email = claims.email, let address = try? EmailAddress.deliverable(email) else {
            return try await refuse(
                "no_email", "Your account at the sign-in provider has no email address. Ask your administrator.", status: .forbidden)
        }
        guard claims.emailVerified else {
            return try await refuse(
                "email_unverified", "Your email address is not verified at the sign-in provider. Verify it there, then sign in again.",
                status: .forbidden)
        }
        let granted = oidc.settings.role(groups: claims.groups)
        var match = try await users.signInUser(
            email: address, name: claims.name, actor: AuditActor(kind: .system, remote: remote(request, context)), now: now)
        if case .unknown = match, let granted {
            // A group claim designates managers and admins even before they appear on any closure.
            do {
                let (record, _) = try await users.add(
                    name: claims.name ?? address, email: address, role: granted, actor: AuditActor(kind: .system, remote: remote(request, context)),
                    now: now)
                match = .provisioned(AuthenticatedUser(id: record.id, name: record.name, email: address, role: granted))
            } catch let error as AppError where error.status.code < 500 {
                // The address belongs to an integration, or the provider's name for the person is unusable.
                return try await refuse(
                    "cannot_provision", "happydesk cannot add you from this sign-in (\(error.message)). Ask an administrator.", status: .forbidden)
            }
        }
        guard var user = Self.person(match) else {
            if case .revoked(let revoked) = match {
                return try await refuse(
                    "revoked", "Your happydesk access has been revoked. Ask an administrator.", status: .forbidden, user: revoked.id)
            }
            return try await refuse(
                "unknown_address",
                "You signed in at the provider, but happydesk does not know \(address) yet: an administrator must add you (happydesk users add).",
                status: .forbidden)
        }
        // Group claims decide manager and admin at each sign-in; without such a group, a manager or admin returns to analyst.
        let hasGroupsConfigured = !oidc.settings.managerGroups.isEmpty || !oidc.settings.adminGroups.isEmpty
        let role: AuthenticatedUser.Role? =
            granted ?? (hasGroupsConfigured && (user.role == .manager || user.role == .admin) ? .analyst : nil)
        if let role, role != user.role {
            try await users.setRole(id: user.id, role: role, actor: AuditActor(kind: .system, remote: remote(request, context)))
            user.role = role
        }
        let session = try await users.startSession(for: user, now: now)
        await audit(.oidc, true, Self.reason(match), user: user.id, request, context)
        var response = Self.redirect(pending.nextPath ?? user.role.landingPath)
        response.setCookie(try sessionCookie(session))
        response.setCookie(
            try Cookie.validated(
                name: Self.stateCookieName, value: "", maxAge: 0, path: "/signin/oidc", secure: secure, httpOnly: true, sameSite: .lax))
        return response
    }

    static func person(_ match: SignInMatch) -> AuthenticatedUser? {
        switch match {
        case .existing(let user), .provisioned(let user): user
        case .revoked, .unknown: nil
        }
    }

    static func reason(_ match: SignInMatch) -> String {
        if case .provisioned = match { return "provisioned" }
        return "signed_in"
    }

    // MARK: email links

    static let linkSent =
        "If this address may sign in to happydesk, a sign-in link is on its way. It works once, for 15 minutes. Check your inbox (and the spam folder)."

    @Sendable func requestLink(request: Request, context: AppRequestContext) async throws -> Response {
        do {
            try refuseForeignOrigin(request)
        } catch let error as AppError {
            return try SignInPage.page(request: request, oidc: oidcSettings, next: nil, error: error.message, secure: secure, status: .forbidden)
        }
        try perClient.acquire("address:" + remote(request, context), format: .html)
        let form = try await Self.form(request)
        let next = SignInPage.localPath(form["next"])
        let given = (form["email"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !given.isEmpty, let address = try? EmailAddress.deliverable(given) else {
            return try SignInPage.page(
                request: request, oidc: oidcSettings, next: next, error: "Enter your work email address, such as sam@example.com.", secure: secure,
                status: .badRequest)
        }
        let answer = try SignInPage.page(request: request, oidc: oidcSettings, next: next, notice: Self.linkSent, secure: secure)
        // Per address: past the limit nothing is sent, and the answer is the same, so the limit reveals nothing.
        do {
            try perAddress.acquire("email:" + SurveyToken.hash(address.lowercased()).base64EncodedString())
        } catch {
            await audit(.email, false, "link_rate_limited", user: nil, request, context)
            return answer
        }
        // Known and unknown addresses cost the same: both reads, then one batched write (the link, its email and
        // the audit row; or the audit row alone), so the answer's timing says no more than its text.
        let user = try await users.user(email: address)
        let assignee = try await users.writer.read { db in try InvitationStore.assignee(db, email: address) != nil }
        let known: Bool
        switch user {
        case .some((let user, false)) where AuthenticatedUser.Role.people.contains(user.role): known = true
        case .some: known = false
        case .none: known = assignee
        }
        guard known else {
            await audit(.email, false, "link_unknown_address", user: nil, request, context)
            return answer
        }
        let token = SurveyToken.generate()
        let vault = self.vault
        let channel: DeliveryChannel = settings.smtpURL?.isEmpty == false ? .email : .file
        let now = Date()
        let actor = AuditActor.anonymous(remote: remote(request, context))
        try await batcher.write { db in
            let linkID = try SignInStore.createLink(db, tokenHash: token.hash, email: address, next: next, now: now)
            try Outbox.enqueueSignIn(db, linkID: linkID, channel: channel, sealedToken: try vault.seal(token, signInLinkID: linkID), now: now)
            _ = try AuditLog.record(db, .signinSuccess, actor: actor, target: "email", details: ["method": "email", "reason": "link_sent"], at: now)
        }
        // Logged only: its audit row went in with the link.
        await SignInAudit.record(
            method: .email, success: true, reason: "link_sent", userID: nil, remoteAddress: actor.remote, audit: nil, logger: context.logger)
        return answer
    }

    static func linkRefusal(_ refusal: SignInStore.LinkRefusal) -> Response {
        switch refusal {
        case .unknown:
            SignInPage.message(
                title: "This sign-in link does not work",
                "This link is not valid: it may be incomplete or mistyped. Ask for a new one on the sign-in page.", error: true, status: .notFound)
        case .used:
            SignInPage.message(
                title: "This sign-in link was already used",
                "Each link signs in once. If that was not you, ask for a new link and tell your administrator.", error: true, status: .gone)
        case .expired:
            SignInPage.message(
                title: "This sign-in link has expired", "Links work for 15 minutes. Ask for a new one on the sign-in page.", error: true,
                status: .gone)
        }
    }

    /// Shows only a button: mail scanners follow links with GET, and must not use the link up.
    @Sendable func showLink(request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard SurveyToken.looksValid(token) else { return Self.linkRefusal(.unknown) }
        let hash = SurveyToken.hash(token)
        if let refusal = try await users.writer.read({ db in try SignInStore.peekLink(db, tokenHash: hash, now: Date()) }) {
            return Self.linkRefusal(refusal)
        }
        return SignInPage.message(
            title: "Sign in to happydesk", "Press the button to sign in on this device.", error: false, status: .ok,
            buttonAction: "/signin/link/\(token)")
    }

    @Sendable func useLink(request: Request, context: AppRequestContext) async throws -> Response {
        do {
            try refuseForeignOrigin(request)
        } catch let error as AppError {
            return SignInPage.message(title: "Sign-in refused", error.message, error: true, status: .forbidden)
        }
        let token = context.parameters.get("token") ?? ""
        guard SurveyToken.looksValid(token) else {
            await audit(.email, false, "link_unknown", user: nil, request, context)
            return Self.linkRefusal(.unknown)
        }
        let hash = SurveyToken.hash(token)
        let now = Date()
        let used = try await batcher.write { db in try SignInStore.useLink(db, tokenHash: hash, now: now) }
        let email: String
        let next: String?
        switch used {
        case .failure(let refusal):
            await audit(.email, false, "link_\(refusal.rawValue)", user: nil, request, context)
            return Self.linkRefusal(refusal)
        case .success(let link):
            (email, next) = (link.email, link.next)
        }
        let match = try await users.signInUser(email: email, name: nil, actor: AuditActor(kind: .system, remote: remote(request, context)), now: now)
        guard let user = Self.person(match) else {
            let revokedID: Int64? = if case .revoked(let user) = match { user.id } else { nil }
            await audit(.email, false, revokedID == nil ? "unknown_address" : "revoked", user: revokedID, request, context)
            return SignInPage.message(
                title: "Sign-in refused", "This address may not sign in to happydesk (any more). Ask an administrator.", error: true,
                status: .forbidden)
        }
        let session = try await users.startSession(for: user, now: now)
        await audit(.email, true, Self.reason(match), user: user.id, request, context)
        var response = Self.redirect(SignInPage.localPath(next) ?? user.role.landingPath)
        response.setCookie(try sessionCookie(session))
        return response
    }

    // MARK: signing out

    /// Ends the session; only our own pages may sign someone out (Origin, as every cookie write).
    @Sendable func signOut(request: Request, context: AppRequestContext) async throws -> Response {
        do {
            try users.origin.check(request)
        } catch let error as AppError {
            return SignInPage.message(title: "Sign-out refused", error.message, error: true, status: .forbidden)
        }
        if let session = request.cookies[AuthMiddleware.cookieName]?.value {
            let user = try await users.user(session: session)
            try await users.endSession(session)
            if let user, let audit {
                try await audit.record(.signout, actor: .user(user, remote: audit.remote(request, context)), target: "user:\(user.id)")
            }
        }
        var response = Self.redirect("/signin")
        response.setCookie(
            try Cookie.validated(name: AuthMiddleware.cookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax))
        return response
    }

    func sessionCookie(_ session: String) throws -> Cookie {
        try Cookie.validated(
            name: AuthMiddleware.cookieName, value: session, maxAge: Int(users.sessionLifetime), path: "/", secure: secure, httpOnly: true,
            sameSite: .lax)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}
