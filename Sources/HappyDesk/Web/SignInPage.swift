import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The sign-in page (`GET /signin`, and `/analyst` when signed out), the pages that tell how a sign-in went,
/// and the header every signed-in page carries. All user text goes through Mustache's `{{…}}` escaping.
public enum SignInPage {
    /// The header of every signed-in page: the person's name, the pages their role opens, and "Sign out".
    /// The dashboard link is shown by `Role.seesDashboard`, the same property the dashboard's guard uses.
    public static func header(_ user: AuthenticatedUser) -> String {
        render(["name": user.name, "role": user.role.rawValue, "dashboard": user.role.seesDashboard], "header")
    }

    static let style = """
        .hd-bar{display:flex;align-items:center;gap:1rem;flex-wrap:wrap;background:#14294a;color:#fff;padding:.45rem 1rem;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        .hd-bar a{color:#fff}.hd-bar .hd-who{font-weight:600;flex:1}.hd-bar form{margin:0;display:inline;background:none;box-shadow:none;padding:0}
        .hd-bar button{font:inherit;background:#e8edf4;color:#1d2430;border:0;border-radius:.4rem;padding:.25rem .8rem;cursor:pointer}
        """

    static let headerTemplate = """
        <nav class="hd-bar" id="hd-header" aria-label="happydesk"><style>\(style)</style>
        <span class="hd-who" id="hd-name">{{name}}</span>
        <a href="/analyst" id="hd-analyst">Analyst page</a>
        {{#dashboard}}<a href="/dashboard" id="hd-dashboard">Dashboard</a>{{/dashboard}}
        <form method="post" action="/signout"><button type="submit" id="signout">Sign out</button></form>
        </nav>
        """

    static let signInTemplate = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="robots" content="noindex"><meta name="referrer" content="same-origin"><title>Sign in · happydesk</title>
        <style>\(Templates.style)
        .stack form{margin:0 0 1rem}.stack input[type=email],.stack input[type=password]{width:100%;font:inherit;padding:.55rem;border:1px solid #c5ccd6;border-radius:.4rem;margin:.3rem 0 .6rem}
        .sso{width:100%;font-size:1.05rem}details{background:#fff;border-radius:.75rem;padding:.8rem 1rem;box-shadow:0 1px 3px #0002}summary{cursor:pointer;color:#5a6472}
        .or{text-align:center;color:#5a6472;margin:.5rem 0 1rem}
        </style></head>
        <body><main class="stack"><h1>Sign in to happydesk</h1>
        {{#error}}<p class="error" role="alert" id="signin-error">{{error}}</p>{{/error}}
        {{#notice}}<p class="notice" role="status" id="signin-notice">{{notice}}</p>{{/notice}}
        {{#oidc}}<form method="post" action="/signin/oidc" id="oidc-form"><input type="hidden" name="next" value="{{next}}">
        <button type="submit" class="sso" id="signin-oidc">Sign in with {{oidc}}</button></form>
        <p class="or">or</p>{{/oidc}}
        <form method="post" action="/signin/email" id="email-form"><input type="hidden" name="next" value="{{next}}">
        <label class="q" for="email">Your work email</label>
        <input type="email" id="email" name="email" autocomplete="email" required maxlength="320">
        <button type="submit" id="signin-email">Email me a sign-in link</button>
        <p class="hint">We send a link that signs you in once, within 15 minutes.</p></form>
        <details id="token-signin"><summary>Sign in with an API token</summary>
        <form method="post" action="/analyst/login" id="login"><input type="hidden" name="next" value="{{next}}">
        <label for="token">Your API token (from <code>happydesk users add</code>)</label>
        <input type="password" id="token" name="token" autocomplete="off" required>
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" id="signin">Sign in</button></form>
        <p class="hint">Scripts send the token as <code>Authorization: Bearer</code> instead.</p></details>
        </main></body></html>
        """

    /// A page after an email-link or sign-in outcome: a title, a sentence, and the way on.
    static let messageTemplate = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="robots" content="noindex"><meta name="referrer" content="same-origin"><title>{{title}} · happydesk</title><style>\(Templates.style)</style></head>
        <body>{{{header}}}<main><h1>{{title}}</h1>
        {{#error}}<p class="error" role="alert" id="signin-error">{{message}}</p>{{/error}}
        {{^error}}<p class="notice" role="status" id="signin-notice">{{message}}</p>{{/error}}
        {{#button}}<form method="post" action="{{action}}"><button type="submit" id="signin-link">Sign in</button></form>{{/button}}
        {{#again}}<p><a href="/signin" id="signin-again">Back to the sign-in page</a></p>{{/again}}
        </main></body></html>
        """

    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [("header", headerTemplate), ("signin", signInTemplate), ("message", messageTemplate)] {
            do { try library.register(text, named: name) } catch { preconditionFailure("template \(name): \(error)") }
        }
        return library
    }()

    static func render(_ object: Any, _ name: String) -> String { library.render(object, withTemplate: name) ?? "" }

    /// The sign-in page with its API-token form's CSRF token (`LoginCSRF`), set as a cookie when the browser has none.
    static func page(
        request: Request, oidc: OIDCSettings?, next: String?, error: String? = nil, notice: String? = nil, secure: Bool,
        status: HTTPResponse.Status = .ok
    ) throws -> Response {
        let existing = LoginCSRF.token(in: request)
        let csrf = existing ?? LoginCSRF.issue()
        var context: [String: Any] = ["csrf": csrf, "next": next ?? ""]
        if let oidc { context["oidc"] = oidc.name }
        if let error { context["error"] = error }
        if let notice { context["notice"] = notice }
        var headers = AnalystPage.headers
        if let provider = oidc.flatMap({ OriginPolicy.origin(of: $0.issuer) }) {
            // The provider button's POST is redirected to the provider: CSP's form-action covers that redirect.
            headers[.contentSecurityPolicy] = headers[.contentSecurityPolicy]?.replacingOccurrences(
                of: "form-action 'self'", with: "form-action 'self' \(provider)")
        }
        var response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: render(context, "signin"))))
        if existing == nil { response.setCookie(try LoginCSRF.cookie(csrf, secure: secure)) }
        return response
    }

    /// An outcome page: `error` pages say what went wrong and link back to `/signin`.
    static func message(
        title: String, _ message: String, error: Bool, status: HTTPResponse.Status, buttonAction: String? = nil, user: AuthenticatedUser? = nil
    ) -> Response {
        var context: [String: Any] = ["title": title, "message": message, "error": error, "again": error]
        if let buttonAction {
            context["button"] = true
            context["action"] = buttonAction
        }
        if let user { context["header"] = header(user) }
        var headers = AnalystPage.headers
        // `same-origin`, not `no-referrer`: the link page's "Sign in" button posts to this server, and under
        // `no-referrer` browsers send `Origin: null`, which the Origin check refuses. The token in the URL still
        // never leaves for another site.
        headers[.referrerPolicy] = "same-origin"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: render(context, "message"))))
    }

    /// `next` when it is a path on this server (`/analyst`, `/dashboard?from=…`), else nil: never a way to
    /// send someone to another site (`//evil`, `/\\evil`, `https://…`, control characters).
    public static func localPath(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/"), next.utf8.count <= 512 else { return nil }
        let second = next.dropFirst().first
        if second == "/" || second == "\\" { return nil }
        guard !next.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0 == "\\" }) else { return nil }
        return next
    }
}
