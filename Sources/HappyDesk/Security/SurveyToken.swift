import Crypto
import Foundation

/// The unguessable secret in a survey link: 32 bytes (256 bits) from the system CSPRNG, base64url.
///
/// Only `hash` (SHA-256) is stored; the clear token exists in the link and, sealed, in the outbox.
public struct SurveyToken: Sendable, Hashable {
    public let value: String

    public init(value: String) { self.value = value }

    /// `SystemRandomNumberGenerator` reads getrandom(2) on Linux: a CSPRNG. Four 64-bit draws make the
    /// 256 bits (one draw per byte cost 32 system calls, inside the intake's write transaction).
    public static func generate() -> SurveyToken {
        var generator = SystemRandomNumberGenerator()
        var bytes = Data(capacity: 32)
        for _ in 0..<4 {
            withUnsafeBytes(of: generator.next().littleEndian) { bytes.append(contentsOf: $0) }
        }
        return SurveyToken(value: bytes.base64URLEncodedString())
    }

    public var hash: Data { Self.hash(value) }

    public static func hash(_ value: String) -> Data { Data(SHA256.hash(data: Data(value.utf8))) }

    /// Cheap shape check before any database look-up: 43 base64url characters.
    public static func looksValid(_ value: String) -> Bool {
        value.utf8.count == 43
            && value.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
            }
    }
}

extension Data {
    public func base64URLEncodedString() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }

    public var hexString: String { map { String(format: "%02x", $0) }.joined() }

    public init?(hex: String) {
        guard hex.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
