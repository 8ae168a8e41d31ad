import Crypto
import Foundation

/// Checks `X-Happydesk-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` in constant time.
///
/// The same scheme signs outgoing webhooks, so receivers can reuse one verifier.
public struct SignatureVerifier: Sendable {
    public static let header = "X-Happydesk-Signature"
    public let secret: SymmetricKey
    /// Signatures older (or further in the future) than this are rejected as replays.
    public let tolerance: TimeInterval

    public init(secret: String, tolerance: TimeInterval = 300) {
        self.secret = SymmetricKey(data: Data(secret.utf8))
        self.tolerance = tolerance
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missing
        case malformed
        case expired
        case mismatch

        public var description: String {
            switch self {
            case .missing: "missing X-Happydesk-Signature header"
            case .malformed: "X-Happydesk-Signature must look like t=<unix seconds>,v1=<hex HMAC-SHA256>"
            case .expired: "X-Happydesk-Signature timestamp is more than 5 minutes away from now"
            case .mismatch: "X-Happydesk-Signature does not match the body"
            }
        }
    }

    public func verify(header: String?, body: some DataProtocol, now: Date = Date()) throws(Failure) {
        guard let header, !header.isEmpty else { throw .missing }
        var timestamp: Int?
        var signatures: [Data] = []
        for part in header.split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "t": timestamp = Int(pair[1])
            case "v1": if let data = Data(hex: String(pair[1])), data.count == 32 { signatures.append(data) }
            default: continue
            }
        }
        guard let timestamp, !signatures.isEmpty else { throw .malformed }
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= tolerance else { throw .expired }
        var signed = Data("\(timestamp).".utf8)
        signed.append(contentsOf: body)
        // isValidAuthenticationCode compares in constant time.
        let valid = signatures.contains { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: secret) }
        guard valid else { throw .mismatch }
    }

    /// Verifies GitHub/Jira style `X-Hub-Signature: sha256=<hex>` (no timestamp) in constant time.
    public func verifyHub(header: String?, body: some DataProtocol) throws(Failure) {
        guard let header, !header.isEmpty else { throw .missing }
        guard header.hasPrefix("sha256="), let mac = Data(hex: String(header.dropFirst(7))), mac.count == 32 else { throw .malformed }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(body), using: secret) else { throw .mismatch }
    }

    /// Produces a header value for `body`, for outgoing webhooks and for tests.
    public func sign(body: some DataProtocol, now: Date = Date()) -> String {
        let timestamp = Int(now.timeIntervalSince1970)
        var signed = Data("\(timestamp).".utf8)
        signed.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: secret)
        return "t=\(timestamp),v1=\(Data(mac).hexString)"
    }
}
