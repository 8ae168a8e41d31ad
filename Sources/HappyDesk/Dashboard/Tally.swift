import Foundation

/// The counts every happiness figure is computed from. Summing tallies is exact, so daily roll-ups can be
/// added up into any period or group without loss; percentages are only taken at the end.
public struct Tally: Sendable, Equatable, Codable {
    public var responses: Int = 0
    /// Answers scoring 9–10.
    public var positive: Int = 0
    /// Answers scoring 0–6.
    public var negative: Int = 0
    /// Responses that answered the lost-time question (0 minutes included).
    public var lostAnswered: Int = 0
    public var lostMinutes: Int = 0

    public init(responses: Int = 0, positive: Int = 0, negative: Int = 0, lostAnswered: Int = 0, lostMinutes: Int = 0) {
        self.responses = responses
        self.positive = positive
        self.negative = negative
        self.lostAnswered = lostAnswered
        self.lostMinutes = lostMinutes
    }

    /// Answers scoring 7–8: they count in the total only.
    public var neutral: Int { responses - positive - negative }

    public static func + (lhs: Tally, rhs: Tally) -> Tally {
        Tally(
            responses: lhs.responses + rhs.responses, positive: lhs.positive + rhs.positive, negative: lhs.negative + rhs.negative,
            lostAnswered: lhs.lostAnswered + rhs.lostAnswered, lostMinutes: lhs.lostMinutes + rhs.lostMinutes
        )
    }

    public static func += (lhs: inout Tally, rhs: Tally) { lhs = lhs + rhs }

    public func count(in band: ScoreBand) -> Int {
        switch band {
        case .positive: positive
        case .neutral: neutral
        case .negative: negative
        }
    }

    /// % of 9–10 minus % of 0–6, from −100 to +100; nil without responses.
    public var rawHappiness: Double? {
        guard responses > 0 else { return nil }
        return (Double(positive) - Double(negative)) / Double(responses) * 100
    }

    /// 95% margin of error in points: 1.96 × 100 × √((p + q − (p − q)²) / n).
    public var rawMarginOfError: Double? {
        guard responses > 0 else { return nil }
        let n = Double(responses)
        let p = Double(positive) / n
        let q = Double(negative) / n
        return 1.96 * 100 * ((p + q - (p - q) * (p - q)) / n).squareRoot()
    }

    /// Happiness, or nil when the group is below the minimum: a small group never shows a score.
    public func happiness(minimum: Int) -> Double? {
        responses >= max(minimum, 1) ? rawHappiness : nil
    }

    public func marginOfError(minimum: Int) -> Double? {
        responses >= max(minimum, 1) ? rawMarginOfError : nil
    }

    /// Mean minutes over the responses that answered the lost-time question; nil when nobody answered it.
    public var averageLostMinutes: Double? {
        lostAnswered > 0 ? Double(lostMinutes) / Double(lostAnswered) : nil
    }
}

/// How figures are written for people: "+52", "2h 50min", "41%".
public enum DashboardFormat {
    /// "2h 50min", "45min", "0min"; minutes are rounded to the nearest whole minute.
    public static func duration(minutes: Double) -> String {
        let total = Int(minutes.rounded())
        let hours = total / 60
        let rest = total % 60
        if hours == 0 { return "\(rest)min" }
        return rest == 0 ? "\(hours)h" : "\(hours)h \(rest)min"
    }

    /// Happiness as a signed whole number: "+52", "−8", "0".
    public static func happiness(_ value: Double) -> String {
        let rounded = Int(value.rounded())
        if rounded > 0 { return "+\(rounded)" }
        if rounded < 0 { return "\u{2212}\(-rounded)" }
        return "0"
    }

    /// A change in points: "up 4 points", "down 12 points", "unchanged".
    public static func change(_ delta: Double, unit: String = "points") -> String {
        let rounded = Int(delta.rounded())
        if rounded == 0 { return "unchanged" }
        let magnitude = abs(rounded)
        let noun = magnitude == 1 && unit == "points" ? "point" : unit
        return rounded > 0 ? "up \(magnitude) \(noun)" : "down \(magnitude) \(noun)"
    }

    public static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }

    /// Grouped thousands: 12,345.
    public static func count(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, char) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(char)
        }
        return value < 0 ? "-" + out : out
    }
}
