import ArgumentParser
import Foundation
import HappyDesk

/// Sign-in flags of `happydesk serve`: session lifetimes and the intake lock; each reads a `HAPPYDESK_*`
/// variable, a flag wins.
struct SessionOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Seconds a browser session may go unused before it ends. [env: HAPPYDESK_SESSION_IDLE_TIMEOUT] (default: 1800)", valueName: "seconds"))
    var sessionIdleTimeout: Int?

    @Option(
        help: ArgumentHelp(
            "Seconds a browser session lasts after sign-in, however busy. [env: HAPPYDESK_SESSION_LIFETIME] (default: 43200)", valueName: "seconds"))
    var sessionLifetime: Int?

    @Flag(
        help:
            "Take unsigned closures even when listening beyond loopback (no HAPPYDESK_WEBHOOK_SECRET). [env: HAPPYDESK_ALLOW_UNSIGNED_INTAKE=1]"
    )
    var allowUnsignedIntake = false

    func apply(to settings: inout Settings) {
        settings.sessions.idleTimeout = seconds(sessionIdleTimeout, "HAPPYDESK_SESSION_IDLE_TIMEOUT", default: settings.sessions.idleTimeout)
        settings.sessions.absoluteLifetime = seconds(sessionLifetime, "HAPPYDESK_SESSION_LIFETIME", default: settings.sessions.absoluteLifetime)
    }

    /// Whether unsigned intake was explicitly allowed; a value other than 1/true/0/false is an error.
    var unsignedIntakeAllowed: Bool {
        if allowUnsignedIntake { return true }
        guard let text = env("HAPPYDESK_ALLOW_UNSIGNED_INTAKE") else { return false }
        switch text.lowercased() {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        default: fail("HAPPYDESK_ALLOW_UNSIGNED_INTAKE must be 1 or 0, not '\(text)'")
        }
    }

    /// A lifetime from a minute to 30 days.
    private func seconds(_ flag: Int?, _ name: String, default value: TimeInterval) -> TimeInterval {
        guard let text = flag.map(String.init) ?? env(name) else { return value }
        guard let seconds = Int(text), (60...30 * 86400).contains(seconds) else {
            fail("\(name) must be a number of seconds from 60 to 2592000, not '\(text)'")
        }
        return TimeInterval(seconds)
    }
}
