import Foundation
import GRDB
import HummingbirdWebSocket
import Logging

/// One analyst's WebSocket: replays what they missed after `?after=`, then forwards live events, while
/// answering the frames they send (reply, ack, kudos).
struct StreamSession: Sendable {
    let user: AuthenticatedUser
    /// Replay events after this id; nil goes live at once.
    let after: Int64?
    let reader: any DatabaseReader
    let hub: StreamHub
    let actions: FeedbackActions
    let logger: Logger

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        // Subscribe before reading the replay, so nothing committed in between is lost; ids dedupe the overlap.
        let subscription = hub.subscribe(user)
        defer { subscription.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await send(subscription, to: outbound) }
            group.addTask { try await receive(inbound, outbound) }
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
                    try await outbound.write(.text(StreamEvent(event).frame))
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

    private func receive(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws {
        for try await message in inbound.messages(maxSize: ClientFrame.maxBytes * 2) {
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
            case "reply": result = try await actions.reply(by: user, responseID: try parsed.responseID(), text: parsed.text)
            case "ack": result = try await actions.acknowledge(by: user, responseID: try parsed.responseID())
            case "kudos": result = try await actions.kudos(by: user, responseID: try parsed.responseID(), text: parsed.text)
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
