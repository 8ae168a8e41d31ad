import Foundation

/// An email address checked to be safe in an SMTP envelope and a header: plain ASCII
/// `local@domain`, no spaces, angle brackets, commas, quotes or line breaks. Internationalised
/// addresses (SMTPUTF8) are rejected rather than risk a header or envelope injection.
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    public let address: String
    /// Display name, any Unicode; encoded per RFC 2047 when written into a header.
    public let name: String?

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case malformed(String)

        public var description: String {
            switch self {
            case .malformed(let text): "invalid email address \(text.debugDescription)"
            }
        }
    }

    public init(_ address: String, name: String? = nil) throws(Invalid) {
        guard Self.isValid(address) else { throw .malformed(address) }
        self.address = address
        let cleaned = name.map(MIMEEncoding.singleLine)?.trimmingCharacters(in: .whitespaces)
        self.name = cleaned?.isEmpty == false ? cleaned : nil
    }

    /// Parses `Name <addr>` or `addr`.
    public static func parse(_ text: String) throws(Invalid) -> MailAddress {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
            return try MailAddress(address, name: name)
        }
        return try MailAddress(trimmed)
    }

    static func isValid(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1 else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard local.count <= 64 else { return false }
        let localAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-".utf8)
        let domainAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-".utf8)
        guard local.allSatisfy(localAllowed.contains), domain.allSatisfy(domainAllowed.contains) else { return false }
        guard local.first != UInt8(ascii: "."), local.last != UInt8(ascii: "."), !address.contains("..") else { return false }
        guard domain.first != UInt8(ascii: "."), domain.last != UInt8(ascii: "."), domain.first != UInt8(ascii: "-") else { return false }
        return true
    }

    /// The header form: `=?UTF-8?B?…?= <addr>` or a quoted ASCII name, or the bare address.
    public var headerValue: String {
        guard let name else { return address }
        return "\(MIMEEncoding.phrase(name)) <\(address)>"
    }

    public var description: String { headerValue }
}
