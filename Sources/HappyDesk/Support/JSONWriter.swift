/// Writes one flat JSON object field by field, for hot paths where `JSONEncoder` costs more than the work
/// around it. Nil values are left out, as the synthesized `Encodable` conformances do.
struct JSONWriter {
    private var text = "{"
    private var first = true

    mutating func field(_ key: String, _ value: String?) {
        guard let value else { return }
        writeKey(key)
        Self.quote(value, into: &text)
    }

    mutating func field(_ key: String, _ value: Int64?) {
        guard let value else { return }
        writeKey(key)
        text += String(value)
    }

    mutating func field(_ key: String, _ value: Bool) {
        writeKey(key)
        text += value ? "true" : "false"
    }

    mutating func field(_ key: String, _ values: [String]) {
        writeKey(key)
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            Self.quote(value, into: &text)
        }
        text += "]"
    }

    mutating func finish() -> String {
        text += "}"
        return text
    }

    private mutating func writeKey(_ name: String) {
        if !first { text += "," }
        first = false
        Self.quote(name, into: &text)
        text += ":"
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped (RFC 8259 §7).
    static func quote(_ value: String, into out: inout String) {
        out += "\""
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
            out += value
            out += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
