import Foundation
import Synchronization

/// An in-memory token bucket per key (a client address, a link's hash, a credential's hash).
///
/// Each key holds up to `limit.count` tokens and regains them at `limit.count` per period; a request spends
/// one. Memory stays bounded whatever keys a client makes up: a bucket that has refilled is the same as no
/// bucket, so such buckets are dropped, and at `maxKeys` the longest-idle ones go first.
public final class RateLimiter: Sendable {
    /// What to tell the client: the limit's short name (`signin`), what it counts, and how to configure it.
    public let id: String
    public let counts: String
    public let variable: String
    public let limit: RateLimit
    public let maxKeys: Int
    private let now: @Sendable () -> Double

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        /// The next size at which refilled buckets are swept; doubles with the table so sweeping is amortised O(1).
        var sweepAt = 1024
    }

    private let state = Mutex(State())

    /// `now` returns seconds on a monotonic clock; tests pass their own.
    public init(
        id: String, counts: String, variable: String, limit: RateLimit, maxKeys: Int = 100_000, now: (@Sendable () -> Double)? = nil
    ) {
        self.id = id
        self.counts = counts
        self.variable = variable
        self.limit = limit
        self.maxKeys = max(1, maxKeys)
        if let now {
            self.now = now
        } else {
            let start = ContinuousClock.now
            self.now = {
                let elapsed = ContinuousClock.now - start
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
        }
    }

    /// Keys currently tracked (for tests of the memory bound).
    public var keyCount: Int { state.withLock { $0.buckets.count } }

    /// Spends one token for `key`, or throws a 429 naming the limit when none is left.
    public func acquire(_ key: String, format: AppError.Format = .json) throws(AppError) {
        if let wait = take(key, spend: true) { throw limited(wait, format: format) }
    }

    /// Throws a 429 when `key` has no token left, spending nothing: for limits that count only failures.
    public func check(_ key: String, format: AppError.Format = .json) throws(AppError) {
        if let wait = take(key, spend: false) { throw limited(wait, format: format) }
    }

    /// Spends one token for `key` if it has one: records a failure after the fact.
    public func record(_ key: String) {
        _ = take(key, spend: true)
    }

    /// Gives back a token spent by `acquire` for a request that turned out not to count.
    public func refund(_ key: String) {
        state.withLock { state in
            guard var bucket = state.buckets[key] else { return }
            bucket.tokens = min(Double(limit.count), bucket.tokens + 1)
            state.buckets[key] = bucket
        }
    }

    /// Refills the bucket, spends a token when asked, and returns the seconds to wait when none is left.
    private func take(_ key: String, spend: Bool) -> Double? {
        let time = now()
        let capacity = Double(limit.count)
        let rate = limit.refillPerSecond
        return state.withLock { state -> Double? in
            var bucket: Bucket
            if let existing = state.buckets[key] {
                bucket = existing
                bucket.tokens = min(capacity, bucket.tokens + max(0, time - bucket.updated) * rate)
                bucket.updated = time
            } else {
                bucket = Bucket(tokens: capacity, updated: time)
            }
            guard bucket.tokens >= 1 else {
                state.buckets[key] = bucket
                return (1 - bucket.tokens) / rate
            }
            guard spend else { return nil }
            bucket.tokens -= 1
            if state.buckets[key] == nil { makeRoom(&state, time: time) }
            state.buckets[key] = bucket
            return nil
        }
    }

    private func makeRoom(_ state: inout State, time: Double) {
        let capacity = Double(limit.count)
        let rate = limit.refillPerSecond
        if state.buckets.count >= state.sweepAt || state.buckets.count >= maxKeys {
            state.buckets = state.buckets.filter { $0.value.tokens + max(0, time - $0.value.updated) * rate < capacity }
            state.sweepAt = max(1024, state.buckets.count * 2)
        }
        if state.buckets.count >= maxKeys {
            // Every bucket is still draining: drop the longest-idle tenth, never more than needed to fit.
            let excess = state.buckets.count - maxKeys + 1
            let drop = max(excess, maxKeys / 10)
            for (key, _) in state.buckets.sorted(by: { $0.value.updated < $1.value.updated }).prefix(drop) {
                state.buckets.removeValue(forKey: key)
            }
        }
    }

    private func limited(_ wait: Double, format: AppError.Format) -> AppError {
        let seconds = max(1, Int(wait.rounded(.up)))
        var error = AppError(
            .tooManyRequests, code: "rate_limited",
            "too many \(counts): the limit is \(limit) (\(variable)); retry in \(seconds) s", format: format)
        error.limit = id
        error.headers[.retryAfter] = String(seconds)
        return error
    }
}
