import Foundation

/// The anonymity rule, in one place: for a survey marked `anonymous: true`, analysts and managers see no
/// requester name or email, ticket id, invitation id or survey link, wherever they look (stream frames, live
/// and replayed, `/api/v1/events`, `/api/v1/me`, threads, alerts).
///
/// The rule is applied when data is read, keyed by the survey id of the event's invitation looked up in the
/// current `SurveyCatalog`: turning anonymity on later also covers what was recorded before. Events keep the
/// full facts in the database (the requester's own survey page and the ITSM still need them).
///
/// A survey id the catalog no longer knows (a survey file removed or renamed) counts as anonymous: when in
/// doubt, hide who said it rather than show it.
public struct Anonymity: Sendable {
    /// Nil only for unit use without surveys: then nothing is anonymous.
    let catalog: SurveyCatalog?

    public init(catalog: SurveyCatalog) { self.catalog = catalog }

    private init() { catalog = nil }

    /// Nothing is hidden: for a hub used without a database or surveys (unit tests).
    public static let none = Anonymity()

    /// Whether records of this survey must be shown without the requester and the ticket.
    public func isAnonymous(surveyID: String?) -> Bool {
        guard let catalog else { return false }
        guard let surveyID, let survey = catalog.survey(id: surveyID) else { return true }
        return Self.isAnonymous(survey)
    }

    /// The same rule for a survey already at hand (the follow-up rules run inside the answer's transaction).
    public static func isAnonymous(_ survey: SurveyDefinition) -> Bool { survey.anonymous }

    /// The fields of event bodies (`AnswerService.ResponseEvent`, `MessageEvent`, `KudosEvent`) and webhook
    /// bodies that say which requester or ticket a record is about.
    static let identifyingFields: Set<String> = [
        "ticket_id", "invitation_id", "requester_name", "requester_email", "requester", "survey_url", "score_urls",
    ]

    /// An event body without the identifying fields, marked `"anonymous": true`; a requester's message also
    /// loses its author name. A body that cannot be read is replaced whole rather than passed on.
    static func redact(payload: String) -> String {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else {
            return #"{"anonymous":true}"#
        }
        for field in identifyingFields { object.removeValue(forKey: field) }
        if object["author"] as? String == "requester" { object.removeValue(forKey: "author_name") }
        object["anonymous"] = true
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return #"{"anonymous":true}"#
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The body to show for an event of this survey.
    func payload(_ payload: String, surveyID: String?) -> String {
        isAnonymous(surveyID: surveyID) ? Self.redact(payload: payload) : payload
    }

    /// A ticket id to show: nil for an anonymous survey.
    func ticketID(_ ticketID: String?, surveyID: String?) -> String? {
        isAnonymous(surveyID: surveyID) ? nil : ticketID
    }

    /// A thread message to show: a requester's message of an anonymous survey loses its author name (an
    /// analyst's reply keeps the analyst's).
    func message(_ message: ThreadMessage, surveyID: String?) -> ThreadMessage {
        guard message.author == "requester", isAnonymous(surveyID: surveyID) else { return message }
        var shown = message
        shown.author_name = nil
        return shown
    }
}
