import Foundation

/// Closes the loop on a saved response, inside its transaction: a negative score notifies the group's
/// alert webhook; "issue not solved" flags the response for follow-up and calls the reopen webhook.
///
/// Webhook calls are outbox rows (channel `webhook`, payload `{"url":…,"body":{…}}`) that the delivery
/// service sends, signed, with retries.
///
/// Answers are amendable until their link expires, so each webhook is armed once per response: flipping an
/// answer between negative and positive (or adding and removing "not solved") queues at most one alert and
/// one reopen call until an analyst acknowledges the response (`FeedbackActions.acknowledge` re-arms both).
/// The state lives in `response_follow_ups` (`alert_queued_at`, `reopen_queued_at`, migration 0008) and is
/// written in the answer's transaction, so concurrent amendments and restarts cannot slip a second call in.
public struct FollowUpRules: Sendable {
    public let settings: Settings

    public init(settings: Settings) { self.settings = settings }

    /// Called by `AnswerService.submit` after the response and its event are written.
    public func apply(_ db: any SQLConnection, body: AnswerService.ResponseEvent, previous: StoredResponse?, survey: SurveyDefinition) throws {
        let now = body.last_changed_at
        let wasNegative = previous.map { ScoreBand(score: $0.score) == .negative } ?? false
        let turnedNegative = ScoreBand(score: body.score) == .negative && !wasNegative
        let alertURL = turnedNegative ? settings.alertWebhook(group: body.group) : nil
        let reopening = survey.reopeningFactors(in: body.factors)
        let reopenedBefore = !survey.reopeningFactors(in: previous?.factors ?? []).isEmpty
        let reopens = !reopening.isEmpty && !reopenedBefore
        guard alertURL != nil || reopens else { return }
        let armed = try FeedbackStore.arming(db, responseID: body.response_id)

        if let url = alertURL, armed.alert {
            let payload = try FeedbackActions.json(WebhookCall(url: url, body: AlertBody(text: alertText(body, survey: survey))))
            try Outbox.enqueue(
                db, invitationID: body.invitation_id, purpose: .alert, channel: .webhook, sealedToken: nil, payload: payload, dueAt: now, now: now)
            try FeedbackStore.markAlertQueued(db, responseID: body.response_id, now: now)
        }
        guard reopens else { return }
        let reopenURL = armed.reopen ? settings.reopenWebhookURL : nil
        // The flag follows every "not solved"; only the webhook is limited to one call per acknowledgement.
        try FeedbackStore.flag(
            db, responseID: body.response_id, reason: reopening.joined(separator: ","), now: now, reopenQueuedAt: reopenURL == nil ? nil : now)
        if let url = reopenURL {
            let payload = try FeedbackActions.json(WebhookCall(url: url, body: reopenBody(body, reason: reopening, survey: survey)))
            try Outbox.enqueue(
                db, invitationID: body.invitation_id, purpose: .reopen, channel: .webhook, sealedToken: nil, payload: payload, dueAt: now, now: now)
        }
    }

    /// Whether each webhook may still be queued for a response (no call since the last acknowledgement).
    func alertText(_ body: AnswerService.ResponseEvent, survey: SurveyDefinition) -> String {
        let reasons = body.factors.compactMap { id in survey.factor(id: id)?.0.label.text(survey.defaultLocale) }.map(ChatText.escape)
        var head = "Negative feedback: \(body.score)/10"
        if !Anonymity.isAnonymous(survey) { head += " on \(ChatText.escape(body.ticket_id))" }
        let place = [body.service, body.group].compactMap { $0 }.filter { !$0.isEmpty }.map(ChatText.escape).joined(separator: ", ")
        if !place.isEmpty { head += " (\(place))" }
        var parts = [head]
        if let analyst = body.assignee_name ?? body.assignee_email { parts.append("resolved by \(ChatText.escape(analyst))") }
        if !reasons.isEmpty { parts.append("reasons: \(reasons.joined(separator: ", "))") }
        // Cut (between characters) before escaping, so an entity is never cut in half.
        if let comment = body.comment { parts.append("comment: \"\(ChatText.escape(TextLimit.prefix(comment, 300)))\"") }
        if let url = settings.analystPageURL { parts.append(url) }
        return parts.joined(separator: " · ")
    }

    /// The ITSM needs the ticket to reopen it, even for an anonymous survey. For one, the call carries nothing
    /// of the answer (no response id, score, factors or comment): whatever the ITSM shows on the ticket must not
    /// let an analyst match the ticket with the anonymous answer on the stream.
    func reopenBody(_ body: AnswerService.ResponseEvent, reason: [String], survey: SurveyDefinition) -> ReopenBody {
        let reason = reason.joined(separator: ",")
        guard !Anonymity.isAnonymous(survey) else {
            return ReopenBody(event: "ticket.reopen", ticket_id: body.ticket_id, source: body.source, reason: reason)
        }
        return ReopenBody(
            event: "ticket.reopen", ticket_id: body.ticket_id, source: body.source, response_id: body.response_id, score: body.score,
            factors: body.factors, reason: reason, comment: body.comment
        )
    }

    struct WebhookCall<Body: Encodable>: Encodable {
        var url: String
        var body: Body
    }

    /// `{"text": …}`: the payload both Slack and Teams incoming webhooks accept.
    struct AlertBody: Encodable {
        var text: String
    }

    /// The reopen call to the ITSM; the answer's fields are left out for anonymous surveys.
    struct ReopenBody: Encodable {
        var event: String
        var ticket_id: String
        var source: String
        var response_id: Int64?
        var score: Int?
        var factors: [String]?
        var reason: String
        var comment: String?
    }
}

extension SurveyDefinition {
    /// The ids among `factors` that mean "issue not solved" (`reopens: true` in the YAML).
    func reopeningFactors(in factors: [String]) -> [String] {
        factors.filter { factor(id: $0)?.0.reopens == true }
    }
}
