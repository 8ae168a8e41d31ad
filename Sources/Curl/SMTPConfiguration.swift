/// Where and how to submit mail. Plain data: the mail content itself is `SMTPEnvelope`.
public struct SMTPConfiguration: Sendable, Equatable {
    /// How TLS is negotiated on an `smtp://` URL; `smtps://` is always TLS from the first byte.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Refuse to send unless the server accepts STARTTLS (`CURLUSESSL_ALL`).
        case required
        /// Use STARTTLS when offered, else send in clear (`CURLUSESSL_TRY`).
        case opportunistic
        /// Never upgrade (`CURLUSESSL_NONE`); for a relay on loopback.
        case off
    }

    /// `smtp://host:port` or `smtps://host:port`.
    public var url: String
    public var tls: TLSMode
    public var username: String?
    public var password: String?
    /// PEM bundle of CAs to trust instead of the system store, e.g. for an internal relay.
    public var caFile: String?
    public var connectTimeout: Double
    /// Whole transfer, including the server's final reply.
    public var timeout: Double

    public init(
        url: String, tls: TLSMode = .opportunistic, username: String? = nil, password: String? = nil, caFile: String? = nil,
        connectTimeout: Double = 10, timeout: Double = 30
    ) {
        self.url = url
        self.tls = tls
        self.username = username
        self.password = password
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }
}

/// One message to submit: the SMTP envelope plus the complete RFC 5322 text (CRLF line endings).
public struct SMTPEnvelope: Sendable {
    public var from: String
    public var recipients: [String]
    public var message: [UInt8]

    public init(from: String, recipients: [String], message: [UInt8]) {
        self.from = from
        self.recipients = recipients
        self.message = message
    }
}
