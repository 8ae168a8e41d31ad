import Foundation
import HummingbirdWebSocket
import Logging

/// One analyst's WebSocket: replays what they missed after `?after=`, then forwards live events, while
/// answering the frames they send (reply, ack, kudos).
///
/// The socket lives no longer than its credential: every `SessionSettings.recheckInterval` it re-reads
/// the token or session (revocation may come from the CLI, another process), and it checks again before
/// acting on each frame; once the credential is gone the socket closes with 1008 (policy violation).
struct StreamSession: Sendable {
    let user: AuthenticatedUser
    let credential: Credential
    /// Replay events after this id; nil goes live at once.
    let after: Int64?
    let reader: any AppStorage
    let hub: StreamHub
    let actions: FeedbackActions
    let users: UserStore
    /// The client address at the upgrade, for the audit rows of the actions sent on this socket.
    var remote: String = "unknown"
    let logger: Logger

    /// Tells the analyst page to show the sign-in form rather than reconnect; fits the 123-byte limit.
    static let signedOutReason = "signed out, revoked or expired: sign in again"

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        // Subscribe before reading the replay, so nothing committed in between is lost; ids dedupe the overlap.
        let subscription = hub.subscribe(user)
        defer { subscription.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await send(subscription, to: outbound) }
            group.addTask { try await receive(inbound, outbound) }
            group.addTask { try await watchCredential(outbound) }
            // Either side ending ends the session: the client left, or the feed was cut.
            _ = try await group.next()
            group.cancelAll()
        }
    }

    private func send(_ subscription: StreamHub.Subscription, to outbound: WebSocketOutboundWriter) async throws {
        var last = after ?? 0
        if after != nil {
            while true {
                let cursor = last
                let page = try await reader.read { db in try EventLog.events(db, after: cursor, for: user) }
                for event in page {
                    try await outbound.write(.text(StreamEvent(event, anonymity: hub.anonymity).frame))
                    last = event.id
                }
                if page.count < EventLog.pageLimit { break }
            }
        }
        for await event in subscription.events {
            if event.id <= last { continue }
            try await outbound.write(.text(event.frame))
            last = event.id
        }
        switch subscription.endReason {
        case .overflow:
            logger.notice("stream consumer too slow, disconnected", metadata: ["user": "\(user.id)", "last_event": "\(last)"])
            // A close reason is limited to 123 bytes.
            try await outbound.close(.policyViolation, reason: "too slow: over \(hub.bufferLimit) events behind; reconnect with ?after=\(last)")
        case .shutdown:
            try await outbound.close(.goingAway, reason: "server shutting down; reconnect with ?after=\(last)")
        case nil:
            break
        }
    }

    /// Returns (ending the session) once the credential no longer holds, after closing the socket with 1008.
    private func watchCredential(_ outbound: WebSocketOutboundWriter) async throws {
        while true {
            try await Task.sleep(for: users.sessions.recheckInterval)
            guard try await credentialHolds(used: false, outbound) else { return }
        }
    }

    /// Whether the credential is still valid; when not, the socket is closed. A failed read closes too
    /// (fail closed), with a reason that invites a reconnect rather than a new sign-in.
    private func credentialHolds(used: Bool, _ outbound: WebSocketOutboundWriter) async throws -> Bool {
        let valid: Bool
        do {
            valid = try await users.isValid(credential, used: used, holder: user)
        } catch {
            logger.error("stream credential re-check failed", metadata: ["user": "\(user.id)", "error": "\(String(reflecting: error))"])
            try await outbound.close(.unexpectedServerError, reason: "could not re-check your sign-in; reconnect")
            return false
        }
        if !valid {
            logger.info("stream closed: credential ended", metadata: ["user": "\(user.id)"])
            try await outbound.close(.policyViolation, reason: Self.signedOutReason)
        }
        return valid
    }

    private func receive(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws {
        for try await message in inbound.messages(maxSize: ClientFrame.maxBytes * 2) {
            // A frame is acted on only while the credential holds; it also counts as use of a session.
            guard try await credentialHolds(used: true, outbound) else { return }
            let reply: ServerReply
            switch message {
            case .binary:
                reply = .error(.badRequest("send JSON text frames, not binary", code: "binary_frame"))
            case .text(let text):
                reply = await answer(text)
            }
            try await outbound.write(.text(reply.json))
        }
    }

    private func answer(_ text: String) async -> ServerReply {
        var frame: ClientFrame?
        do {
            let parsed = try ClientFrame.parse(text)
            frame = parsed
            let result: ActionResult
            switch parsed.type {
            case "reply": result = try await actions.reply(by: user, responseID: try parsed.responseID(), text: parsed.text, remote: remote)
            case "ack": result = try await actions.acknowledge(by: user, responseID: try parsed.responseID(), remote: remote)
            case "kudos": result = try await actions.kudos(by: user, responseID: try parsed.responseID(), text: parsed.text, remote: remote)
            default:
                throw AppError.badRequest("unknown frame type '\(TextLimit.preview(parsed.type, 40))'; use reply, ack or kudos", code: "unknown_type")
            }
            return .ok(parsed, result)
        } catch let error as AppError {
            // A frame with a wrongly typed field still gets its `ref` back, so the client can match the error.
            let loose = frame == nil ? ClientFrame.loose(text) : (frame?.type, frame?.ref)
            return .error(error, request: loose.0, ref: loose.1)
        } catch {
            logger.error("stream action failed", metadata: ["error": "\(String(reflecting: error))"])
            return .error(
                AppError(.internalServerError, code: "internal", "something went wrong on our side; it has been logged"), request: frame?.type,
                ref: frame?.ref)
        }
    }
}
