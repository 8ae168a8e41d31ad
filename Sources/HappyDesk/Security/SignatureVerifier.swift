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
        case hubMalformed
        case hubMismatch

        public var description: String {
            switch self {
            case .missing: "missing X-Happydesk-Signature header"
            case .malformed: "X-Happydesk-Signature must look like t=<unix seconds>,v1=<hex HMAC-SHA256>"
            case .expired: "X-Happydesk-Signature timestamp is more than 5 minutes away from now"
            case .mismatch: "X-Happydesk-Signature does not match the body"
            case .hubMalformed: "X-Hub-Signature must look like sha256=<hex HMAC-SHA256>"
            case .hubMismatch: "X-Hub-Signature does not match the body"
            }
        }
    }

    /// At most this many `v1=` candidates are compared (rotation needs two); more is a malformed header.
    static let maxSignatures = 8
    /// `t=` is whole seconds since 1970: 1 to 12 ASCII digits, so it can never overflow an `Int`.
    static let maxTimestampDigits = 12

    /// Parses the header on its UTF-8 bytes (any bytes, any length are safe) and checks it against `body`.
    /// The MAC is computed once and compared with each candidate in constant time.
    public func verify(header: String?, body: some DataProtocol, now: Date = Date()) throws(Failure) {
        guard let header, !header.isEmpty else { throw .missing }
        var timestamp: (text: Substring, seconds: Int)?
        var signatures: [Data] = []
        // Split on the bytes `,` and `=` (not on Characters, where `,` plus a combining mark is one
        // grapheme); both are ASCII, so every piece starts and ends on a scalar boundary.
        for part in header.utf8.split(separator: UInt8(ascii: ",")) {
            guard let equals = part.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = Self.trimmedASCIISpaces(Substring(part[..<equals]))
            let value = Self.trimmedASCIISpaces(Substring(part[part.index(after: equals)...]))
            if key.utf8.elementsEqual("t".utf8) {
                guard timestamp == nil, let seconds = Self.seconds(value) else { throw .malformed }
                timestamp = (value, seconds)
            } else if key.utf8.elementsEqual("v1".utf8) {
                guard let data = Data(hex: value), data.count == SHA256.byteCount else { continue }
                signatures.append(data)
                guard signatures.count <= Self.maxSignatures else { throw .malformed }
            }
        }
        guard let timestamp, !signatures.isEmpty else { throw .malformed }
        // Both sides are far inside Double's exact range (12 digits), so the difference cannot overflow.
        guard abs(now.timeIntervalSince1970 - Double(timestamp.seconds)) <= tolerance else { throw .expired }
        // The signed text uses the timestamp exactly as sent, as the sender signed it.
        var signed = Data(timestamp.text.utf8)
        signed.append(UInt8(ascii: "."))
        signed.append(contentsOf: body)
        let expected = HMAC<SHA256>.authenticationCode(for: signed, using: secret)
        // `==` on a MAC and bytes is swift-crypto's constant-time comparison; every candidate is compared.
        var valid = false
        for signature in signatures where expected == signature { valid = true }
        guard valid else { throw .mismatch }
    }

    /// Verifies GitHub/Jira style `X-Hub-Signature: sha256=<hex>` (no timestamp) in constant time.
    public func verifyHub(header: String?, body: some DataProtocol) throws(Failure) {
        guard let header, !header.isEmpty else { throw .missing }
        let utf8 = header.utf8
        let prefix = "sha256=".utf8
        guard utf8.starts(with: prefix) else { throw .hubMalformed }
        // Dropping bytes, not characters: `sha256=` followed by a combining mark is still one grapheme.
        let hex = Substring(utf8.dropFirst(prefix.count))
        guard let mac = Data(hex: Self.trimmedASCIISpaces(hex)), mac.count == SHA256.byteCount else { throw .hubMalformed }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(body), using: secret) else { throw .hubMismatch }
    }

    /// 1 to `maxTimestampDigits` ASCII digits as seconds; nil for a sign, a space, any other byte, or too many digits.
    static func seconds(_ text: Substring) -> Int? {
        guard (1...maxTimestampDigits).contains(text.utf8.count) else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte &- UInt8(ascii: "0"))
        }
        return value
    }

    /// `text` without leading and trailing ASCII spaces and tabs, cut on byte positions.
    static func trimmedASCIISpaces(_ text: Substring) -> Substring {
        let utf8 = text.utf8
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else {
            return text[text.endIndex...]
        }
        return Substring(utf8[first...last])
    }

    /// Produces an `X-Hub-Signature` value for `body` as Jira's webhook secret signs it, for tests and tools.
    public func hubSignature(body: some DataProtocol) -> String {
        "sha256=" + Data(HMAC<SHA256>.authenticationCode(for: Data(body), using: secret)).hexString
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
