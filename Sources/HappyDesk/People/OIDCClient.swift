import Crypto
import Curl
import Foundation
import Synchronization

/// `HAPPYDESK_OIDC_*`: the OpenID Connect provider people sign in with. Nil in `Settings` when not configured.
public struct OIDCSettings: Sendable, Equatable {
    /// `HAPPYDESK_OIDC_ISSUER`: the provider's issuer URL; discovery is read from `{issuer}/.well-known/openid-configuration`.
    public var issuer: String
    /// `HAPPYDESK_OIDC_CLIENT_ID`.
    public var clientID: String
    /// `HAPPYDESK_OIDC_CLIENT_SECRET`: sent only to the token endpoint, never logged.
    public var clientSecret: String
    /// `HAPPYDESK_OIDC_NAME`: the button's "Sign in with …" text.
    public var name: String
    /// `HAPPYDESK_OIDC_ROLES_CLAIM`: the ID token claim (a string array) holding the person's groups.
    public var rolesClaim: String
    /// `HAPPYDESK_OIDC_MANAGER_GROUPS` and `HAPPYDESK_OIDC_ADMIN_GROUPS`: groups that make a person a manager or an admin.
    public var managerGroups: [String]
    public var adminGroups: [String]

    public init(
        issuer: String, clientID: String, clientSecret: String, name: String = "single sign-on", rolesClaim: String = "groups",
        managerGroups: [String] = [], adminGroups: [String] = []
    ) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.name = name
        self.rolesClaim = rolesClaim
        self.managerGroups = managerGroups
        self.adminGroups = adminGroups
    }

    /// `a, b ,c` → `["a", "b", "c"]`.
    public static func groups(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The role the groups claim grants: admin over manager; nil when it grants neither (the user keeps or gets analyst).
    public func role(groups: [String]) -> AuthenticatedUser.Role? {
        if groups.contains(where: adminGroups.contains) { return .admin }
        if groups.contains(where: managerGroups.contains) { return .manager }
        return nil
    }
}

/// Why an OpenID Connect sign-in was refused: a short `reason` for the log and the audit trail, and a sentence
/// for the page that a person (or their administrator) can act on.
public struct OIDCFailure: Error, Sendable, Equatable {
    public var reason: String
    public var message: String

    public init(_ reason: String, _ message: String) {
        self.reason = reason
        self.message = message
    }
}

/// The claims of a verified ID token that sign-in uses.
public struct IDTokenClaims: Sendable, Equatable {
    public var subject: String
    public var email: String?
    public var emailVerified: Bool
    public var name: String?
    public var groups: [String]
}

/// The relying party: discovery, the authorization URL, the code exchange and the ID token's checks.
/// Every call to the provider goes through libcurl (`Curl`), on a small worker pool of its own.
public final class OIDCClient: Sendable {
    public struct Discovery: Sendable {
        public var issuer: String
        public var authorizationEndpoint: String
        public var tokenEndpoint: String
        public var jwksURI: String
        /// `client_secret_basic` unless the provider offers only `client_secret_post`.
        public var usesBasicAuth: Bool
    }

    public let settings: OIDCSettings
    public let redirectURI: String
    /// Seconds of clock difference allowed on `exp` and `iat`.
    public let leeway: TimeInterval = 60
    /// How long discovery is trusted before it is read again.
    let discoveryLifetime: TimeInterval = 3600
    /// An unknown `kid` refetches the key set at most this often, so forged tokens cannot make us hammer the provider.
    let keyRefetchInterval: TimeInterval

    private struct Cache {
        var discovery: (Discovery, Date)?
        var keys: JWKSet?
        /// The last refetch caused by an unknown kid: such refetches are what is rate-limited.
        var refreshedAt: Date?
    }
    private let cache = Mutex(Cache())

    /// One pool for the process: a thread pair that lives as long as the server.
    static let pool = CurlWorkerPool(size: 2, name: "happydesk-oidc")

    public init(settings: OIDCSettings, publicURL: String, keyRefetchInterval: TimeInterval = 10) {
        self.settings = settings
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        redirectURI = base + "/signin/oidc/callback"
        self.keyRefetchInterval = keyRefetchInterval
    }

    var issuer: String {
        var issuer = settings.issuer
        while issuer.hasSuffix("/") { issuer.removeLast() }
        return issuer
    }

    // MARK: provider calls

    func fetch(_ url: String) async throws(OIDCFailure) -> Data {
        let response: HTTPPostResponse
        do {
            response = try await Self.pool.run { curl in try curl.get(url, headers: [(name: "Accept", value: "application/json")]) }
        } catch {
            throw OIDCFailure(
                "provider_unreachable",
                "The sign-in provider could not be reached. Try again in a minute; if it keeps failing, tell your administrator.")
        }
        guard response.status == 200, !response.truncated else {
            throw OIDCFailure("provider_error", "The sign-in provider answered \(response.status) at \(Self.shown(url)). Tell your administrator.")
        }
        return Data(response.body)
    }

    public func discovery(now: Date = Date()) async throws(OIDCFailure) -> Discovery {
        if let (cached, at) = cache.withLock({ $0.discovery }), now.timeIntervalSince(at) < discoveryLifetime { return cached }
        let data = try await fetch(issuer + "/.well-known/openid-configuration")
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let documentIssuer = object["issuer"] as? String,
            let authorization = object["authorization_endpoint"] as? String, let token = object["token_endpoint"] as? String,
            let jwks = object["jwks_uri"] as? String
        else {
            throw OIDCFailure("bad_discovery", "The sign-in provider's configuration document is incomplete. Tell your administrator.")
        }
        // OpenID Connect Discovery §4.3: the issuer in the document must be the one we asked.
        guard documentIssuer == settings.issuer || documentIssuer == issuer else {
            throw OIDCFailure(
                "issuer_mismatch",
                "The sign-in provider says it is '\(documentIssuer)', not the configured HAPPYDESK_OIDC_ISSUER. Tell your administrator.")
        }
        let methods = object["token_endpoint_auth_methods_supported"] as? [String] ?? ["client_secret_basic"]
        let discovery = Discovery(
            issuer: documentIssuer, authorizationEndpoint: authorization, tokenEndpoint: token, jwksURI: jwks,
            usesBasicAuth: methods.contains("client_secret_basic") || !methods.contains("client_secret_post"))
        cache.withLock { $0.discovery = (discovery, now) }
        return discovery
    }

    func keys(_ discovery: Discovery, refresh: Bool, now: Date) async throws(OIDCFailure) -> JWKSet? {
        let (cached, refreshedAt) = cache.withLock { ($0.keys, $0.refreshedAt) }
        if let cached, !refresh { return cached }
        if refresh {
            if let refreshedAt, now.timeIntervalSince(refreshedAt) < keyRefetchInterval { return nil }
            cache.withLock { $0.refreshedAt = now }
        }
        let data = try await fetch(discovery.jwksURI)
        guard let set = try? JWKSet(json: data) else {
            throw OIDCFailure("bad_jwks", "The sign-in provider's key set could not be read. Tell your administrator.")
        }
        cache.withLock { $0.keys = set }
        return set
    }

    /// Where to send the browser: the authorization endpoint with the code flow, PKCE (S256), state and nonce.
    public func authorizationURL(state: String, nonce: String, verifier: String) async throws(OIDCFailure) -> String {
        let discovery = try await discovery()
        let challenge = JWS.base64URLEncode(Data(SHA256.hash(data: Data(verifier.utf8))))
        var scope = "openid email profile"
        if settings.rolesClaim == "groups" { scope += " groups" }
        let query: [(String, String)] = [
            ("response_type", "code"), ("client_id", settings.clientID), ("redirect_uri", redirectURI), ("scope", scope), ("state", state),
            ("nonce", nonce), ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ]
        let separator = discovery.authorizationEndpoint.contains("?") ? "&" : "?"
        return discovery.authorizationEndpoint + separator
            + query.map { CurlEasy.formEncode($0.0) + "=" + CurlEasy.formEncode($0.1) }.joined(separator: "&")
    }

    /// Trades the code for tokens at the token endpoint and returns the verified ID token's claims.
    public func signIn(code: String, verifier: String, nonceHash: Data, now: Date = Date()) async throws(OIDCFailure) -> IDTokenClaims {
        let discovery = try await discovery(now: now)
        var fields = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)]
        var headers: [(name: String, value: String)] = [(name: "Accept", value: "application/json")]
        if discovery.usesBasicAuth {
            // RFC 6749 §2.3.1: each part form-encoded before Basic's base64.
            let pair = CurlEasy.formEncode(settings.clientID) + ":" + CurlEasy.formEncode(settings.clientSecret)
            headers.append((name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString()))
        } else {
            fields += [("client_id", settings.clientID), ("client_secret", settings.clientSecret)]
        }
        let response: HTTPPostResponse
        do {
            let (endpoint, form, lines) = (discovery.tokenEndpoint, fields, headers)
            response = try await Self.pool.run { curl in try curl.postForm(endpoint, fields: form, headers: lines) }
        } catch {
            throw OIDCFailure(
                "provider_unreachable",
                "The sign-in provider could not be reached. Try again in a minute; if it keeps failing, tell your administrator.")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard response.status == 200, let idToken = object?["id_token"] as? String else {
            let code = (object?["error"] as? String).map { TextLimit.preview($0, 60) } ?? "HTTP \(response.status)"
            throw OIDCFailure(
                "token_exchange_failed",
                "The sign-in provider refused to complete the sign-in (\(code)). Start again from the sign-in page.")
        }
        return try await verify(idToken: idToken, discovery: discovery, nonceHash: nonceHash, now: now)
    }

    /// Signature against the JWKS (refetched once when the `kid` is new), then iss, aud, azp, exp, iat and nonce.
    func verify(idToken: String, discovery: Discovery, nonceHash: Data, now: Date) async throws(OIDCFailure) -> IDTokenClaims {
        let parsed: JWS.Parsed
        do {
            parsed = try JWS.parse(idToken)
        } catch {
            throw Self.refusal(error)
        }
        guard parsed.alg == "RS256" || parsed.alg == "ES256" else { throw Self.refusal(.algorithm(parsed.alg)) }
        let known = try await keys(discovery, refresh: false, now: now) ?? JWKSet(keys: [])
        do {
            try JWS.verify(parsed, keys: known)
        } catch .unknownKey(let kid) {
            // Key rotation: a new kid fetches the set again (at most every keyRefetchInterval) and is tried once more.
            guard let fresh = try await self.keys(discovery, refresh: true, now: now) else { throw Self.refusal(.unknownKey(kid)) }
            do { try JWS.verify(parsed, keys: fresh) } catch { throw Self.refusal(error) }
        } catch {
            throw Self.refusal(error)
        }
        guard let claims = (try? JSONSerialization.jsonObject(with: parsed.payload)) as? [String: Any] else {
            throw OIDCFailure("malformed_token", "The sign-in provider sent an unreadable ID token. Tell your administrator.")
        }
        guard let iss = claims["iss"] as? String, iss == discovery.issuer else {
            throw OIDCFailure("wrong_issuer", "The ID token was issued by someone other than the configured provider. Tell your administrator.")
        }
        let audiences: [String] = (claims["aud"] as? String).map { [$0] } ?? (claims["aud"] as? [String]) ?? []
        guard audiences.contains(settings.clientID) else {
            throw OIDCFailure("wrong_audience", "The ID token was meant for another application (wrong audience). Tell your administrator.")
        }
        if audiences.count > 1 || claims["azp"] != nil {
            guard claims["azp"] as? String == settings.clientID else {
                throw OIDCFailure("wrong_audience", "The ID token was issued to another application (azp). Tell your administrator.")
            }
        }
        guard let exp = Self.number(claims["exp"]), let iat = Self.number(claims["iat"]) else {
            throw OIDCFailure("malformed_token", "The ID token has no expiry or issue time. Tell your administrator.")
        }
        let time = now.timeIntervalSince1970
        guard exp + leeway > time else {
            throw OIDCFailure("token_expired", "The sign-in took too long or the clocks disagree (the ID token has expired). Sign in again.")
        }
        guard iat - leeway <= time else {
            throw OIDCFailure(
                "token_not_yet_valid",
                "The ID token was issued in the future: the server's or the provider's clock is wrong. Tell your administrator.")
        }
        guard let nonce = claims["nonce"] as? String, SurveyToken.constantTimeEquals(SurveyToken.hash(nonce), nonceHash) else {
            throw OIDCFailure(
                "wrong_nonce", "This sign-in does not match the one your browser started (wrong nonce). Start again from the sign-in page.")
        }
        guard let subject = claims["sub"] as? String else {
            throw OIDCFailure("malformed_token", "The ID token names no subject. Tell your administrator.")
        }
        // Entra ID sends no email_verified; its optional claim xms_edov (the tenant verified the email's domain) stands
        // in, from Entra's own issuer only: elsewhere a claim of that name might be mapped from a profile field.
        func isTrue(_ value: Any?) -> Bool { (value as? Bool) ?? ((value as? String) == "true") }
        let entra = URL(string: settings.issuer)?.host?.lowercased() == "login.microsoftonline.com"
        let verified = isTrue(claims["email_verified"]) || (entra && isTrue(claims["xms_edov"]))
        let groups = (claims[settings.rolesClaim] as? [Any])?.compactMap { $0 as? String } ?? []
        let name = (claims["name"] as? String) ?? (claims["preferred_username"] as? String)
        return IDTokenClaims(subject: subject, email: claims["email"] as? String, emailVerified: verified, name: name, groups: groups)
    }

    static func number(_ value: Any?) -> Double? {
        if let double = value as? Double { return double }
        if let int = value as? Int { return Double(int) }
        return nil
    }

    static func refusal(_ error: JWS.Failure) -> OIDCFailure {
        switch error {
        case .badSignature:
            OIDCFailure(
                "bad_signature",
                "The ID token's signature is not valid: it may have been tampered with. Sign in again; if it repeats, tell your administrator.")
        case .unknownKey: OIDCFailure("unknown_key", "The ID token is signed with a key the provider does not publish. Tell your administrator.")
        case .algorithm(let alg):
            OIDCFailure(
                "bad_algorithm",
                "The ID token is signed with '\(TextLimit.preview(alg, 20))', which is not accepted (only RS256 and ES256). Tell your administrator.")
        case .malformed: OIDCFailure("malformed_token", "The sign-in provider sent an unreadable ID token. Tell your administrator.")
        }
    }

    /// A URL for a message: scheme, host and path, never a query.
    static func shown(_ url: String) -> String {
        String(url.split(separator: "?").first ?? "").prefix(200).description
    }
}
