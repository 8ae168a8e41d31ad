/// A survey as defined by one YAML file under `Surveys/`.
///
/// Factor ids are stable keys stored with each response; labels are presentation only and may be
/// reworded or translated without breaking reports.
public struct SurveyDefinition: Sendable, Equatable {
    public var id: String
    public var kind: TicketKind
    public var defaultLocale: String
    public var locales: [String]
    /// When true, analysts never see the requester's name or email for this survey's responses.
    public var anonymous: Bool
    public var title: LocalizedText
    public var question: LocalizedText
    public var factorQuestion: LocalizedText
    public var positive: [Factor]
    public var neutral: [Factor]
    public var negative: [Factor]
    public var lostTime: LostTimeQuestion?
    public var comment: LocalizedText?
    public var policy: SurveyPolicy

    /// The factor list that fits a score: positive for 9–10, neutral for 7–8, negative for 0–6.
    public func factors(for band: ScoreBand) -> [Factor] {
        switch band {
        case .positive: positive
        case .neutral: neutral
        case .negative: negative
        }
    }

    public func factor(id: String) -> (Factor, ScoreBand)? {
        for band in ScoreBand.allCases {
            if let factor = factors(for: band).first(where: { $0.id == id }) { return (factor, band) }
        }
        return nil
    }

    /// Picks the best supported locale for a requester's locale such as `de-CH` or `de_DE`.
    public func resolveLocale(_ requested: String?) -> String {
        guard let requested, !requested.isEmpty else { return defaultLocale }
        let normalized = String(requested.lowercased().map { $0 == "_" ? "-" : $0 })
        if locales.contains(normalized) { return normalized }
        let language = String(normalized.prefix { $0 != "-" })
        return locales.contains(language) ? language : defaultLocale
    }
}

public enum TicketKind: String, Sendable, Codable, CaseIterable {
    case incident
    case request
}

/// The three score bands of the happiness metric.
public enum ScoreBand: String, Sendable, Codable, CaseIterable {
    case positive
    case neutral
    case negative

    public init(score: Int) {
        switch score {
        case 9...: self = .positive
        case 7...8: self = .neutral
        default: self = .negative
        }
    }
}

public struct Factor: Sendable, Equatable {
    public var id: String
    public var label: LocalizedText
    /// Picking this factor means the issue is not solved: the ticket may be reopened and the
    /// response is flagged for follow-up.
    public var reopens: Bool
}

public struct LostTimeQuestion: Sendable, Equatable {
    public var question: LocalizedText
    public var buckets: [LostTimeBucket]
}

public struct LostTimeBucket: Sendable, Equatable {
    public var id: String
    public var minutes: Int
    public var label: LocalizedText
}

/// When and how often a survey is sent. Defaults apply when the YAML has no `policy:` section.
public struct SurveyPolicy: Sendable, Equatable {
    /// Minutes to wait after the closure before sending.
    public var delayMinutes: Int = 0
    /// Days after sending to remind an unanswered requester once; nil for no reminder.
    public var reminderDays: Int? = 3
    /// Days the link stays valid; answers can be changed until then.
    public var expiryDays: Int = 28
    /// At most one survey per requester per this many days; 0 disables the throttle.
    public var throttleDays: Int = 0
    /// Percentage of eligible closures that get a survey.
    public var samplePercent: Int = 100
    /// Per source, the ticket state that triggers a survey (`resolved` or `closed`); `*` is the default.
    public var triggers: [String: String] = ["*": "resolved"]

    public init() {}

    public func trigger(for source: String) -> String {
        triggers[source] ?? triggers["*"] ?? "resolved"
    }
}

/// A text in several languages, keyed by lower-case locale (`en`, `de`).
public struct LocalizedText: Sendable, Equatable {
    public var values: [String: String]
    public var fallback: String

    public func text(_ locale: String) -> String {
        values[locale] ?? values[fallback] ?? values.values.sorted().first ?? ""
    }
}
