import Foundation
import HTTPTypes
import Hummingbird

/// The sign-in form's CSRF token, a double submit: the same random value in a SameSite=Strict cookie and
/// in a hidden field of the form. Another site can make a browser post the form, but it can neither read
/// nor set our cookie, so it cannot send the matching field. This stops login CSRF (signing a victim in
/// as the attacker), which the session cookie's own SameSite does not, since there is no session yet.
public enum LoginCSRF {
    public static let cookieName = "happydesk_login_csrf"
    public static let fieldName = "csrf"

    /// The token already in the browser's cookie, when it has the right shape.
    public static func token(in request: Request) -> String? {
        guard let value = request.cookies[cookieName]?.value, SurveyToken.looksValid(value) else { return nil }
        return value
    }

    /// A fresh 256-bit value from the system CSPRNG.
    public static func issue() -> String { SurveyToken.generate().value }

    public static func cookie(_ token: String, secure: Bool) throws -> Cookie {
        try Cookie.validated(name: cookieName, value: token, path: "/analyst", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// Whether the form's field equals the cookie, compared in constant time.
    public static func matches(cookie: String?, field: String?) -> Bool {
        guard let cookie, let field, SurveyToken.looksValid(cookie) else { return false }
        let a = Array(cookie.utf8)
        let b = Array(field.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
