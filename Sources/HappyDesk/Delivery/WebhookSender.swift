import Curl
import Foundation

/// Posts JSON through libcurl, signed `X-Happydesk-Signature: t=…,v1=…` with the same scheme the
/// intake verifies, plus an `Idempotency-Key` that stays the same across retries of one row.
public struct WebhookSender: Sendable {
    public let pool: CurlWorkerPool
    public let signer: SignatureVerifier?
    public let connectTimeout: Double
    public let timeout: Double
    public let caFile: String?
    /// Response bytes kept for the attempt record.
    public var maxResponseBytes = 4096

    public init(pool: CurlWorkerPool, secret: String?, connectTimeout: Double, timeout: Double, caFile: String? = nil) {
        self.pool = pool
        self.signer = secret.flatMap { $0.isEmpty ? nil : SignatureVerifier(secret: $0) }
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.caFile = caFile
    }

    public func post(url: String, body: Data, idempotencyKey: String, now: Date = Date()) async -> AttemptResult {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
            return .permanent("webhook URL must be http(s): \(url.debugDescription)")
        }
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("User-Agent", "happydesk"),
            ("Idempotency-Key", idempotencyKey),
        ]
        if let signer { headers.append((SignatureVerifier.header, signer.sign(body: body, now: now))) }
        let request = HTTPPostRequest(
            url: url, headers: headers, body: Array(body), connectTimeout: connectTimeout, timeout: timeout,
            maxResponseBytes: maxResponseBytes, caFile: caFile
        )
        do {
            let response = try await pool.run { curl in try curl.post(request) }
            return .httpStatus(
                response.status, body: String(decoding: response.body, as: UTF8.self), retryAfter: response.retryAfter.map(Double.init))
        } catch let error as CurlError {
            return .httpFailure(error)
        } catch {
            return AttemptResult(kind: .transient, statusCode: nil, curlCode: nil, detail: "\(error)")
        }
    }
}
