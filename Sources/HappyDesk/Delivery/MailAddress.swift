import Foundation

/// An email address checked to be safe in an SMTP envelope and a header (`EmailAddress`): no spaces, angle
/// brackets, commas, quotes or line breaks; the domain in its ASCII form; a non-ASCII local part only as
/// letters and digits, which the SMTP sender carries with SMTPUTF8.
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
        do {
            self.address = try EmailAddress.deliverable(address)
        } catch {
            throw .malformed(address)
        }
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

    /// The one rule (`EmailAddress`): an address intake stored is sendable as it is (its domain already ASCII).
    static func isValid(_ address: String) -> Bool {
        (try? EmailAddress.deliverable(address)) == address
    }

    /// The header form: `=?UTF-8?B?…?= <addr>` or a quoted ASCII name, or the bare address.
    public var headerValue: String {
        guard let name else { return address }
        return "\(MIMEEncoding.phrase(name)) <\(address)>"
    }

    public var description: String { headerValue }
}
