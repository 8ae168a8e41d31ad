import Foundation

/// What a requester submitted, before validation against the survey.
public struct SurveyAnswer: Sendable, Equatable {
    public var score: Int
    public var factors: [String]
    public var lostTime: String?
    public var comment: String?

    public init(score: Int, factors: [String] = [], lostTime: String? = nil, comment: String? = nil) {
        self.score = score
        self.factors = factors
        self.lostTime = lostTime
        self.comment = comment
    }

    /// Counted as `TextLimit` counts: Unicode scalars, as SQLite's `length()` would.
    public static let maxComment = 5000

    /// Reads `application/x-www-form-urlencoded` fields: score, factors (repeated, or `factors[]`), lost_time, comment.
    public static func parse(form: [(String, String)]) throws(AppError) -> SurveyAnswer {
        var scoreText: String?
        var factors: [String] = []
        var lostTime: String?
        var comment: String?
        for (key, value) in form {
            switch key {
            case "score": scoreText = value
            case "factors", "factors[]", "factor": if !value.isEmpty { factors.append(value) }
            case "lost_time": lostTime = value.isEmpty ? nil : value
            case "comment": comment = value
            default: continue
            }
        }
        guard let scoreText, !scoreText.isEmpty else {
            throw AppError.badRequest("score is missing: pick a score from 0 to 10", code: "invalid_score")
        }
        guard let score = Int(Self.trimmed(scoreText)), (0...10).contains(score) else {
            throw AppError.badRequest("score must be a whole number from 0 to 10, not '\(TextLimit.preview(scoreText, 20))'", code: "invalid_score")
        }
        return SurveyAnswer(score: score, factors: factors, lostTime: lostTime, comment: comment)
    }

    /// Checks the answer against the survey: factors from the score's band only, a known lost-time bucket.
    public func validated(for survey: SurveyDefinition) throws(AppError) -> ValidAnswer {
        let band = ScoreBand(score: score)
        let allowed = survey.factors(for: band)
        var chosen: [Factor] = []
        for id in factors {
            guard let factor = allowed.first(where: { $0.id == id }) else {
                if let (_, other) = survey.factor(id: id) {
                    throw AppError.badRequest(
                        "factor '\(id)' belongs to the \(other.rawValue) reasons and does not fit a score of \(score)", code: "invalid_factor")
                }
                throw AppError.badRequest("factor '\(TextLimit.preview(id, 64))' is not one of this survey's reasons", code: "invalid_factor")
            }
            if !chosen.contains(where: { $0.id == id }) { chosen.append(factor) }
        }
        var bucket: LostTimeBucket?
        if let lostTime {
            guard let found = survey.lostTime?.buckets.first(where: { $0.id == lostTime }) else {
                throw AppError.badRequest(
                    "lost_time '\(TextLimit.preview(lostTime, 64))' is not one of this survey's answers", code: "invalid_lost_time")
            }
            bucket = found
        }
        var text = comment.map(Self.trimmed)
        if text?.isEmpty == true { text = nil }
        if let text, let problem = TextLimit.problem(text, max: Self.maxComment) {
            throw AppError.badRequest("comment \(problem)", code: "comment_too_long")
        }
        return ValidAnswer(score: score, band: band, factors: chosen, lostTime: bucket, comment: text)
    }

    /// `text` without leading and trailing whitespace and newlines (Unicode-aware, no NSString bridge).
    static func trimmed(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let last = text.lastIndex(where: { !$0.isWhitespace }) ?? first
        return String(text[first...last])
    }
}

public struct ValidAnswer: Sendable, Equatable {
    public var score: Int
    public var band: ScoreBand
    public var factors: [Factor]
    public var lostTime: LostTimeBucket?
    public var comment: String?
}

/// Decodes `application/x-www-form-urlencoded` text into ordered pairs, keeping repeated keys.
///
/// Works on the UTF-8 bytes: `+` is a space, `%XX` a byte, and a malformed escape stays as it was typed.
/// (Foundation's `removingPercentEncoding` bridges through NSString and cost more than the rest of a
/// submission's parsing.)
public enum FormDecoder {
    public static func decode(_ text: String) -> [(String, String)] {
        var text = text
        return text.withUTF8 { decode(bytes: $0) }
    }

    static func decode(bytes: UnsafeBufferPointer<UInt8>) -> [(String, String)] {
        var pairs: [(String, String)] = []
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "&") { end += 1 }
            if end > start {
                var split = start
                while split < end, bytes[split] != UInt8(ascii: "=") { split += 1 }
                let key = unescape(bytes, start, split)
                let value = split < end ? unescape(bytes, split + 1, end) : ""
                pairs.append((key, value))
            }
            start = end + 1
        }
        return pairs
    }

    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> String {
        String(unsafeUninitializedCapacity: to - from) { out in
            var written = 0
            var index = from
            while index < to {
                let byte = bytes[index]
                if byte == UInt8(ascii: "+") {
                    out[written] = UInt8(ascii: " ")
                } else if byte == UInt8(ascii: "%"), index + 2 < to,
                    let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2])
                {
                    out[written] = high << 4 | low
                    index += 2
                } else {
                    out[written] = byte
                }
                written += 1
                index += 1
            }
            return written
        }
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
