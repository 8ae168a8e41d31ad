/// The one rule for "at most N characters" on text a client sends: N Unicode scalars (code points).
///
/// SQLite's `length(text)`, which the `CHECK`s in the migrations use, counts code points, while Swift's
/// `String.count` counts grapheme clusters: "e" followed by 4,999 combining accents is 1 character to
/// Swift and 5,000 to SQLite. Counting scalars everywhere means a text that passes the Swift check also
/// passes the database's, so an over-long text is a 4xx naming its field, never a failed `CHECK` (a 500).
/// SQLite's `length()` also stops at the first NUL, so a NUL is refused outright.
public enum TextLimit {
    /// How SQLite's `length()` counts a (valid UTF-8) string.
    public static func length(_ text: some StringProtocol) -> Int { text.unicodeScalars.count }

    /// Why `text` breaks the rule for a field of at most `max` characters, or nil when it fits.
    /// The answer reads after the field name: "comment is 5001 characters; the limit is 5000".
    public static func problem(_ text: some StringProtocol, max: Int) -> String? {
        // Counting stops early: a 64 KB body of combining marks is not walked twice.
        var count = 0
        for scalar in text.unicodeScalars {
            if scalar == "\u{0}" { return "must not contain NUL characters" }
            count += 1
        }
        guard count <= max else { return "is \(count) characters; the limit is \(max)" }
        return nil
    }

    /// Whether `text` has at most `max` scalars and no NUL.
    public static func fits(_ text: some StringProtocol, max: Int) -> Bool { problem(text, max: max) == nil }

    /// At most `max` scalars of `text`, for previews and log lines. Cuts at the last whole grapheme that
    /// fits, so an accent is not torn from its letter; a single grapheme longer than `max` (a letter with
    /// thousands of combining marks) is cut between scalars. The result is always valid UTF-8.
    public static func prefix(_ text: some StringProtocol, _ max: Int) -> String {
        let limit = Swift.max(0, max)
        if text.utf8.count <= limit { return String(text) }
        var scalars = 0
        var end = text.startIndex
        for index in text.indices {
            let next = text.index(after: index)
            let width = text[index..<next].unicodeScalars.count
            if scalars + width > limit { break }
            scalars += width
            end = next
        }
        if end == text.startIndex, limit > 0 {
            // The first grapheme alone is over the limit: keep its first `limit` scalars.
            var result = String.UnicodeScalarView()
            result.append(contentsOf: text.unicodeScalars.prefix(limit))
            return String(result)
        }
        return String(text[..<end])
    }

    /// Client text quoted back in an error message: at most `max` scalars, on one line, with control and
    /// invisible formatting characters (line breaks, NUL, bidi overrides) written as `\u{…}` escapes.
    public static func preview(_ text: some StringProtocol, _ max: Int) -> String {
        var out = ""
        for scalar in prefix(text, max).unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
