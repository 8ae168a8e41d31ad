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
        // Bytes, not characters: padding is about the encoded length.
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    public var hexString: String { map { String(format: "%02x", $0) }.joined() }

    /// Decodes lowercase or uppercase hex; nil for anything else (odd length, non-hex, non-ASCII).
    ///
    /// Works on the UTF-8 bytes, never on `Character`s: a header such as `v1=é` has an even byte count
    /// but one character, and stepping two characters at a time once walked past the end (a crash
    /// any unauthenticated client could cause).
    public init?(hex: some StringProtocol) {
        let utf8 = hex.utf8
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var high: UInt8?
        for byte in utf8 {
            guard let nibble = Self.hexNibble(byte) else { return nil }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        self.init(bytes)
    }

    /// The value of one ASCII hex digit.
    static func hexNibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }
}

extension SurveyToken {
    /// Whether two byte strings are equal, in time that depends only on their length.
    public static func constantTimeEquals(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
