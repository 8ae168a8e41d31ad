import ArgumentParser
import Foundation
import HappyDesk

/// Abuse-limit flags of `happydesk serve`; each reads a `HAPPYDESK_*` variable, a flag wins.
struct LimitOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Failed sign-ins (and bad tokens or signatures) per client address: N/sec, N/min, N/hour or off. [env: HAPPYDESK_RATE_LIMIT_SIGNIN] (default: 10/min)",
            valueName: "rate"))
    var rateLimitSignin: String?

    @Option(
        help: ArgumentHelp(
            "Answers and replies per survey link. [env: HAPPYDESK_RATE_LIMIT_SURVEY] (default: 30/min)", valueName: "rate"))
    var rateLimitSurvey: String?

    @Option(
        help: ArgumentHelp(
            "Closures per credential (secret, token, or address when unsigned). [env: HAPPYDESK_RATE_LIMIT_CLOSURES] (default: 600/min)",
            valueName: "rate"))
    var rateLimitClosures: String?

    @Option(
        help: ArgumentHelp(
            "Writes that may wait for the database before new ones get 503. [env: HAPPYDESK_WRITE_QUEUE_LIMIT] (default: 10000)", valueName: "n"))
    var writeQueueLimit: String?

    @Option(
        help: ArgumentHelp(
            "Seconds a connection may send nothing or an incomplete request before it is closed. [env: HAPPYDESK_HTTP_IDLE_TIMEOUT] (default: 30)",
            valueName: "seconds"))
    var httpIdleTimeout: String?

    @Flag(help: "Take the client address from X-Forwarded-For (only behind your own proxy). [env: HAPPYDESK_TRUST_PROXY=1]")
    var trustProxy = false

    func apply(to settings: inout Settings) {
        func rate(_ flag: String?, _ variable: String) -> String? { flag ?? env(variable) }
        func parse(_ text: String?, _ variable: String, into limit: inout RateLimit?) {
            guard let text else { return }
            do { limit = try RateLimit.parse(text) } catch { fail("\(variable) \(error)") }
        }
        parse(rate(rateLimitSignin, "HAPPYDESK_RATE_LIMIT_SIGNIN"), "HAPPYDESK_RATE_LIMIT_SIGNIN", into: &settings.limits.signIn)
        parse(rate(rateLimitSurvey, "HAPPYDESK_RATE_LIMIT_SURVEY"), "HAPPYDESK_RATE_LIMIT_SURVEY", into: &settings.limits.survey)
        parse(rate(rateLimitClosures, "HAPPYDESK_RATE_LIMIT_CLOSURES"), "HAPPYDESK_RATE_LIMIT_CLOSURES", into: &settings.limits.closures)
        if let text = writeQueueLimit ?? env("HAPPYDESK_WRITE_QUEUE_LIMIT") {
            guard let value = Int(text), (1...10_000_000).contains(value) else {
                fail("HAPPYDESK_WRITE_QUEUE_LIMIT must be a whole number from 1 to 10000000, not '\(text.prefix(40))'")
            }
            settings.limits.writeQueueLimit = value
        }
        if let text = httpIdleTimeout ?? env("HAPPYDESK_HTTP_IDLE_TIMEOUT") {
            guard let value = Double(text), value.isFinite, value > 0, value <= 86_400 else {
                fail("HAPPYDESK_HTTP_IDLE_TIMEOUT must be a number of seconds above 0 and at most 86400, not '\(text.prefix(40))'")
            }
            settings.limits.httpIdleTimeout = value
        }
        if trustProxy {
            settings.limits.trustProxy = true
        } else if let text = env("HAPPYDESK_TRUST_PROXY") {
            guard ["1", "0", "true", "false", "yes", "no"].contains(text.lowercased()) else {
                fail("HAPPYDESK_TRUST_PROXY must be 1 or 0, not '\(text.prefix(40))'")
            }
            settings.limits.trustProxy = ["1", "true", "yes"].contains(text.lowercased())
        }
    }
}
