import Foundation
import Logging
import Synchronization

/// In-process fan-out of committed events to every connected viewer who may see them.
///
/// Publishers call `publish` right after their transaction commits; concurrent commits can publish
/// out of id order, so the hub releases events strictly in id order (a short gap is filled from the
/// database, which already holds every lower id once a higher one has committed). Each subscriber has
/// a bounded buffer: a consumer that falls behind is cut off with a reason instead of stalling others,
/// and resumes with `?after=`.
public final class StreamHub: EventPublisher, Sendable {
    /// Why a subscription ended.
    public enum EndReason: Sendable, Equatable {
        case overflow(lastDelivered: Int64?)
        case shutdown
    }

    /// One viewer's live feed: iterate `events`; when it ends, `endReason` says why.
    public final class Subscription: Sendable {
        public let events: AsyncStream<StreamEvent>
        fileprivate let continuation: AsyncStream<StreamEvent>.Continuation
        fileprivate let user: AuthenticatedUser
        private let reason = Mutex<EndReason?>(nil)

        fileprivate init(user: AuthenticatedUser, limit: Int) {
            let (stream, continuation) = AsyncStream<StreamEvent>.makeStream(bufferingPolicy: .bufferingOldest(limit))
            self.events = stream
            self.continuation = continuation
            self.user = user
        }

        public var endReason: EndReason? { reason.withLock { $0 } }

        fileprivate func end(_ why: EndReason) {
            setReason(why)
            continuation.finish()
        }

        fileprivate func setReason(_ why: EndReason) {
            reason.withLock { if $0 == nil { $0 = why } }
        }

        /// Stops the feed; the hub forgets it.
        public func cancel() { continuation.finish() }
    }

    private struct State {
        var nextExpected: Int64?
        var pending: [Int64: StoredEvent] = [:]
        var gapFillScheduled = false
        var subscribers: [ObjectIdentifier: Subscription] = [:]
        var lastDelivered: Int64?
        var closed = false
        /// Overflowed subscriptions, finished after the lock is released (finishing runs `onTermination`,
        /// which takes the lock again).
        var toFinish: [Subscription] = []
    }

    private let state = Mutex(State())
    private let reader = Mutex<(any AppStorage)?>(nil)
    private let forward: any EventPublisher
    /// Events a subscriber may have waiting before it counts as too slow.
    public let bufferLimit: Int
    /// How long an id gap may last before it is filled from the database.
    public let gapTimeout: Duration
    /// Which events are shown without requester and ticket; every frame the hub, the replay and
    /// `/api/v1/events` build goes through it.
    public let anonymity: Anonymity
    private let logger: Logger

    public init(
        bufferLimit: Int = 1024, gapTimeout: Duration = .milliseconds(50), anonymity: Anonymity = .none,
        forwardTo forward: any EventPublisher = NoEventPublisher(), logger: Logger = Logger(label: "happydesk.stream")
    ) {
        self.bufferLimit = max(1, bufferLimit)
        self.gapTimeout = gapTimeout
        self.anonymity = anonymity
        self.forward = forward
        self.logger = logger
    }

    /// Starts ordering from the newest committed event; called once the database is migrated.
    public func attach(_ database: any AppStorage) throws {
        let maxID = try database.readSync { db in try EventLog.lastID(db) }
        reader.withLock { $0 = database }
        state.withLock { $0.nextExpected = maxID + 1 }
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Registers a viewer; events committed from now on that they may see are delivered in id order.
    public func subscribe(_ user: AuthenticatedUser) -> Subscription {
        let subscription = Subscription(user: user, limit: bufferLimit)
        let key = ObjectIdentifier(subscription)
        let closed = state.withLock { state -> Bool in
            if state.closed { return true }
            state.subscribers[key] = subscription
            return false
        }
        if closed {
            subscription.end(.shutdown)
            return subscription
        }
        subscription.continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: key) }
        }
        return subscription
    }

    public func publish(_ events: [StoredEvent]) async {
        guard !events.isEmpty else { return }
        let prepared = events
        let (needsGapFill, finished) = state.withLock { state -> (Bool, [Subscription]) in
            defer { state.toFinish = [] }
            guard let next = state.nextExpected else {
                // Not attached to a database (unit use): deliver as given.
                for event in prepared.sorted(by: { $0.id < $1.id }) { Self.deliver(event, in: &state, anonymity: anonymity) }
                return (false, state.toFinish)
            }
            for event in prepared where event.id >= next { state.pending[event.id] = event }
            Self.releaseContiguous(&state, anonymity: anonymity)
            guard !state.pending.isEmpty, !state.gapFillScheduled else { return (false, state.toFinish) }
            state.gapFillScheduled = true
            return (true, state.toFinish)
        }
        for subscription in finished { subscription.continuation.finish() }
        if needsGapFill {
            Task { await self.fillGapAfterTimeout() }
        }
        await forward.publish(events)
    }

    /// Reads events committed since the last one released (by this or another instance) and publishes them:
    /// how events written on another instance reach this one's sockets (`PostgresEventFanOut`). The events
    /// table stays the source of truth; ids already released are ignored by `publish`.
    public func pullCommitted(limit: Int = EventLog.pageLimit) async {
        guard let database = reader.withLock({ $0 }) else { return }
        while true {
            guard let from = state.withLock({ $0.nextExpected }) else { return }
            let found: [StoredEvent]
            do {
                found = try await database.read { db in try EventLog.range(db, from: from, upTo: Int64.max, limit: limit) }
            } catch {
                logger.warning("stream catch-up read failed", metadata: ["error": "\(error)"])
                return
            }
            guard !found.isEmpty else { return }
            await publish(found)
            if found.count < limit { return }
        }
    }

    /// Ends every subscription; sockets then close normally.
    public func shutdown() {
        let all = state.withLock { state -> [Subscription] in
            state.closed = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for subscription in all { subscription.end(.shutdown) }
    }

    private static func releaseContiguous(_ state: inout State, anonymity: Anonymity) {
        guard var next = state.nextExpected else { return }
        while let event = state.pending.removeValue(forKey: next) {
            deliver(event, in: &state, anonymity: anonymity)
            next += 1
        }
        state.nextExpected = next
    }

    /// Runs under the lock, so every subscriber sees the same order; `yield` never blocks. The frame is
    /// built only when someone is connected: with no viewer an event costs only its ordering.
    private static func deliver(_ stored: StoredEvent, in state: inout State, anonymity: Anonymity) {
        state.lastDelivered = stored.id
        guard !state.subscribers.isEmpty else { return }
        let event = StreamEvent(stored, anonymity: anonymity)
        var overflowed: [ObjectIdentifier] = []
        for (key, subscription) in state.subscribers where subscription.user.canSee(event.audience) {
            switch subscription.continuation.yield(event) {
            case .enqueued: continue
            case .dropped:
                subscription.setReason(.overflow(lastDelivered: event.id - 1))
                state.toFinish.append(subscription)
                overflowed.append(key)
            case .terminated:
                overflowed.append(key)
            @unknown default:
                continue
            }
        }
        for key in overflowed { state.subscribers.removeValue(forKey: key) }
    }

    private func fillGapAfterTimeout() async {
        try? await Task.sleep(for: gapTimeout)
        let bounds = state.withLock { state -> (Int64, Int64)? in
            guard let next = state.nextExpected, let first = state.pending.keys.min() else {
                state.gapFillScheduled = false
                return nil
            }
            return (next, first)
        }
        guard let (from, upTo) = bounds else { return }
        var found: [StoredEvent] = []
        if let database = reader.withLock({ $0 }) {
            do {
                found = try await database.read { db in
                    try EventLog.range(db, from: from, upTo: upTo)
                }
            } catch {
                logger.error("stream gap fill failed", metadata: ["error": "\(error)"])
            }
        }
        let (again, finished) = state.withLock { state -> (Bool, [Subscription]) in
            defer { state.toFinish = [] }
            state.gapFillScheduled = false
            guard let next = state.nextExpected else { return (false, []) }
            for event in found where event.id >= next { state.pending[event.id] = event }
            Self.releaseContiguous(&state, anonymity: anonymity)
            // Ids still missing below a committed one were rolled back: skip past them.
            if let first = state.pending.keys.min(), let next = state.nextExpected, first <= upTo, first > next {
                state.nextExpected = first
                Self.releaseContiguous(&state, anonymity: anonymity)
            }
            guard !state.pending.isEmpty else { return (false, state.toFinish) }
            state.gapFillScheduled = true
            return (true, state.toFinish)
        }
        for subscription in finished { subscription.continuation.finish() }
        if again { await fillGapAfterTimeout() }
    }
}
