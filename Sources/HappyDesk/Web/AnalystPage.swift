import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// `GET /analyst`: the analyst's live feed, one self-contained HTML page (inline CSS and JS, no
/// external assets). Signed out, it is a login form; signed in, the script opens the stream.
public struct AnalystPage: Sendable {
    public let users: UserStore
    public let catalog: SurveyCatalog
    /// The OpenID Connect button's text on the sign-in page shown when signed out; nil without single sign-on.
    public let oidc: OIDCSettings?

    public init(users: UserStore, catalog: SurveyCatalog, oidc: OIDCSettings? = nil) {
        self.users = users
        self.catalog = catalog
        self.oidc = oidc
    }

    public func register(on router: Router<AppRequestContext>) {
        router.group("/analyst").add(middleware: AuthMiddleware(users: users, required: false)).get(use: show)
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        guard let user = context.user, AuthenticatedUser.Role.people.contains(user.role) else {
            // Old links to /analyst keep working: signed out, they show the sign-in page, which comes back here.
            return try SignInPage.page(request: request, oidc: oidc, next: "/analyst", secure: users.origin.secureCookies)
        }
        return Self.response(Self.app(user: user, labels: factorLabels()))
    }

    /// Factor and lost-time labels by id, so the feed shows words rather than ids.
    func factorLabels() -> String {
        var labels: [String: String] = [:]
        for survey in catalog.surveys.values.sorted(by: { $0.id < $1.id }) {
            for band in ScoreBand.allCases {
                for factor in survey.factors(for: band) where labels[factor.id] == nil {
                    labels[factor.id] = factor.label.text(survey.defaultLocale)
                }
            }
            for bucket in survey.lostTime?.buckets ?? [] where labels["lost:" + bucket.id] == nil {
                labels["lost:" + bucket.id] = bucket.label.text(survey.defaultLocale)
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: labels, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static let template: MustacheTemplate = {
        do { return try MustacheTemplate(string: AnalystPageTemplate.html) } catch { preconditionFailure("analyst template: \(error)") }
    }()

    /// The sign-in page with an error, for the API-token form's refusals.
    static func loginPage(
        error: String?, request: Request, secure: Bool, oidc: OIDCSettings? = nil, next: String? = nil, status: HTTPResponse.Status = .ok
    ) throws -> Response {
        try SignInPage.page(request: request, oidc: oidc, next: next, error: error, secure: secure, status: status)
    }

    static func app(user: AuthenticatedUser, labels: String) -> String {
        template.render([
            "signedIn": true, "header": SignInPage.header(user), "name": user.name, "role": user.role.rawValue, "manager": user.givesKudos,
            "labels": labels,
        ])
    }

    /// Like the survey pages' headers, plus `connect-src 'self'` for the stream's fetch and WebSocket calls.
    static var headers: HTTPFields {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .xContentTypeOptions: "nosniff",
            .contentSecurityPolicy:
                "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ]
        if let referrer = HTTPField.Name("Referrer-Policy") { headers[referrer] = "same-origin" }
        return headers
    }

    static func response(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}
