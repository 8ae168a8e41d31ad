import Foundation

/// How much one client may ask of the server: rate limits, the write queue's bound and the HTTP idle timeout.
/// Parsed by the CLI from `HAPPYDESK_RATE_LIMIT_*`, `HAPPYDESK_WRITE_QUEUE_LIMIT`, `HAPPYDESK_HTTP_IDLE_TIMEOUT`
/// and `HAPPYDESK_TRUST_PROXY`.
public struct LimitSettings: Sendable, Equatable {
    /// Failed sign-ins and failed bearer-token or signature checks per client address; nil is `off`.
    public var signIn: RateLimit? = RateLimit(count: 10, per: .minute)
    /// Survey POSTs (answers and requester replies) per survey link; nil is `off`.
    public var survey: RateLimit? = RateLimit(count: 30, per: .minute)
    /// Closures per credential (signature secret, bearer token, or client address when unsigned); nil is `off`.
    public var closures: RateLimit? = RateLimit(count: 600, per: .minute)
    /// Writes waiting for the database before new ones are refused with 503.
    public var writeQueueLimit = 10_000
    /// Seconds a connection may send nothing, or only part of a request, before it is closed.
    public var httpIdleTimeout: Double = 30
    /// Take the client address from `X-Forwarded-For` (the last hop) instead of the socket: only behind a proxy you run.
    public var trustProxy = false

    public init() {}
}

/// `N/sec`, `N/min` or `N/hour`: a token bucket that holds N and refills N per period, so a burst of N is
/// allowed and the long-run rate is N per period.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    public enum Period: String, Sendable, CaseIterable {
        case second = "sec", minute = "min", hour = "hour"

        public var seconds: Double {
            switch self {
            case .second: 1
            case .minute: 60
            case .hour: 3600
            }
        }
    }

    public var count: Int
    public var per: Period

    public init(count: Int, per: Period) {
        self.count = count
        self.per = per
    }

    public var description: String { "\(count)/\(per.rawValue)" }

    /// Tokens regained per second.
    var refillPerSecond: Double { Double(count) / per.seconds }

    /// Parses `10/min` (also `second`, `minute`, `s`, `m`, `h`); `off` returns nil. Throws a message fit for one line.
    public static func parse(_ text: String) throws(LimitParseError) -> RateLimit? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "off" { return nil }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        let aliases: [String: Period] = [
            "s": .second, "sec": .second, "second": .second, "m": .minute, "min": .minute, "minute": .minute, "h": .hour, "hour": .hour,
        ]
        guard parts.count == 2, let count = Int(parts[0].trimmingCharacters(in: .whitespaces)), (1...1_000_000).contains(count),
            let period = aliases[parts[1].trimmingCharacters(in: .whitespaces)]
        else {
            throw LimitParseError("must be N/sec, N/min or N/hour with N from 1 to 1000000, or off; not '\(text.prefix(40))'")
        }
        return RateLimit(count: count, per: period)
    }
}

/// A limit setting that does not parse; the CLI prefixes the variable's name.
public struct LimitParseError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
