/// A JSON (or any) POST with bounded time and response size; redirects are never followed.
public struct HTTPPostRequest: Sendable {
    public var url: String
    /// Header lines as name/value pairs; names and values are checked for CR/LF before sending.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var connectTimeout: Double
    public var timeout: Double
    /// Bytes of the response body kept; the rest is read and dropped.
    public var maxResponseBytes: Int
    public var caFile: String?

    public init(
        url: String, headers: [(name: String, value: String)] = [], body: [UInt8], connectTimeout: Double = 5, timeout: Double = 15,
        maxResponseBytes: Int = 16_384, caFile: String? = nil
    ) {
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.caFile = caFile
    }
}

public struct HTTPPostResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// True when the server sent more than `maxResponseBytes`.
    public var truncated: Bool
    /// The server's `Retry-After` in seconds from now (libcurl parses both seconds and an HTTP-date), when sent.
    public var retryAfter: Int?

    public init(status: Int, body: [UInt8], truncated: Bool, retryAfter: Int? = nil) {
        self.status = status
        self.body = body
        self.truncated = truncated
        self.retryAfter = retryAfter
    }
}
