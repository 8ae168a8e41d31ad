import Foundation
import Synchronization

/// When this process's sender last showed it is alive: a round started, or a send finished. `/readyz`
/// reads it to tell a sender that is waiting on purpose (nothing due, paced, paused by the relay) from one
/// that is stuck. nil until a sender runs in this process (`serve --no-delivery`: another process sends).
public final class DeliveryHeartbeat: Sendable {
    private let last = Mutex<Date?>(nil)

    public init() {}

    public func beat(_ now: Date = Date()) { last.withLock { $0 = now } }

    public var lastBeat: Date? { last.withLock { $0 } }
}
