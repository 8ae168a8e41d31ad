import Foundation

/// Every figure of one dashboard, computed once and rendered as HTML, JSON or CSV, so the three never disagree.
/// Optional figures encode as `null` (never omitted, never 0): "no score" and "a score of 0" stay distinct.
public struct DashboardReport: Sendable, Codable {
    /// One group's figures: the counts, and the happiness only when the group reaches the minimum.
    public struct Figures: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable { case ok, tooFewResponses = "too_few_responses", noData = "no_data" }

        public var responses: Int
        public var positive: Int
        public var neutral: Int
        public var negative: Int
        public var happiness: Double?
        public var marginOfError: Double?
        public var status: Status
        public var lostAnswered: Int
        public var lostMinutesTotal: Int
        public var averageLostMinutes: Double?
        public var averageLostTime: String?

        public init(_ tally: Tally, minimum: Int) {
            responses = tally.responses
            positive = tally.positive
            neutral = tally.neutral
            negative = tally.negative
            happiness = tally.happiness(minimum: minimum)
            marginOfError = tally.marginOfError(minimum: minimum)
            status = tally.responses == 0 ? .noData : (happiness == nil ? .tooFewResponses : .ok)
            lostAnswered = tally.lostAnswered
            lostMinutesTotal = tally.lostMinutes
            averageLostMinutes = tally.averageLostMinutes
            averageLostTime = tally.averageLostMinutes.map(DashboardFormat.duration(minutes:))
        }

        enum CodingKeys: String, CodingKey {
            case responses, positive, neutral, negative, happiness, marginOfError, status, lostAnswered, lostMinutesTotal, averageLostMinutes,
                averageLostTime
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(responses, forKey: .responses)
            try c.encode(positive, forKey: .positive)
            try c.encode(neutral, forKey: .neutral)
            try c.encode(negative, forKey: .negative)
            try c.encode(happiness.map(DashboardReport.rounded), forKey: .happiness)
            try c.encode(marginOfError.map(DashboardReport.rounded), forKey: .marginOfError)
            try c.encode(status, forKey: .status)
            try c.encode(lostAnswered, forKey: .lostAnswered)
            try c.encode(lostMinutesTotal, forKey: .lostMinutesTotal)
            try c.encode(averageLostMinutes.map(DashboardReport.rounded), forKey: .averageLostMinutes)
            try c.encode(averageLostTime, forKey: .averageLostTime)
        }
    }

    public struct PeriodRow: Sendable, Codable {
        /// First day of the period (Monday for weeks, the 1st for months).
        public var period: String
        public var label: String
        /// The days of the period inside the report's range.
        public var firstDay: String
        public var lastDay: String
        public var figures: Figures
        public var invitationsSent: Int
        /// Responses ÷ invitations sent in the period; nil when none were sent.
        public var responseRate: Double?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(period, forKey: .period)
            try c.encode(label, forKey: .label)
            try c.encode(firstDay, forKey: .firstDay)
            try c.encode(lastDay, forKey: .lastDay)
            try c.encode(figures, forKey: .figures)
            try c.encode(invitationsSent, forKey: .invitationsSent)
            try c.encode(responseRate.map(DashboardReport.rounded), forKey: .responseRate)
        }
    }

    /// One day of the trend: its volume and the volume-weighted 7-day moving average ending that day.
    public struct DayRow: Sendable, Codable {
        public var day: String
        public var responses: Int
        /// Σ(9–10 − 0–6) ÷ Σ responses × 100 over this day and the six before; nil below the minimum.
        public var movingAverage7d: Double?
        public var movingAverageResponses: Int

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(day, forKey: .day)
            try c.encode(responses, forKey: .responses)
            try c.encode(movingAverage7d.map(DashboardReport.rounded), forKey: .movingAverage7d)
            try c.encode(movingAverageResponses, forKey: .movingAverageResponses)
        }
    }

    public struct FactorPeriod: Sendable, Codable {
        public var period: String
        public var picks: Int
        public var bandResponses: Int
        public var share: Double?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(period, forKey: .period)
            try c.encode(picks, forKey: .picks)
            try c.encode(bandResponses, forKey: .bandResponses)
            try c.encode(share.map(DashboardReport.rounded), forKey: .share)
        }
    }

    /// A factor's share of its band over the range, per period, and its move between the last two periods.
    public struct FactorRow: Sendable, Codable {
        public var band: ScoreBand
        public var factorId: String
        public var label: String
        public var picks: Int
        /// Respondents in the band who could pick it (the kinds whose survey offers it).
        public var bandResponses: Int
        public var share: Double?
        public var periods: [FactorPeriod]
        /// Share in the last period minus share in the one before, in percentage points.
        public var changePoints: Double?
        /// One of the factors whose share moved most.
        public var flagged: Bool

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(band, forKey: .band)
            try c.encode(factorId, forKey: .factorId)
            try c.encode(label, forKey: .label)
            try c.encode(picks, forKey: .picks)
            try c.encode(bandResponses, forKey: .bandResponses)
            try c.encode(share.map(DashboardReport.rounded), forKey: .share)
            try c.encode(periods, forKey: .periods)
            try c.encode(changePoints.map(DashboardReport.rounded), forKey: .changePoints)
            try c.encode(flagged, forKey: .flagged)
        }
    }

    /// One value of the breakdown dimension (or one reassignment count).
    public struct GroupRow: Sendable, Codable {
        public var value: String
        public var figures: Figures
        /// responses × (group happiness − overall happiness); nil for groups below the minimum.
        public var impact: Double?
        public var shareOfLostTime: Double?
        public var currentHappiness: Double?
        public var previousHappiness: Double?
        public var changePoints: Double?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(value, forKey: .value)
            try c.encode(figures, forKey: .figures)
            try c.encode(impact.map(DashboardReport.rounded), forKey: .impact)
            try c.encode(shareOfLostTime.map(DashboardReport.rounded), forKey: .shareOfLostTime)
            try c.encode(currentHappiness.map(DashboardReport.rounded), forKey: .currentHappiness)
            try c.encode(previousHappiness.map(DashboardReport.rounded), forKey: .previousHappiness)
            try c.encode(changePoints.map(DashboardReport.rounded), forKey: .changePoints)
        }
    }

    public struct Breakdown: Sendable, Codable {
        public var dimension: DashboardFilters.Dimension
        /// Worst hotspot impact first; groups below the minimum last.
        public var rows: [GroupRow]
    }

    public struct LostBucket: Sendable, Codable {
        public var minutes: Int
        public var label: String
        public var tickets: Int
        public var minutesTotal: Int
    }

    public struct LostTime: Sendable, Codable {
        public var buckets: [LostBucket]
        public var tickets: Int
        public var minutesTotal: Int
        /// The smallest share of tickets that accounts for 80% of all lost time; nil when no time was lost.
        public var paretoShare: Double?
        /// The Pareto curve: (share of tickets, share of lost time), worst tickets first.
        public var curve: [[Double]]

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(buckets, forKey: .buckets)
            try c.encode(tickets, forKey: .tickets)
            try c.encode(minutesTotal, forKey: .minutesTotal)
            try c.encode(paretoShare.map(DashboardReport.rounded), forKey: .paretoShare)
            try c.encode(curve.map { $0.map(DashboardReport.rounded) }, forKey: .curve)
        }
    }

    public struct Comment: Sendable, Codable {
        public var responseId: Int64
        public var answeredAt: String
        public var kind: String
        /// 0–10; always present (a response always has a score).
        public var score: Int
        public var band: ScoreBand
        public var factors: [String]
        public var factorLabels: [String]
        /// nil when the lost-time question was not answered; 0 when no time was lost.
        public var lostMinutes: Int?
        public var comment: String
        public var service: String?
        public var assignee: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(responseId, forKey: .responseId)
            try c.encode(answeredAt, forKey: .answeredAt)
            try c.encode(kind, forKey: .kind)
            try c.encode(score, forKey: .score)
            try c.encode(band, forKey: .band)
            try c.encode(factors, forKey: .factors)
            try c.encode(factorLabels, forKey: .factorLabels)
            try c.encode(lostMinutes, forKey: .lostMinutes)
            try c.encode(comment, forKey: .comment)
            try c.encode(service, forKey: .service)
            try c.encode(assignee, forKey: .assignee)
        }
    }

    public struct Range: Sendable, Codable {
        public var from: String
        public var to: String
        public var period: DashboardFilters.Period
        public var by: DashboardFilters.Dimension
        public var kind: TicketKind?
        public var minimumResponses: Int
        /// The groups and services the report is restricted to (a lead's or owner's scope, or a filter); absent: all.
        public var groups: [String]? = nil
        public var services: [String]? = nil

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(from, forKey: .from)
            try c.encode(to, forKey: .to)
            try c.encode(period, forKey: .period)
            try c.encode(by, forKey: .by)
            try c.encode(kind, forKey: .kind)
            try c.encode(minimumResponses, forKey: .minimumResponses)
            try c.encodeIfPresent(groups, forKey: .groups)
            try c.encodeIfPresent(services, forKey: .services)
        }
    }

    public var generatedAt: String
    public var range: Range
    public var hasData: Bool
    /// The written summary, one sentence per entry, generated from the figures below.
    public var summary: [String]
    public var overall: PeriodRow
    public var current: PeriodRow?
    public var previous: PeriodRow?
    public var periods: [PeriodRow]
    public var days: [DayRow]
    public var factors: [FactorRow]
    public var breakdown: Breakdown
    public var reassignments: [GroupRow]
    public var lostTime: LostTime
    public var comments: [Comment]
    /// Set when a retention policy removes comments (`HAPPYDESK_RETENTION_DAYS`): its days, and the sentence shown
    /// beside the latest comments.
    public var commentsRetentionDays: Int?
    public var commentsNotice: String?

    static func retentionNotice(days: Int) -> String {
        "Comments older than \(days) day\(days == 1 ? "" : "s") are removed by the retention policy."
    }

    /// The one-line message for an empty range, shared by the CLI and the API.
    public var noDataMessage: String {
        "no responses from \(range.from) to \(range.to)\(range.kind.map { " for \($0.rawValue)s" } ?? ""): widen --from/--to or drop --kind"
    }

    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    /// Pretty, sorted, snake_case JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
