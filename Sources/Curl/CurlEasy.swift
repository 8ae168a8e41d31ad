import CCurl

/// One libcurl easy handle. Not `Sendable`: a handle must be used on one thread at a time, which
/// `CurlWorkerPool` guarantees by giving each worker thread its own handle.
///
/// The handle is reused between transfers (options are reset, live connections and TLS sessions are
/// kept), so consecutive sends to the same server skip the TCP and TLS handshakes.
public final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// curl writes its detailed error text here (`CURLOPT_ERRORBUFFER`).
    private let errorBuffer: UnsafeMutablePointer<CChar>

    public init() throws(CurlError) {
        try CurlRuntime.ensureInitialized()
        guard let handle = curl_easy_init() else {
            throw CurlError(code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init returned no handle")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Clears every option from the previous transfer but keeps the connection cache.
    func reset() {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        set(CURLOPT_NOSIGNAL, 1)
        _ = hd_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: Int) -> CURLcode {
        hd_curl_setopt_long(handle, option, value)
    }

    /// libcurl copies string options (since 7.17), so the Swift string need not outlive the call.
    @discardableResult
    func set(_ option: CURLoption, _ value: String) -> CURLcode {
        value.withCString { hd_curl_setopt_string(handle, option, $0) }
    }

    func set(_ option: CURLoption, _ list: CurlStringList) {
        _ = hd_curl_setopt_slist(handle, option, list.head)
    }

    /// Runs the configured transfer; on failure returns curl's text, preferring the error buffer's detail.
    func perform() -> CurlError? {
        let code = curl_easy_perform(handle)
        guard code != CURLE_OK else { return nil }
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let status = responseCode
        return CurlError(code: Int(code.rawValue), message: message, responseCode: status > 0 ? status : nil)
    }

    /// The last SMTP reply code or HTTP status.
    var responseCode: Int {
        var code = 0
        _ = hd_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// How many new connections the last transfer opened (0 when it reused one).
    public var lastConnectCount: Int {
        var count = 0
        _ = hd_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &count)
        return count
    }
}

/// A `curl_slist` owned by Swift; freed when the value goes away, so callers keep it alive with
/// `withExtendedLifetime` until the transfer using it returns.
final class CurlStringList {
    private(set) var head: UnsafeMutablePointer<curl_slist>?

    init(_ values: [String]) {
        for value in values {
            head = curl_slist_append(head, value)
        }
    }

    deinit { curl_slist_free_all(head) }
}

/// Bytes libcurl reads for an upload, through a non-capturing C callback and an `Unmanaged` pointer.
final class UploadSource {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static let readCallback: hd_curl_data_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let source = Unmanaged<UploadSource>.fromOpaque(context).takeUnretainedValue()
        let room = size * count
        let chunk = min(room, source.bytes.count - source.offset)
        guard chunk > 0 else { return 0 }
        source.bytes.withUnsafeBufferPointer { all in
            if let base = all.baseAddress {
                UnsafeMutableRawPointer(buffer).copyMemory(from: base + source.offset, byteCount: chunk)
            }
        }
        source.offset += chunk
        return chunk
    }
}

/// Collects a response body up to a limit; bytes past it are counted and dropped, never buffered.
final class ResponseSink {
    let limit: Int
    var bytes: [UInt8] = []
    var truncated = false

    init(limit: Int) { self.limit = limit }

    static let writeCallback: hd_curl_data_callback = { buffer, size, count, context in
        let total = size * count
        guard let buffer, let context else { return total }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        let keep = min(total, max(0, sink.limit - sink.bytes.count))
        if keep > 0 {
            buffer.withMemoryRebound(to: UInt8.self, capacity: keep) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: keep)) }
        }
        if keep < total { sink.truncated = true }
        return total
    }
}
