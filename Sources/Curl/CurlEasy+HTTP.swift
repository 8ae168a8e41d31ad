import CCurl

extension CurlEasy {
    /// Posts `request.body`; any HTTP status comes back as a response (the caller decides what a 500
    /// means), while connection, TLS and timeout failures throw `CurlError`.
    public func post(_ request: HTTPPostRequest) throws(CurlError) -> HTTPPostResponse {
        for header in request.headers where !Self.isSafeHeader(header.name, header.value) {
            throw CurlError(
                code: Int(CURLE_BAD_FUNCTION_ARGUMENT.rawValue), message: "header \(header.name.debugDescription) contains a line break or a bad name"
            )
        }
        reset()
        set(CURLOPT_URL, request.url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000))
        set(CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
        if let ca = request.caFile { set(CURLOPT_CAINFO, ca) }
        set(CURLOPT_POST, 1)
        _ = hd_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        request.body.withUnsafeBufferPointer { bytes in
            // COPYPOSTFIELDS copies the body, so it need not outlive this closure.
            _ = hd_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
        // An empty Expect stops curl waiting for "100 Continue" on larger bodies.
        let headers = CurlStringList(request.headers.map { "\($0.name): \($0.value)" } + ["Expect:"])
        set(CURLOPT_HTTPHEADER, headers)
        let sink = ResponseSink(limit: request.maxResponseBytes)
        _ = hd_curl_setopt_write_function(handle, ResponseSink.writeCallback)
        _ = hd_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
        let failure = withExtendedLifetime((headers, sink)) { perform() }
        _ = hd_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
        _ = hd_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, nil)
        if let failure { throw failure }
        var retryAfter: curl_off_t = 0
        let hasRetryAfter = hd_curl_getinfo_offset(handle, CURLINFO_RETRY_AFTER, &retryAfter) == CURLE_OK && retryAfter > 0
        return HTTPPostResponse(
            status: responseCode, body: sink.bytes, truncated: sink.truncated, retryAfter: hasRetryAfter ? Int(retryAfter) : nil)
    }

    /// Fetches `url` with GET; like `post`, any HTTP status is a response and transport failures throw.
    /// Redirects are never followed (a discovery document or key set that moves is a configuration error).
    public func get(
        _ url: String, headers: [(name: String, value: String)] = [], connectTimeout: Double = 5, timeout: Double = 15,
        maxResponseBytes: Int = 262_144, caFile: String? = nil
    ) throws(CurlError) -> HTTPPostResponse {
        for header in headers where !Self.isSafeHeader(header.name, header.value) {
            throw CurlError(
                code: Int(CURLE_BAD_FUNCTION_ARGUMENT.rawValue), message: "header \(header.name.debugDescription) contains a line break or a bad name"
            )
        }
        reset()
        set(CURLOPT_URL, url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        set(CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        if let caFile { set(CURLOPT_CAINFO, caFile) }
        set(CURLOPT_HTTPGET, 1)
        let list = CurlStringList(headers.map { "\($0.name): \($0.value)" })
        set(CURLOPT_HTTPHEADER, list)
        let sink = ResponseSink(limit: maxResponseBytes)
        _ = hd_curl_setopt_write_function(handle, ResponseSink.writeCallback)
        _ = hd_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
        let failure = withExtendedLifetime((list, sink)) { perform() }
        _ = hd_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
        _ = hd_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, nil)
        if let failure { throw failure }
        return HTTPPostResponse(status: responseCode, body: sink.bytes, truncated: sink.truncated)
    }

    /// Posts an `application/x-www-form-urlencoded` body built from `fields` (each name and value percent-encoded).
    public func postForm(
        _ url: String, fields: [(String, String)], headers: [(name: String, value: String)] = [], connectTimeout: Double = 5,
        timeout: Double = 15, maxResponseBytes: Int = 262_144, caFile: String? = nil
    ) throws(CurlError) -> HTTPPostResponse {
        let body = fields.map { Self.formEncode($0.0) + "=" + Self.formEncode($0.1) }.joined(separator: "&")
        return try post(
            HTTPPostRequest(
                url: url, headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded")] + headers, body: Array(body.utf8),
                connectTimeout: connectTimeout, timeout: timeout, maxResponseBytes: maxResponseBytes, caFile: caFile))
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters, as form bodies and Basic credentials need.
    public static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded
            }
        }
        return out
    }

    static func isSafeHeader(_ name: String, _ value: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
            && !value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }
}

extension String {
    fileprivate var leftPadded: String { count == 1 ? "0" + self : self }
}
