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
        guard let score = Int(scoreText.trimmingCharacters(in: .whitespaces)), (0...10).contains(score) else {
            throw AppError.badRequest("score must be a whole number from 0 to 10, not '\(scoreText.prefix(20))'", code: "invalid_score")
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
                throw AppError.badRequest("factor '\(id.prefix(64))' is not one of this survey's reasons", code: "invalid_factor")
            }
            if !chosen.contains(where: { $0.id == id }) { chosen.append(factor) }
        }
        var bucket: LostTimeBucket?
        if let lostTime {
            guard let found = survey.lostTime?.buckets.first(where: { $0.id == lostTime }) else {
                throw AppError.badRequest("lost_time '\(lostTime.prefix(64))' is not one of this survey's answers", code: "invalid_lost_time")
            }
            bucket = found
        }
        var text = comment?.trimmingCharacters(in: .whitespacesAndNewlines)
        if text?.isEmpty == true { text = nil }
        if let text, text.count > Self.maxComment {
            throw AppError.badRequest("comment is longer than \(Self.maxComment) characters", code: "comment_too_long")
        }
        return ValidAnswer(score: score, band: band, factors: chosen, lostTime: bucket, comment: text)
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
public enum FormDecoder {
    public static func decode(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = unescape(parts[0])
            let value = parts.count > 1 ? unescape(parts[1]) : ""
            return (key, value)
        }
    }

    static func unescape(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
