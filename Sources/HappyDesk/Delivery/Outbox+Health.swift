import Foundation

extension Outbox {
    /// What the outbox gauges and `/readyz` need: how many rows are due now and since when the oldest one
    /// waits. One indexed query (`deliveries_due` on status, due_at).
    public static func dueSummary(_ db: any SQLConnection, now: Date) throws -> (due: Int, oldestDueAt: Date?) {
        let row = try db.fetchOne("SELECT count(*) AS n, min(due_at) AS oldest FROM deliveries WHERE status = 'pending' AND due_at <= ?", now)
        return (row?["n"] ?? 0, row?["oldest"])
    }
}

/// When the next SMTP send may start, as `happydesk outbox list` shows it: the latest of the pace
/// (one `interval` after the last send started), a relay's pause (rows deferred by a 421/451), and the
/// earliest due row.
public struct NextSend: Sendable, Equatable {
    public var at: Date
    /// Why then, in words: "now", "pacing 30/min", "relay throttling (451)", "next row due".
    public var reason: String
}

extension Outbox {
    /// The facts `NextSend` is computed from, for the email channel: read by the CLI, not on a hot path.
    static func sendWindow(_ db: any SQLConnection) throws -> (lastStart: Date?, pausedUntil: Date?, pauseCode: Int?, earliestDue: Date?) {
        let lastStart = try db.scalar(
            Date.self,
            "SELECT max(a.started_at) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.channel = 'email'")
        let paused = try db.fetchOne(
            """
            SELECT due_at, last_error FROM deliveries
            WHERE status = 'pending' AND channel = 'email' AND (last_error LIKE '%(server replied 421)%' OR last_error LIKE '%(server replied 451)%')
              AND last_error LIKE 'deferred%'
            ORDER BY due_at DESC LIMIT 1
            """)
        let earliest = try db.scalar(Date.self, "SELECT min(due_at) FROM deliveries WHERE status = 'pending' AND channel = 'email'")
        let pausedUntil: Date? = paused?["due_at"]
        let text: String? = paused?["last_error"]
        return (lastStart, pausedUntil, text.map { $0.contains("replied 421") ? 421 : 451 }, earliest)
    }

    /// When the next email may go out, given this server's rate limit (nil: no cap).
    public static func nextSend(_ db: any SQLConnection, rateLimit: SMTPRateLimit?, now: Date = Date()) throws -> NextSend {
        let window = try sendWindow(db)
        var next = NextSend(at: now, reason: "now")
        if let rateLimit, let last = window.lastStart, last.addingTimeInterval(rateLimit.interval) > next.at {
            next = NextSend(
                at: last.addingTimeInterval(rateLimit.interval), reason: "pacing \(rateLimit) (one message every \(rateLimit.interval) s)")
        }
        if let paused = window.pausedUntil, paused > next.at {
            next = NextSend(at: paused, reason: "relay throttling (\(window.pauseCode ?? 451)): back-off")
        }
        if let due = window.earliestDue, due > next.at, due > (window.pausedUntil ?? .distantPast) {
            next = NextSend(at: due, reason: "next row due")
        }
        return next
    }
}
