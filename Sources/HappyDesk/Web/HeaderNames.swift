import HTTPTypes

extension HTTPField.Name {
    /// Header names the app sets or reads that `HTTPTypes` does not predefine. Each is a constant, valid
    /// token, so the failable initialiser cannot fail at run time.
    static let referrerPolicy = named("Referrer-Policy")
    static let contentTypeOptions = named("X-Content-Type-Options")
    static let contentSecurityPolicyHeader = named("Content-Security-Policy")
    static let happydeskSignature = named("X-Happydesk-Signature")
    static let hubSignature = named("X-Hub-Signature")
    static let xForwardedFor = named("X-Forwarded-For")

    private static func named(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("'\(name)' is not a valid header name") }
        return field
    }
}
