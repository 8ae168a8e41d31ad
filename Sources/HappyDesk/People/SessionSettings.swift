import Foundation

/// How long a browser session lives and how closely open sockets follow it.
///
/// A session ends at the first of: sign-out, the user's revocation, `idleTimeout` without a request or a
/// stream frame, or `absoluteLifetime` after sign-in however busy it is. Revocation may come from another
/// process (the CLI writes the same SQLite file), so each open socket re-reads its credential every
/// `recheckInterval` instead of waiting to be told.
public struct SessionSettings: Sendable, Equatable {
    /// `HAPPYDESK_SESSION_IDLE_TIMEOUT`, seconds: a session unused this long is over.
    public var idleTimeout: TimeInterval = 30 * 60
    /// `HAPPYDESK_SESSION_LIFETIME`, seconds: a session is over this long after sign-in, used or not.
    public var absoluteLifetime: TimeInterval = 12 * 3600
    /// How often an open stream socket re-checks that its token or session is still valid.
    public var recheckInterval: Duration = .seconds(1)
    /// Last use is written at most this often per session, so requests do not each cost a write.
    public var touchInterval: TimeInterval = 60

    public init() {}
}
