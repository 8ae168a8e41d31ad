import Foundation

extension OutboxDispatcher {
    /// Stable across retries and crashes of one row, so the receiver can drop repeats.
    static func idempotencyKey(_ job: DeliveryJob) -> String {
        // Survey and reminder are once per invitation; every other row is its own message.
        return job.isSurveyMessage ? "happydesk-invitation-\(job.invitationID)-\(job.purpose)" : "happydesk-delivery-\(job.deliveryID)"
    }

    /// A survey, reminder or analyst reply as JSON to `HAPPYDESK_DELIVERY_WEBHOOK_URL`, for a chat tool or the ITSM to show.
    func postSurvey(_ job: DeliveryJob, now: Date) async -> AttemptResult {
        guard let target = settings.deliveryWebhookURL, !target.isEmpty else {
            return .permanent("webhook delivery needs HAPPYDESK_DELIVERY_WEBHOOK_URL; set it and run `happydesk outbox retry`")
        }
        guard let survey = catalog.survey(id: job.surveyID) else { return .permanent("survey '\(job.surveyID)' no longer exists") }
        guard let url = surveyURL(job) else { return .permanent("sealed survey token is missing or cannot be opened with this server's key") }
        let composer = SurveyMailComposer(survey: survey, job: job, surveyURL: url)
        let reply = job.purpose == .reply ? ReplyPayload.decode(job.payload) : nil
        let content = composer.compose(replyText: reply?.text, replyAuthor: reply?.author)
        let locale = composer.locale
        var body: [String: Any] = [
            "type": reply != nil ? "survey.reply" : job.purpose == .reminder ? "survey.reminder" : "survey.invitation",
            "invitation_id": job.invitationID,
            "ticket_id": job.ticketID,
            "source": job.source,
            "requester": ["email": job.requesterEmail, "name": job.requesterName ?? NSNull(), "locale": locale] as [String: Any],
            "title": survey.title.text(locale),
            "question": survey.question.text(locale),
            "subject": content.subject,
            "text": content.text,
            "survey_url": url,
            "score_urls": (0...10).map { composer.scoreURL($0) },
            "expires_at": ISO8601.format(job.expiresAt),
        ]
        if let reply { body["reply"] = ["text": reply.text, "author": reply.author ?? NSNull()] as [String: Any] }
        guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return .permanent("cannot encode the survey webhook body")
        }
        return await webhooks.post(url: target, body: data, idempotencyKey: Self.idempotencyKey(job), now: now)
    }

    /// Any other webhook row: payload `{"url": "https://…", "body": {…}}`, the body posted as JSON.
    func postPayload(_ job: DeliveryJob, now: Date) async -> AttemptResult {
        guard let payload = job.payload, let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
            let target = object["url"] as? String, let body = object["body"]
        else {
            return .permanent("webhook payload must be JSON {\"url\": \"https://…\", \"body\": {…}}")
        }
        guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.fragmentsAllowed, .withoutEscapingSlashes]) else {
            return .permanent("webhook body is not valid JSON")
        }
        return await webhooks.post(url: target, body: data, idempotencyKey: Self.idempotencyKey(job), now: now)
    }
}
