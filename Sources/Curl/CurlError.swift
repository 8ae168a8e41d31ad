/// A transfer that did not complete: curl's own error code and text (with the detail from
/// `CURLOPT_ERRORBUFFER` when there is one) and the last protocol status seen, if any.
public struct CurlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `CURLcode`, e.g. 7 for "Couldn't connect to server", 28 for a timeout.
    public var code: Int
    public var message: String
    /// The last SMTP reply code or HTTP status the server sent before the failure; nil when none.
    public var responseCode: Int?

    public init(code: Int, message: String, responseCode: Int? = nil) {
        self.code = code
        self.message = message
        self.responseCode = responseCode
    }

    public var description: String {
        if let responseCode, responseCode > 0 { return "curl error \(code): \(message) (server replied \(responseCode))" }
        return "curl error \(code): \(message)"
    }

    /// True for failures a later attempt cannot fix: a bad URL, an unsupported protocol, a refused login.
    public var isPermanent: Bool {
        switch code {
        case 1, 3, 4, 67: true  // unsupported protocol, malformed URL, not built in, login denied
        default: false
        }
    }
}
