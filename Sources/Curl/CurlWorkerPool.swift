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
    public func run<T: Sendable>(_ body: @escaping @Sendable (CurlEasy) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job: @Sendable (CurlEasy?, CurlError?) -> Void = { handle, setupError in
                guard let handle else {
                    continuation.resume(throwing: setupError ?? CurlError(code: 2, message: "no curl handle"))
                    return
                }
                continuation.resume(with: Result { try body(handle) })
            }
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume(throwing: CurlError(code: 2, message: "curl worker pool is shut down"))
                return
            }
            jobs.append(job)
            condition.signal()
            condition.unlock()
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
