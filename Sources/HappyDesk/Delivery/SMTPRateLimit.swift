import Foundation

/// `HAPPYDESK_SMTP_RATE_LIMIT`: messages per second, minute or hour (`30/min`, `5/s`, `1000/h`), sent
/// evenly paced: a token bucket with a burst of one, so successive sends start at least `interval` apart.
public struct SMTPRateLimit: Sendable, Equatable, CustomStringConvertible {
    public var count: Int
    /// The period in seconds: 1, 60 or 3600.
    public var period: Double
    public var unit: String

    public init(count: Int, period: Double, unit: String) {
        self.count = count
        self.period = period
        self.unit = unit
    }

    /// Seconds between the starts of two sends.
    public var interval: Double { period / Double(count) }

    public var description: String { "\(count)/\(unit)" }

    public static func parse(_ text: String) throws -> SMTPRateLimit {
        let parts = text.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "/", omittingEmptySubsequences: false)
        let units: [String: (Double, String)] = [
            "s": (1, "s"), "sec": (1, "s"), "second": (1, "s"), "min": (60, "min"), "m": (60, "min"), "minute": (60, "min"), "h": (3600, "h"),
            "hour": (3600, "h"),
        ]
        guard parts.count == 2, let count = Int(parts[0].trimmingCharacters(in: .whitespaces)), count >= 1, count <= 1_000_000,
            let (period, unit) = units[parts[1].trimmingCharacters(in: .whitespaces)]
        else {
            throw StartupError("HAPPYDESK_SMTP_RATE_LIMIT must be messages per s, min or h, such as 30/min, 5/s or 1000/h, not '\(text)'")
        }
        return SMTPRateLimit(count: count, period: period, unit: unit)
    }
}
