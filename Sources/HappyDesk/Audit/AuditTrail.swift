import Foundation
import Hummingbird

/// Records audit rows from request paths, through `WriteBatcher` (so an audited view costs one shared insert),
/// with the actor and client address taken from the request.
public struct AuditTrail: Sendable {
    public let batcher: WriteBatcher
    /// Take the client address from `X-Forwarded-For` (`HAPPYDESK_TRUST_PROXY`), as the rate limits do.
    public let trustProxy: Bool

    public init(batcher: WriteBatcher, trustProxy: Bool) {
        self.batcher = batcher
        self.trustProxy = trustProxy
    }

    /// The client address of a request, as the audit trail records it.
    public func remote(_ request: Request, _ context: AppRequestContext) -> String {
        ClientAddress.of(request, context, trustProxy: trustProxy)
    }

    /// The signed-in user of the request (anonymous when nobody is), with the client address.
    public func actor(_ request: Request, _ context: AppRequestContext) -> AuditActor {
        let remote = remote(request, context)
        return context.user.map { AuditActor.user($0, remote: remote) } ?? .anonymous(remote: remote)
    }

    /// Appends one row in a write of its own; the caller resumes once it is durable.
    public func record(
        _ action: AuditAction, actor: AuditActor, target: String? = nil, details: [String: any Sendable] = [:], now: Date = Date()
    ) async throws {
        try await batcher.write { db in
            _ = try AuditLog.record(db, action, actor: actor, target: target, details: details, at: now)
        }
    }

    public func record(
        _ action: AuditAction, request: Request, context: AppRequestContext, target: String? = nil, details: [String: any Sendable] = [:]
    ) async throws {
        try await record(action, actor: actor(request, context), target: target, details: details)
    }
}
