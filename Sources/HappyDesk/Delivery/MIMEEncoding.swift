import Foundation

/// The small pieces of RFC 2045/2047/5322 a survey email needs. Everything that goes into a header
/// passes through here, so no value can carry a CR or LF into the header block.
public enum MIMEEncoding {
    /// Replaces every control character (CR, LF, TAB, NUL, …) with a space: header values are one line.
    public static func singleLine(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { scalar in
                    scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}" ? " " : scalar
                }))
    }

    /// An unstructured header value (Subject): plain when printable ASCII, else RFC 2047 encoded words
    /// of at most 75 characters, folded onto continuation lines, never splitting a character.
    public static func unstructured(_ text: String, headerName: String) -> String {
        let line = singleLine(text)
        if line.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) && line.utf8.count + headerName.utf8.count + 2 <= 78 {
            return line
        }
        return encodedWords(line)
    }

    static let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ".utf8)

    /// A display name: atoms as they are, ASCII with specials quoted, anything else RFC 2047 encoded.
    public static func phrase(_ text: String) -> String {
        let line = singleLine(text)
        if line.utf8.allSatisfy(atext.contains) { return line }
        if line.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            var quoted = "\""
            for character in line {
                if character == "\\" || character == "\"" { quoted += "\\" }
                quoted.append(character)
            }
            return quoted + "\""
        }
        return encodedWords(line)
    }

    /// `=?UTF-8?B?…?=` words separated by CRLF SP, each ≤ 75 characters.
    static func encodedWords(_ text: String) -> String {
        // 75 - len("=?UTF-8?B??=") = 63 base64 characters → at most 45 bytes of UTF-8 per word.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append(chunk.base64Word)
                chunk = []
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append(chunk.base64Word) }
        return words.joined(separator: "\r\n ")
    }

    /// Body text with every line ending as CRLF and no line over 998 bytes (RFC 5322 §2.1.1),
    /// breaking long lines at a space where one exists.
    public static func crlfLines(_ text: String, maxBytes: Int = 900) -> String {
        var out: [UInt8] = []
        appendCRLFLines(text, to: &out, maxBytes: maxBytes)
        return String(decoding: out, as: UTF8.self)
    }

    /// `crlfLines`, appended to a byte buffer: the message is built as bytes, line by line, without
    /// going through `String` again. (Foundation's replacingOccurrences, bridged through NSString on
    /// Linux, once cost more than the whole SMTP send.)
    public static func appendCRLFLines(_ text: String, to out: inout [UInt8], maxBytes: Int = 900) {
        var text = text
        text.withUTF8 { bytes in
            let count = bytes.count
            var start = 0
            while start < count {
                var end = start
                while end < count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                if line.count > maxBytes {
                    let wrapped = wrap(Substring(String(decoding: line, as: UTF8.self)), maxBytes: maxBytes).joined(separator: "\r\n")
                    out.append(contentsOf: wrapped.utf8)
                } else {
                    out.append(contentsOf: line)
                }
                guard end < count else { break }
                out.append(0x0D)
                out.append(0x0A)
                if bytes[end] == 0x0D, end + 1 < count, bytes[end + 1] == 0x0A { end += 1 }
                start = end + 1
            }
        }
    }

    /// Breaks one over-long line into pieces of at most `maxBytes`, at a space where one exists.
    static func wrap(_ line: Substring, maxBytes: Int) -> [String] {
        var out: [String] = []
        var rest = line
        while rest.utf8.count > maxBytes {
            var cut = rest.startIndex
            var bytes = 0
            var lastSpace: String.Index?
            for index in rest.indices {
                let size = rest[index].utf8.count
                if bytes + size > maxBytes { break }
                bytes += size
                cut = rest.index(after: index)
                if rest[index] == " " { lastSpace = index }
            }
            let end = lastSpace.map { $0 > rest.startIndex ? $0 : cut } ?? cut
            out.append(String(rest[..<end]))
            rest = rest[end...]
            if rest.first == " " { rest = rest.dropFirst() }
        }
        out.append(String(rest))
        return out
    }

    /// Escapes text for HTML element content and double-quoted attributes.
    public static func html(_ text: String) -> String { HTML.escape(text) }

    /// RFC 5322 date in UTC, e.g. `Sun, 22 Nov 2026 11:40:00 +0000`; English names whatever the locale.
    public static func date(_ date: Date) -> String {
        let t = UTCTime(date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let two = { (value: Int) in UTCTime.padded(value, 2) }
        return "\(days[t.weekday]), \(two(t.day)) \(months[t.month - 1]) \(t.year) \(two(t.hour)):\(two(t.minute)):\(two(t.second)) +0000"
    }
}

extension [UInt8] {
    fileprivate var base64Word: String { "=?UTF-8?B?\(Data(self).base64EncodedString())?=" }
}
