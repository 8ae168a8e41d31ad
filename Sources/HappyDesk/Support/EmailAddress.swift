import Foundation

/// The one email-address rule, shared by intake, people and delivery: intake accepts exactly what delivery
/// can send, so no accepted closure later dead-letters on its address.
///
/// - The domain may be internationalised (`bücher.example`): it is stored and sent in its ASCII form
///   (`xn--bcher-kva.example`, IDNA punycode of the NFC, lower-cased labels), which every relay accepts.
/// - The local part is plain ASCII (`atext` and dots), or, when the mail relay offers SMTPUTF8 (RFC 6531),
///   letters, digits and marks of any script (`jörg`); without SMTPUTF8 such an address cannot be sent and is
///   refused at intake with a reason.
/// - Nothing else: no quoted local parts, comments, IP literals, controls, spaces, look-alike `@`s.
public enum EmailAddress {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        /// The local part is not ASCII and the relay does not offer SMTPUTF8.
        case needsSMTPUTF8(String)

        public var description: String {
            switch self {
            case .malformed(let why): return why
            case .needsSMTPUTF8(let local):
                return "its local part '\(local)' is not ASCII, which needs SMTPUTF8, and the SMTP relay does not offer it"
            }
        }
    }

    /// The form to store and send: NFC, the domain in ASCII. Throws with a reason a person can act on.
    public static func deliverable(_ text: String, utf8LocalPart: Bool = true) throws(Problem) -> String {
        let text = text.precomposedStringWithCanonicalMapping
        guard text.utf8.count <= 254 else { throw .malformed("is longer than 254 bytes") }
        let scalars = Array(text.unicodeScalars)
        guard let at = scalars.lastIndex(of: "@"), at > 0, at < scalars.count - 1 else { throw .malformed("needs one local@domain") }
        let local = String(String.UnicodeScalarView(scalars[..<at]))
        let domain = String(String.UnicodeScalarView(scalars[(at + 1)...]))
        guard local.utf8.count <= 64 else { throw .malformed("has a local part longer than 64 bytes") }
        guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { throw .malformed("has a misplaced dot in its local part") }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-".unicodeScalars)
        var previousIsBase = false
        for scalar in local.unicodeScalars {
            if scalar.isASCII {
                guard atext.contains(scalar) else { throw .malformed("has '\(scalar.escaped(asASCII: true))' in its local part") }
                previousIsBase = true
                continue
            }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber, .letterNumber, .otherNumber:
                previousIsBase = true
            case .nonspacingMark, .spacingMark, .enclosingMark:
                // A mark only after a letter or digit (not leading, not after a dot or a symbol).
                guard previousIsBase else { throw .malformed("has a combining mark with no letter before it in its local part") }
            default:
                throw .malformed("has U+\(String(scalar.value, radix: 16, uppercase: true)) in its local part, which is not a letter or digit")
            }
        }
        if !utf8LocalPart, !local.unicodeScalars.allSatisfy(\.isASCII) { throw .needsSMTPUTF8(local) }
        return local + "@" + (try asciiDomain(domain))
    }

    /// Whether `text` is an address intake would store (with a relay that offers SMTPUTF8).
    public static func isValid(_ text: String) -> Bool {
        (try? deliverable(text)) != nil
    }

    /// Whether sending to `address` needs SMTPUTF8 (its local part is not ASCII).
    public static func needsSMTPUTF8(_ address: String) -> Bool {
        !address.unicodeScalars.allSatisfy(\.isASCII)
    }

    /// The domain in ASCII: each label LDH, or IDNA punycode (`xn--…`) of its NFC lower-cased form.
    static func asciiDomain(_ domain: String) throws(Problem) -> String {
        let unified = domain.replacingOccurrences(of: "\u{3002}", with: ".").replacingOccurrences(of: "\u{FF0E}", with: ".")
            .replacingOccurrences(of: "\u{FF61}", with: ".")
        let labels = unified.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard labels.count >= 1, labels.allSatisfy({ !$0.isEmpty }) else { throw .malformed("has an empty label in its domain") }
        var ascii: [String] = []
        for label in labels {
            let converted: String
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                converted = label
            } else {
                let lowered = label.lowercased().precomposedStringWithCanonicalMapping
                if let first = lowered.unicodeScalars.first,
                    [.nonspacingMark, .spacingMark, .enclosingMark].contains(first.properties.generalCategory)
                {
                    throw .malformed("has a domain label that starts with a combining mark")
                }
                for scalar in lowered.unicodeScalars where !scalar.isASCII {
                    switch scalar.properties.generalCategory {
                    case .lowercaseLetter, .modifierLetter, .otherLetter, .decimalNumber, .nonspacingMark, .spacingMark, .titlecaseLetter,
                        .uppercaseLetter:
                        continue
                    default:
                        throw .malformed("has U+\(String(scalar.value, radix: 16, uppercase: true)) in its domain, which is not a letter or digit")
                    }
                }
                guard let encoded = Punycode.encode(lowered) else { throw .malformed("has a domain label that cannot be encoded") }
                converted = "xn--" + encoded
            }
            let ldh = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-".unicodeScalars)
            guard converted.unicodeScalars.allSatisfy(ldh.contains) else {
                throw .malformed("has a character in its domain that a domain cannot hold")
            }
            guard converted.utf8.count <= 63, !converted.hasPrefix("-"), !converted.hasSuffix("-") else {
                throw .malformed("has a domain label that is too long or starts or ends with '-'")
            }
            ascii.append(converted)
        }
        return ascii.joined(separator: ".")
    }
}

/// RFC 3492 Punycode (the encoder IDNA needs for a domain label).
enum Punycode {
    static func encode(_ input: String) -> String? {
        let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = scalars.filter { $0 < 0x80 }.map { Character(Unicode.Scalar(UInt8($0))) }
        let basic = output.count
        var handled = basic
        if basic > 0 { output.append("-") }
        func digit(_ d: Int) -> Character { Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22))) }
        func adapt(_ delta: Int, _ count: Int, _ first: Bool) -> Int {
            var delta = first ? delta / damp : delta / 2
            delta += delta / count
            var k = 0
            while delta > ((base - tMin) * tMax) / 2 {
                delta /= base - tMin
                k += base
            }
            return k + (base - tMin + 1) * delta / (delta + skew)
        }
        var n = 0x80, delta = 0, bias = 72
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow else { return nil }
            delta += product
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basic)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(output)
    }
}
