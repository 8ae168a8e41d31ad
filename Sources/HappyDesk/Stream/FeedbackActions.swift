import Foundation
import Hummingbird

/// What analysts, managers and requesters do on a response: reply, acknowledge, give kudos, answer back.
///
/// Each action writes its row, its event and (for replies) its outbox row in one transaction, then
/// publishes the event after commit, so the stream never shows something that was not saved.
public struct FeedbackActions: Sendable {
    public let batcher: WriteBatcher
    public let catalog: SurveyCatalog
    public let settings: Settings
    public let publisher: any EventPublisher

    public init(batcher: WriteBatcher, catalog: SurveyCatalog, settings: Settings, publisher: any EventPublisher) {
        self.batcher = batcher
        self.catalog = catalog
        self.settings = settings
        self.publisher = publisher
    }

    /// The outbox channel for replies: the one surveys go out on, so a reply reaches the requester the
    /// same way (on `webhook` it is posted as `{"type": "survey.reply", …}`, see docs/delivery.md).
    var replyChannel: DeliveryChannel { Outbox.defaultChannel(settings: settings) }

    /// An analyst's (or manager's) reply: saved to the thread, queued as an email to the requester.
    /// `remote` (the client address) goes into the audit row written in the same transaction.
    public func reply(by user: AuthenticatedUser, responseID: Int64, text: String?, remote: String = "unknown", now: Date = Date()) async throws
        -> ActionResult
    {
        let text = try FeedbackText.validated(text)
        let channel = replyChannel
        let (result, event) = try await batcher.write { db -> (ActionResult, StoredEvent) in
            let access = try ResponseAccess.load(db, responseID: responseID, user: user)
            let messageID = try FeedbackStore.insertMessage(
                db, responseID: responseID, invitationID: access.invitationID, author: .analyst, userID: user.id, name: user.name, text: text,
                now: now)
            let sealed = try Outbox.surveySealedToken(db, invitationID: access.invitationID)
            let payload = try Self.json(["text": text, "author": user.name])
            try Outbox.enqueue(
                db, invitationID: access.invitationID, purpose: .reply, channel: channel, sealedToken: sealed, payload: payload, dueAt: now, now: now
            )
            let event = try Self.appendMessage(
                db, access: access, messageID: messageID, author: .analyst, authorName: user.name, text: text, now: now)
            try AuditLog.record(
                db, .reply, actor: .user(user, remote: remote), target: "response:\(responseID)", details: ["message_id": messageID], at: now)
            return (ActionResult(response_id: responseID, message_id: messageID, event_id: event.id), event)
        }
        await publisher.publish([event])
        return result
    }

    /// The requester's answer back, from their survey page; it appears on the analyst's stream.
    public func requesterMessage(token: String, text: String?, now: Date = Date()) async throws -> ActionResult {
        let text = try FeedbackText.validated(text, field: "message")
        guard SurveyToken.looksValid(token) else { throw AnswerService.unknownLink }
        let hash = SurveyToken.hash(token)
        let catalog = catalog
        let (result, event) = try await batcher.write { db -> (ActionResult, StoredEvent) in
            guard let link = try InvitationStore.link(db, tokenHash: hash), link.status != .skipped else { throw AnswerService.unknownLink }
            guard link.expiresAt > now else {
                throw AppError(.gone, code: "expired", "This survey link has expired, so messages can no longer be sent.")
            }
            guard let responseID = link.responseID, let access = try ResponseAccess.load(db, responseID: responseID) else {
                throw AppError(.conflict, code: "no_response", "Please answer the survey first; then you can write to the analyst.")
            }
            let anonymous = catalog.survey(id: access.surveyID)?.anonymous ?? false
            let name = anonymous ? nil : access.requesterName
            let messageID = try FeedbackStore.insertMessage(
                db, responseID: responseID, invitationID: access.invitationID, author: .requester, userID: nil, name: name, text: text, now: now)
            let event = try Self.appendMessage(db, access: access, messageID: messageID, author: .requester, authorName: name, text: text, now: now)
            return (ActionResult(response_id: responseID, message_id: messageID, event_id: event.id), event)
        }
        await publisher.publish([event])
        return result
    }

    /// Marks a response handled: clears its follow-up flag and re-arms its alert and reopen webhooks, so a
    /// later turn for the worse is reported once more (`FollowUpRules`).
    public func acknowledge(by user: AuthenticatedUser, responseID: Int64, remote: String = "unknown", now: Date = Date()) async throws
        -> ActionResult
    {
        try await batcher.write { db -> ActionResult in
            _ = try ResponseAccess.load(db, responseID: responseID, user: user)
            try FeedbackStore.acknowledge(db, responseID: responseID, userID: user.id, now: now)
            try AuditLog.record(db, .acknowledge, actor: .user(user, remote: remote), target: "response:\(responseID)", at: now)
            return ActionResult(response_id: responseID, handled_at: now)
        }
    }

    /// A manager's recognition on a response, shown to the analyst it credits. Leads and owners give kudos
    /// within their scope (`ResponseAccess.load` refuses a response outside it).
    public func kudos(by user: AuthenticatedUser, responseID: Int64, text: String?, remote: String = "unknown", now: Date = Date()) async throws
        -> ActionResult
    {
        guard user.givesKudos else {
            throw AppError(.forbidden, code: "forbidden", "only managers, admins, leads and owners can give kudos")
        }
        let text = try FeedbackText.validated(text)
        let (result, event) = try await batcher.write { db -> (ActionResult, StoredEvent) in
            let access = try ResponseAccess.load(db, responseID: responseID, user: user)
            let kudosID = try FeedbackStore.insertKudos(db, responseID: responseID, userID: user.id, name: user.name, text: text, now: now)
            let body = KudosEvent(
                kudos_id: kudosID, response_id: responseID, invitation_id: access.invitationID, ticket_id: access.ticketID, from_name: user.name,
                text: text, assignee_id: access.assigneeID, assignee_name: access.assigneeName, assignee_email: access.assigneeEmail,
                group: access.group, service: access.service, created_at: now
            )
            let event = try EventLog.append(
                db, type: StreamEventType.kudosCreated, responseID: responseID, invitationID: access.invitationID,
                assigneeID: access.assigneeID ?? access.assigneeEmail, payload: body, at: now, surveyID: access.surveyID
            )
            try AuditLog.record(
                db, .kudos, actor: .user(user, remote: remote), target: "response:\(responseID)", details: ["kudos_id": kudosID], at: now)
            return (ActionResult(response_id: responseID, kudos_id: kudosID, event_id: event.id), event)
        }
        await publisher.publish([event])
        return result
    }

    /// The client address of a request, as the audit rows of these actions record it.
    public func remote(_ request: Request, _ context: AppRequestContext) -> String {
        ClientAddress.of(request, context, trustProxy: settings.limits.trustProxy)
    }

    static func appendMessage(
        _ db: any SQLConnection, access: ResponseAccess, messageID: Int64, author: FeedbackStore.Author, authorName: String?, text: String, now: Date
    ) throws -> StoredEvent {
        let body = MessageEvent(
            message_id: messageID, response_id: access.responseID, invitation_id: access.invitationID, ticket_id: access.ticketID,
            author: author.rawValue, author_name: authorName, text: text, assignee_id: access.assigneeID, assignee_email: access.assigneeEmail,
            group: access.group, service: access.service, created_at: now
        )
        return try EventLog.append(
            db, type: StreamEventType.messageCreated, responseID: access.responseID, invitationID: access.invitationID,
            assigneeID: access.assigneeID ?? access.assigneeEmail, payload: body, at: now, surveyID: access.surveyID
        )
    }

    static func json(_ object: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(object), as: UTF8.self)
    }
}
