import Curl

/// What one send attempt came to, as recorded in `delivery_attempts`.
public struct AttemptResult: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case sent
        /// Worth trying again later: connection refused, timeout, TLS handshake, 4xx SMTP, HTTP 5xx/429.
        case transient
        /// Will fail the same way every time: 5xx SMTP (e.g. unknown recipient), invalid address, HTTP 4xx.
        case permanent
        /// Not sent on purpose (the invitation was answered or expired first); no attempt is counted.
        case cancelled
        /// The receiver asked us to wait (SMTP 421, 450, 451, 452; HTTP 429): tried again later, after
        /// `retryAfter` when it said how long, without counting towards the attempts that dead-letter.
        case deferred
    }

    public var kind: Kind
    /// The SMTP reply code or HTTP status, when the server answered.
    public var statusCode: Int?
    /// libcurl's CURLcode for transport failures.
    public var curlCode: Int?
    public var detail: String
    /// Seconds the receiver asked us to wait (HTTP `Retry-After`), when it said.
    public var retryAfter: Double?

    public static func sent(status: Int?, _ detail: String) -> AttemptResult {
        AttemptResult(kind: .sent, statusCode: status, curlCode: nil, detail: detail)
    }

    public static func permanent(_ detail: String, status: Int? = nil) -> AttemptResult {
        AttemptResult(kind: .permanent, statusCode: status, curlCode: nil, detail: detail)
    }

    public static func cancelled(_ detail: String) -> AttemptResult {
        AttemptResult(kind: .cancelled, statusCode: nil, curlCode: nil, detail: detail)
    }

    /// SMTP replies that mean "not now" rather than "not this message": the relay is busy or throttling.
    public static let smtpDeferralCodes: Set<Int> = [421, 450, 451, 452]
    /// Of those, the ones that say the relay is throttling everyone: the whole SMTP channel pauses.
    public static let smtpChannelPauseCodes: Set<Int> = [421, 451]

    /// Whether this result should pause the whole SMTP channel, not only its own row.
    public var pausesSMTPChannel: Bool { kind == .deferred && statusCode.map(Self.smtpChannelPauseCodes.contains) == true }

    /// Classifies a failed SMTP transfer: 421/450/451/452 defer, another 5xx reply is final, anything else may pass later.
    public static func smtpFailure(_ error: CurlError) -> AttemptResult {
        if let code = error.responseCode, smtpDeferralCodes.contains(code), !error.isPermanent {
            return AttemptResult(kind: .deferred, statusCode: code, curlCode: error.code, detail: "deferred by the relay: \(error.description)")
        }
        let final = error.isPermanent || (error.responseCode.map { (500...599).contains($0) } ?? false)
        return AttemptResult(kind: final ? .permanent : .transient, statusCode: error.responseCode, curlCode: error.code, detail: error.description)
    }

    /// Transport failures of a webhook POST are always worth retrying unless the URL itself is bad.
    public static func httpFailure(_ error: CurlError) -> AttemptResult {
        AttemptResult(
            kind: error.isPermanent ? .permanent : .transient, statusCode: error.responseCode, curlCode: error.code,
            detail: Redaction.text(error.description))
    }

    /// 2xx is delivered; 408, 425, 429 and 5xx are retried; other statuses (incl. redirects, which are never followed) are final.
    ///
    /// The receiver's reply is stored (in `last_error` and the attempt) with survey tokens and anything
    /// token-shaped redacted: receivers often echo the request body, and that body carries the survey link.
    public static func httpStatus(_ status: Int, body: String, retryAfter: Double? = nil) -> AttemptResult {
        let redacted = Redaction.text(body)
        let snippet = redacted.count > 200 ? String(redacted.prefix(200)) + "…" : redacted
        let detail = snippet.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(MIMEEncoding.singleLine(snippet))"
        switch status {
        case 200...299: return .sent(status: status, detail)
        case 429:
            var result = AttemptResult(kind: .deferred, statusCode: status, curlCode: nil, detail: "deferred by the receiver: \(detail)")
            result.retryAfter = retryAfter
            return result
        case 408, 425, 500...599: return AttemptResult(kind: .transient, statusCode: status, curlCode: nil, detail: detail)
        default: return AttemptResult(kind: .permanent, statusCode: status, curlCode: nil, detail: detail)
        }
    }
}
