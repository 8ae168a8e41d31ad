import Foundation
import Logging

extension OutboxDispatcher {
    /// Turns one row into a message on its channel and sends it; never throws, every failure is a result.
    func deliver(_ job: DeliveryJob, now: Date) async -> AttemptResult {
        if job.isSurveyMessage {
            if [.answered, .expired, .skipped].contains(job.invitationStatus) {
                return .cancelled("invitation is \(job.invitationStatus.rawValue)")
            }
            if job.expiresAt <= now { return .cancelled("invitation expired before it was sent") }
        }
        switch (job.purpose, job.channel) {
        case (.signin, .email), (.signin, .file):
            if job.expiresAt <= now { return .cancelled("sign-in link expired before it was sent") }
            return await sendMail(job)
        case (.survey, .email), (.survey, .file), (.reminder, .email), (.reminder, .file), (.reply, .email), (.reply, .file):
            return await sendMail(job)
        case (.survey, .webhook), (.reminder, .webhook):
            return await postSurvey(job, now: now)
        case (.reply, .webhook) where ReplyPayload.decode(job.payload) != nil:
            return await postSurvey(job, now: now)
        case (_, .webhook):
            return await postPayload(job, now: now)
        default:
            return .permanent("a '\(job.purpose.rawValue)' delivery cannot go by \(job.channel.rawValue)")
        }
    }

    /// The clear link of the row's invitation, or nil when the sealed token cannot be opened for this
    /// invitation: sealed for another one (the box is bound to its invitation id), or, for a box from
    /// before binding, a token that does not hash to this invitation's token hash.
    func surveyURL(_ job: DeliveryJob) -> String? {
        guard let sealed = job.sealedToken, let token = try? vault.open(sealed, invitationID: job.invitationID) else { return nil }
        if let expected = job.tokenHash, token.hash != expected { return nil }
        return settings.surveyURL(token: token)
    }

    var messageDomain: String {
        String(from.address.split(separator: "@").last ?? "happydesk.invalid")
    }

    /// A built message, or why none can be built (a final failure).
    enum Composed {
        case message(MailMessage)
        case failure(AttemptResult)
    }

    func composeMail(_ job: DeliveryJob, now: Date) -> Composed {
        if job.purpose == .signin { return composeSignIn(job, now: now) }
        guard let survey = catalog.survey(id: job.surveyID) else {
            return .failure(AttemptResult.permanent("survey '\(job.surveyID)' no longer exists"))
        }
        guard let url = surveyURL(job) else {
            return .failure(AttemptResult.permanent("sealed survey token is missing or cannot be opened with this server's key"))
        }
        let to: MailAddress
        do {
            to = try MailAddress(job.requesterEmail, name: job.requesterName)
        } catch {
            return .failure(AttemptResult.permanent("\(error)"))
        }
        let composer = SurveyMailComposer(survey: survey, job: job, surveyURL: url)
        let content: SurveyMailComposer.Content
        if job.purpose == .reply {
            guard let reply = ReplyPayload.decode(job.payload) else {
                return .failure(AttemptResult.permanent("reply payload must be JSON {\"text\": …, \"author\": …}"))
            }
            content = composer.compose(replyText: reply.text, replyAuthor: reply.author)
        } else {
            content = composer.compose()
        }
        let domain = messageDomain
        let messageID = MailMessage.messageID(
            invitationID: job.invitationID, purpose: job.purpose.rawValue, deliveryID: job.deliveryID, domain: domain)
        let original =
            job.purpose == .survey ? nil : MailMessage.messageID(invitationID: job.invitationID, purpose: "survey", deliveryID: 0, domain: domain)
        return .message(
            MailMessage(
                from: from, to: to, subject: content.subject, messageID: messageID, inReplyTo: original, date: now, text: content.text,
                html: content.html)
        )
    }

    /// The sign-in email: the link opened from the row's sealed box, bound to its `signin_links` id.
    func composeSignIn(_ job: DeliveryJob, now: Date) -> Composed {
        guard let linkID = job.signInLinkID, let sealed = job.sealedToken, let token = try? vault.open(sealed, signInLinkID: linkID) else {
            return .failure(AttemptResult.permanent("sealed sign-in token is missing or cannot be opened with this server's key"))
        }
        let to: MailAddress
        do {
            to = try MailAddress(job.requesterEmail, name: nil)
        } catch {
            return .failure(AttemptResult.permanent("\(error)"))
        }
        let content = SignInMailComposer(url: settings.signInLinkURL(token: token), minutes: Int(SignInStore.linkLifetime / 60)).compose()
        let messageID = MailMessage.messageID(invitationID: 0, purpose: "signin", deliveryID: job.deliveryID, domain: messageDomain)
        return .message(
            MailMessage(
                from: from, to: to, subject: content.subject, messageID: messageID, inReplyTo: nil, date: now, text: content.text, html: content.html)
        )
    }

    func sendMail(_ job: DeliveryJob) async -> AttemptResult {
        let message: MailMessage
        switch composeMail(job, now: Date()) {
        case .message(let built): message = built
        case .failure(let failure): return failure
        }
        if job.channel == .file {
            let result = await files.send(message)
            if result.kind == .sent {
                // The file holds the link; the log only says where, so the link stays out of log collectors.
                logger.info(
                    "no SMTP server configured: message with the survey link written to the outbox folder",
                    metadata: [
                        "invitation": "\(job.invitationID)", "purpose": "\(job.purpose)", "file": "\(files.fileURL(for: message).path)",
                    ]
                )
            }
            return result
        }
        guard let smtp else { return .permanent("email delivery needs HAPPYDESK_SMTP_URL; set it and run `happydesk outbox retry`") }
        do {
            try await pacer.acquire()
        } catch {
            return AttemptResult(kind: .transient, statusCode: nil, curlCode: nil, detail: "send given up on while waiting for its slot")
        }
        let result = await smtp.send(message)
        if result.pausesSMTPChannel {
            // The relay is throttling everyone (421/451): every SMTP send waits, not only this message.
            let pause = min(backoff.max, result.retryAfter ?? backoff.base)
            pacer.pause(for: pause)
            logger.notice(
                "SMTP relay is throttling: sending paused", metadata: ["seconds": "\(pause)", "status": "\(result.statusCode ?? 0)"])
        }
        return result
    }
}

/// The payload of a `reply` row, written by the stream step.
struct ReplyPayload: Decodable {
    var text: String
    var author: String?

    static func decode(_ payload: String?) -> ReplyPayload? {
        guard let payload else { return nil }
        return try? JSONDecoder().decode(ReplyPayload.self, from: Data(payload.utf8))
    }
}
