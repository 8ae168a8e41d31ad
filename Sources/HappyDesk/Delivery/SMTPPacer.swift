import Foundation
import Synchronization

/// Paces SMTP sends in this process: with a rate limit, each send takes the next start slot, one `interval`
/// after the previous one (a token bucket with a burst of one, so no second exceeds the rate); and when the
/// relay throttles everyone (421, 451), the whole channel pauses until the given time, not only that message.
///
/// The slots are reserved under a lock and waited for outside it, so concurrent sends keep their order and
/// spacing while the curl workers stay free for other channels. Only this process is paced: instances
/// sharing PostgreSQL each keep their own pace (see the README, "Mail limits").
public final class SMTPPacer: Sendable {
    private struct State {
        var nextSlot: ContinuousClock.Instant?
        var pausedUntil: ContinuousClock.Instant?
    }

    public let limit: SMTPRateLimit?
    private let state = Mutex(State())

    public init(limit: SMTPRateLimit?) { self.limit = limit }

    /// Waits for this send's slot; throws `CancellationError` when the send is given up on meanwhile. A pause that
    /// arrives while a send waits for its slot holds it back too, and it then takes a fresh slot, so the sends
    /// after a pause are spaced like any others instead of starting together.
    public func acquire() async throws {
        enum Step {
            case go
            case paused(ContinuousClock.Instant)
            case slot(ContinuousClock.Instant)
        }
        while true {
            let now = ContinuousClock.now
            let step = state.withLock { state -> Step in
                if let paused = state.pausedUntil, paused > now { return .paused(paused) }
                guard let limit else { return .go }
                var slot = now
                if let next = state.nextSlot, next > slot { slot = next }
                state.nextSlot = slot.advanced(by: .milliseconds(Int64((limit.interval * 1000).rounded())))
                return slot > now ? .slot(slot) : .go
            }
            switch step {
            case .go:
                return
            case .paused(let until):
                try await Task.sleep(until: until, clock: .continuous)
            case .slot(let slot):
                try await Task.sleep(until: slot, clock: .continuous)
                let paused = state.withLock { $0.pausedUntil }
                guard let paused, paused > ContinuousClock.now else { return }
                try await Task.sleep(until: paused, clock: .continuous)
            }
        }
    }

    /// The relay asked everyone to wait: no send starts before `seconds` from now (a later pause wins).
    public func pause(for seconds: Double) {
        let until = ContinuousClock.now.advanced(by: .milliseconds(Int64(max(0, seconds) * 1000)))
        state.withLock { state in
            if state.pausedUntil.map({ $0 < until }) ?? true { state.pausedUntil = until }
        }
    }
}
