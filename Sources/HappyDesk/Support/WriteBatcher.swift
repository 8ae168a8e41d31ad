import Synchronization

/// Group commit: concurrent writes that arrive while a transaction is committing are run together in
/// the next transaction; one failure never spoils its neighbours (see `run`). Job bodies may run twice
/// (the second time after a rollback), so they must only touch the database.
///
/// A caller resumes only after the transaction holding its write has committed, so every
/// acknowledged write is durable; the commit (and its fsync) is paid once per batch.
///
/// The queue is bounded: when `maxPending` writes are already waiting, a new one fails at once with a 503
/// and `Retry-After: 1`, so a flood costs the flooder a retry instead of costing the server unbounded memory
/// and every caller unbounded latency.
public final class WriteBatcher: Sendable {
    private final class Job: @unchecked Sendable {
        let body: (any SQLConnection) throws -> any Sendable
        let continuation: CheckedContinuation<any Sendable, any Error>
        var result: Result<any Sendable, any Error> = .failure(CancellationError())

        init(body: @escaping (any SQLConnection) throws -> any Sendable, continuation: CheckedContinuation<any Sendable, any Error>) {
            self.body = body
            self.continuation = continuation
        }
    }

    private struct State {
        var pending: [Job] = []
        /// Batches running now (one on SQLite, whose writer is single; several on PostgreSQL).
        var draining = 0
    }

    public let storage: any AppStorage
    private let state = Mutex(State())
    private let maxBatch: Int
    /// Batches that may run at once: 1 on SQLite (one writer), more on PostgreSQL, where a batch spends most
    /// of its time waiting for round trips that other connections can overlap.
    public let concurrentBatches: Int
    /// Writes that may wait for the database before new ones are refused.
    public let maxPending: Int

    /// Records each batch's size in `happydesk_write_batch_size`; nil records nothing.
    private let metrics: HappyDeskMetrics?

    public init(storage: any AppStorage, maxBatch: Int = 256, maxPending: Int = 10_000, metrics: HappyDeskMetrics? = nil) {
        self.storage = storage
        self.metrics = metrics
        // PostgreSQL: smaller batches, several at once, so waiting jobs are spread over connections instead of
        // queueing behind one connection's round trips (measured in Benchmarks/postgres).
        self.maxBatch = storage.dialect == .postgres ? min(maxBatch, 16) : maxBatch
        self.concurrentBatches = storage.dialect == .postgres ? 4 : 1
        self.maxPending = max(1, maxPending)
    }

    /// Writes queued and not yet started.
    public var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Runs `body` inside a write transaction shared with other concurrent callers.
    ///
    /// On PostgreSQL another instance may commit the same key between this job's read and its insert (the same
    /// closure posted to two instances, two first answers to one survey at once): the job then fails with a
    /// constraint violation and runs once more, in a new transaction, where it sees the other's row.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        do {
            return try await writeOnce(body)
        } catch is StorageConstraintViolation where storage.dialect == .postgres {
            return try await writeOnce(body)
        }
    }

    private func writeOnce<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let job = Job(body: { try body($0) }, continuation: continuation)
            let start = state.withLock { state -> Bool? in
                guard state.pending.count < maxPending else { return nil }
                state.pending.append(job)
                guard state.draining < concurrentBatches else { return false }
                state.draining += 1
                return true
            }
            switch start {
            case nil: continuation.resume(throwing: AppError.overloaded(retryAfter: 1))
            case true?: Task { await self.drain() }
            case false?: break
            }
        }
        guard let typed = value as? T else { preconditionFailure("WriteBatcher result type mismatch") }
        return typed
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Job] in
                let count = min(state.pending.count, maxBatch)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                if batch.isEmpty { state.draining -= 1 }
                return batch
            }
            if batch.isEmpty { return }
            metrics?.writeBatchSize.record(batch.count)
            await run(batch)
        }
    }

    private struct NeedsSavepoints: Error {}

    private func run(_ batch: [Job]) async {
        do {
            do {
                // Fast path, no savepoints: a job that fails before changing anything (a bad token, a bad
                // answer) needs nothing undone. Only a job that fails after writing forces the slow path.
                try await storage.write { db in
                    for job in batch {
                        let changes = db.changeCount
                        do {
                            let value = try job.body(db)
                            try db.flush()
                            job.result = .success(value)
                        } catch {
                            job.result = .failure(error)
                            if db.changeCount != changes { throw NeedsSavepoints() }
                        }
                    }
                }
            } catch is NeedsSavepoints {
                // Slow path: the whole batch again, each job in its own savepoint, so one failure never
                // spoils its neighbours.
                try await storage.write { db in
                    for job in batch {
                        do {
                            job.result = .success(
                                try db.savepoint {
                                    let value = try job.body(db)
                                    try db.flush()
                                    return value
                                })
                        } catch {
                            job.result = .failure(error)
                        }
                    }
                }
            }
            for job in batch { job.continuation.resume(with: job.result) }
        } catch {
            for job in batch { job.continuation.resume(throwing: error) }
        }
    }
}
