/// The fixed sentences of survey emails, per language; English is the fallback. Survey-specific
/// texts (title, question) come from the survey YAML instead.
struct MailTexts: Sendable {
    var hello: String
    var helloNamed: String
    var resolved: String
    var clickScore: String
    var openLink: String
    var validUntil: String
    var reminder: String
    var reminderIntro: String
    var replySubject: String
    var replyIntro: String
    var replyAnswer: String
    var footer: String

    static func forLocale(_ locale: String) -> MailTexts {
        locale.lowercased().hasPrefix("de") ? german : english
    }

    static let english = MailTexts(
        hello: "Hello,", helloNamed: "Hello {name},", resolved: "Your ticket {ticket} has been resolved.",
        clickScore: "Click a number to answer (0 = not at all happy, 10 = extremely happy):",
        openLink: "Or open the survey:", validUntil: "The link works until {date}; you can change your answer until then.",
        reminder: "Reminder", reminderIntro: "We would still love to hear how it went.",
        replySubject: "{name} replied to your feedback on {ticket}", replyIntro: "{name} replied to your feedback on ticket {ticket}:",
        replyAnswer: "To answer or change your rating, open your survey:",
        footer: "You receive this email because an IT ticket of yours was closed."
    )

    static let german = MailTexts(
        hello: "Guten Tag,", helloNamed: "Hallo {name},", resolved: "Ihr Ticket {ticket} wurde gelöst.",
        clickScore: "Klicken Sie auf eine Zahl (0 = gar nicht zufrieden, 10 = äußerst zufrieden):",
        openLink: "Oder öffnen Sie die Umfrage:", validUntil: "Der Link gilt bis {date}; bis dahin können Sie Ihre Antwort ändern.",
        reminder: "Erinnerung", reminderIntro: "Wir würden uns weiterhin über Ihre Rückmeldung freuen.",
        replySubject: "{name} hat auf Ihr Feedback zu {ticket} geantwortet",
        replyIntro: "{name} hat auf Ihr Feedback zu Ticket {ticket} geantwortet:",
        replyAnswer: "Zum Antworten oder um Ihre Bewertung zu ändern, öffnen Sie Ihre Umfrage:",
        footer: "Sie erhalten diese E-Mail, weil eines Ihrer IT-Tickets geschlossen wurde."
    )
}

extension String {
    /// Fills `{key}` placeholders.
    /// Replaces `{key}` placeholders in one pass; unknown placeholders stay as written. (Foundation's
    /// `replacingOccurrences` bridges through NSString on Linux and was a visible share of every email.)
    func filling(_ values: [String: String]) -> String {
        guard contains("{") else { return self }
        var out = ""
        out.reserveCapacity(utf8.count + 32)
        var rest = self[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else {
                rest = rest[open...]
                break
            }
            let key = String(rest[rest.index(after: open)..<close])
            if let value = values[key] { out += value } else { out += rest[open...close] }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }
}
