import Foundation

/// Writes the words of a survey, reminder or reply email in the requester's language.
/// Every piece of user or survey text is HTML-escaped in the HTML part.
struct SurveyMailComposer: Sendable {
    struct Content: Sendable {
        var subject: String
        var text: String
        var html: String
    }

    var survey: SurveyDefinition
    var job: DeliveryJob
    var surveyURL: String

    var locale: String { survey.resolveLocale(job.locale) }
    var texts: MailTexts { MailTexts.forLocale(locale) }

    func scoreURL(_ score: Int) -> String { "\(surveyURL)?score=\(score)" }

    /// "20 December 2026" / "20. Dezember 2026" (UTC), without building a DateFormatter per email.
    var expiryText: String {
        let t = UTCTime(job.expiresAt)
        if locale == "de" {
            let months = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
            return "\(t.day). \(months[t.month - 1]) \(t.year)"
        }
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        return "\(t.day) \(months[t.month - 1]) \(t.year)"
    }

    var greeting: String {
        guard let name = job.requesterName?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty else { return texts.hello }
        return texts.helloNamed.filling(["name": name])
    }

    func compose(replyText: String? = nil, replyAuthor: String? = nil) -> Content {
        if let replyText { return reply(text: replyText, author: replyAuthor ?? job.assigneeName ?? "IT Service Desk") }
        let title = survey.title.text(locale)
        let question = survey.question.text(locale)
        let isReminder = job.purpose == .reminder
        let subject = (isReminder ? "\(texts.reminder): " : "") + "\(title) – \(job.ticketID)"
        let intro = texts.resolved.filling(["ticket": job.ticketID])

        var text = "\(greeting)\n\n\(intro)\n"
        if isReminder { text += "\(texts.reminderIntro)\n" }
        text += "\n\(question)\n\n\(texts.clickScore)\n"
        for score in 0...10 { text += "  \(score): \(scoreURL(score))\n" }
        text += "\n\(texts.openLink)\n\(surveyURL)\n\n\(texts.validUntil.filling(["date": expiryText]))\n\n-- \n\(texts.footer)\n"

        var body = "<p>\(esc(greeting))</p>\n<p>\(esc(intro))"
        if isReminder { body += "<br>\n\(esc(texts.reminderIntro))" }
        body += "</p>\n<h2 style=\"font-size:18px;margin:24px 0 8px\">\(esc(question))</h2>\n<p style=\"color:#555\">\(esc(texts.clickScore))</p>\n"
        body += scoreButtons()
        body += "<p>\(esc(texts.openLink))<br>\n<a href=\"\(esc(surveyURL))\">\(esc(surveyURL))</a></p>\n"
        body += "<p style=\"color:#555;font-size:13px\">\(esc(texts.validUntil.filling(["date": expiryText])))</p>\n"
        return Content(subject: subject, text: text, html: page(title: title, body: body))
    }

    private func reply(text reply: String, author: String) -> Content {
        let subject = texts.replySubject.filling(["name": author, "ticket": job.ticketID])
        let intro = texts.replyIntro.filling(["name": author, "ticket": job.ticketID])
        let quoted = reply.split(separator: "\n", omittingEmptySubsequences: false).map { "> \($0)" }.joined(separator: "\n")
        let text = "\(greeting)\n\n\(intro)\n\n\(quoted)\n\n\(texts.replyAnswer)\n\(surveyURL)\n\n-- \n\(texts.footer)\n"
        let paragraphs = reply.split(separator: "\n", omittingEmptySubsequences: false).map { esc(String($0)) }.joined(separator: "<br>\n")
        var body = "<p>\(esc(greeting))</p>\n<p>\(esc(intro))</p>\n"
        body += "<blockquote style=\"border-left:4px solid #2563eb;margin:16px 0;padding:8px 16px;color:#222\">\(paragraphs)</blockquote>\n"
        body += "<p>\(esc(texts.replyAnswer))<br>\n<a href=\"\(esc(surveyURL))\">\(esc(surveyURL))</a></p>\n"
        return Content(subject: subject, text: text, html: page(title: subject, body: body))
    }

    /// Eleven table cells, because mail clients ignore most CSS layout but all render tables.
    private func scoreButtons() -> String {
        var row = "<table role=\"presentation\" cellspacing=\"4\" cellpadding=\"0\" style=\"margin:8px 0 16px\"><tr>\n"
        for score in 0...10 {
            let color = score >= 9 ? "#15803d" : score >= 7 ? "#a16207" : "#b91c1c"
            row += "<td><a href=\"\(esc(scoreURL(score)))\" style=\"display:inline-block;min-width:28px;padding:8px 4px;text-align:center;"
            row += "border:1px solid \(color);border-radius:4px;color:\(color);font-weight:bold;text-decoration:none\">\(score)</a></td>\n"
        }
        return row + "</tr></table>\n"
    }

    private func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(esc(locale))"><head><meta charset="utf-8"><title>\(esc(title))</title></head>
        <body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111;max-width:640px">
        \(body)<p style="color:#888;font-size:12px">\(esc(texts.footer))</p>
        </body></html>
        """
    }

    private func esc(_ text: String) -> String { MIMEEncoding.html(text) }
}
