import CCurl

/// libcurl's process-wide set-up. `curl_global_init` is not thread-safe and must run once before any
/// handle exists, so every handle goes through `ensureInitialized()`, backed by a lazy global.
public enum CurlRuntime {
    private static let initResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    /// Initialises libcurl once; a failure here means no transfer can ever work.
    public static func ensureInitialized() throws(CurlError) {
        let code = initResult
        guard code == CURLE_OK else {
            throw CurlError(code: Int(code.rawValue), message: "curl_global_init failed: \(String(cString: curl_easy_strerror(code)))")
        }
    }

    /// The libcurl version string, e.g. `libcurl/7.88.1 OpenSSL/3.0.15 …`.
    public static var version: String { String(cString: curl_version()) }
}
