import Foundation

/// A few threads, each owning one `CurlEasy` for its whole life, that run blocking transfers off
/// Swift's cooperative thread pool.
///
/// Each thread reuses its handle, so with N workers a batch of mail to one server opens about N
/// connections in total instead of one per message, and N messages are in flight at once.
public final class CurlWorkerPool: @unchecked Sendable {
    // @unchecked: `jobs` and `stopped` are only touched while `condition` is locked.
    private let condition = NSCondition()
    private var jobs: [@Sendable (CurlEasy?, CurlError?) -> Void] = []
    private var stopped = false
    public let size: Int

    public init(size: Int, name: String = "curl") {
        self.size = max(1, size)
        for index in 0..<self.size {
            let thread = Thread { [self] in self.work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Runs `body` on a worker with that worker's handle and returns its result.
    ///
    /// Cancelling the calling task returns `CancellationError` at once: a job still queued is dropped,
    /// a transfer already running finishes on its thread (bounded by its own timeouts) and its result is
    /// discarded. This lets a caller stop waiting at shutdown without killing a thread mid-transfer.
    public func run<T: Sendable>(_ body: @escaping @Sendable (CurlEasy) throws -> T) async throws -> T {
        let slot = ResultSlot<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                guard slot.install(continuation) else { return }
                let job: @Sendable (CurlEasy?, CurlError?) -> Void = { handle, setupError in
                    guard !slot.isFinished else { return }
                    guard let handle else {
                        slot.finish(.failure(setupError ?? CurlError(code: 2, message: "no curl handle")))
                        return
                    }
                    slot.finish(Result { try body(handle) })
                }
                condition.lock()
                if stopped {
                    condition.unlock()
                    slot.finish(.failure(CurlError(code: 2, message: "curl worker pool is shut down")))
                    return
                }
                jobs.append(job)
                condition.signal()
                condition.unlock()
            }
        } onCancel: {
            slot.finish(.failure(CancellationError()))
        }
    }

    /// Lets queued jobs finish, then ends the threads; later `run` calls fail at once.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        var handle: CurlEasy?
        var setupError: CurlError?
        do {
            handle = try CurlEasy()
        } catch {
            setupError = error
        }
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job(handle, setupError)
        }
    }
}

/// The one continuation of a `run` call, resumed exactly once: by the worker's result or by cancellation,
/// whichever comes first.
private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    // @unchecked: every field is only touched while `lock` is held.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var early: Result<T, any Error>?
    private var finished = false

    /// Stores the continuation; false (and resumed already) when cancellation came first.
    func install(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        lock.lock()
        if let early {
            lock.unlock()
            continuation.resume(with: early)
            return false
        }
        self.continuation = continuation
        lock.unlock()
        return true
    }

    var isFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        return finished
    }

    func finish(_ result: Result<T, any Error>) {
        lock.lock()
        guard !finished else {
            lock.unlock()
            return
        }
        finished = true
        guard let continuation else {
            early = result
            lock.unlock()
            return
        }
        self.continuation = nil
        lock.unlock()
        continuation.resume(with: result)
    }
}
