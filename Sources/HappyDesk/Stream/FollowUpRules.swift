import Foundation
import GRDB

/// Closes the loop on a saved response, inside its transaction: a negative score notifies the group's
/// alert webhook; "issue not solved" flags the response for follow-up and calls the reopen webhook.
///
/// Webhook calls are outbox rows (channel `webhook`, payload `{"url":…,"body":{…}}`) that the delivery
/// service sends, signed, with retries.
public struct FollowUpRules: Sendable {
    public let settings: Settings

    public init(settings: Settings) { self.settings = settings }

    /// Called by `AnswerService.submit` after the response and its event are written.
    public func apply(_ db: Database, body: AnswerService.ResponseEvent, previous: StoredResponse?, survey: SurveyDefinition) throws {
        let now = body.last_changed_at
        let wasNegative = previous.map { ScoreBand(score: $0.score) == .negative } ?? false
        if ScoreBand(score: body.score) == .negative, !wasNegative, let url = settings.alertWebhook(group: body.group) {
            let payload = try FeedbackActions.json(WebhookCall(url: url, body: AlertBody(text: alertText(body, survey: survey))))
            try Outbox.enqueue(
                db, invitationID: body.invitation_id, purpose: "alert", channel: "webhook", sealedToken: nil, payload: payload, dueAt: now, now: now)
        }
        let reopening = survey.reopeningFactors(in: body.factors)
        let reopenedBefore = !survey.reopeningFactors(in: previous?.factors ?? []).isEmpty
        guard !reopening.isEmpty, !reopenedBefore else { return }
        try db.cachedStatement(
            sql: """
                INSERT INTO response_follow_ups (response_id, needed, reason, flagged_at, handled_at, handled_by) VALUES (?, 1, ?, ?, NULL, NULL)
                ON CONFLICT (response_id) DO UPDATE SET needed = 1, reason = excluded.reason, flagged_at = excluded.flagged_at,
                    handled_at = NULL, handled_by = NULL
                """
        ).execute(arguments: [body.response_id, reopening.joined(separator: ","), now]
        )
        if let url = settings.reopenWebhookURL {
            let reopen = ReopenBody(
                event: "ticket.reopen", ticket_id: body.ticket_id, source: body.source, response_id: body.response_id, score: body.score,
                factors: body.factors, reason: reopening.joined(separator: ","), comment: body.comment
            )
            let payload = try FeedbackActions.json(WebhookCall(url: url, body: reopen))
            try Outbox.enqueue(
                db, invitationID: body.invitation_id, purpose: "reopen", channel: "webhook", sealedToken: nil, payload: payload, dueAt: now, now: now)
        }
    }

    /// One line that Slack and Microsoft Teams incoming webhooks both render.
    func alertText(_ body: AnswerService.ResponseEvent, survey: SurveyDefinition) -> String {
        let reasons = body.factors.compactMap { id in survey.factor(id: id)?.0.label.text(survey.defaultLocale) }
        var parts = ["Negative feedback: \(body.score)/10 on \(body.ticket_id)"]
        let place = [body.service, body.group].compactMap { $0 }.joined(separator: ", ")
        if !place.isEmpty { parts[0] += " (\(place))" }
        if let analyst = body.assignee_name ?? body.assignee_email { parts.append("resolved by \(analyst)") }
        if !reasons.isEmpty { parts.append("reasons: \(reasons.joined(separator: ", "))") }
        if let comment = body.comment { parts.append("comment: \"\(TextLimit.prefix(comment, 300))\"") }
        if let url = settings.analystPageURL { parts.append(url) }
        return parts.joined(separator: " · ")
    }

    struct WebhookCall<Body: Encodable>: Encodable {
        var url: String
        var body: Body
    }

    /// `{"text": …}`: the payload both Slack and Teams incoming webhooks accept.
    struct AlertBody: Encodable {
        var text: String
    }

    struct ReopenBody: Encodable {
        var event: String
        var ticket_id: String
        var source: String
        var response_id: Int64
        var score: Int
        var factors: [String]
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
