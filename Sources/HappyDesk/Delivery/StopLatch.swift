import Synchronization

/// A one-way switch the delivery service trips on graceful shutdown: the dispatcher stops claiming and
/// starting sends, and a round waiting on its sends hears about it at once instead of at the next poll.
final class StopLatch: Sendable {
    private struct State {
        var tripped = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiters cancelled before they registered, so they resume at once when they do.
        var cancelled: Set<UInt64> = []
    }

    private let state = Mutex(State())

    var isTripped: Bool { state.withLock { $0.tripped } }

    func trip() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.tripped = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the latch is tripped, or when the waiting task is cancelled.
    func wait() async {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.tripped || state.cancelled.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume()
        }
    }
}
