import Foundation

/// An event ready for fan-out: its audience decoded and its wire frame encoded once, whatever the
/// number of sockets it goes to.
///
/// Wire format (one WebSocket text frame, and one element of `GET /api/v1/events`):
/// `{"id":42,"type":"response.created","response_id":7,"created_at":"…","data":{…}}`.
public struct StreamEvent: Sendable, Equatable {
    public let id: Int64
    public let type: String
    public let audience: Audience
    public let frame: String

    /// `anonymity` decides, from the event's survey, whether the frame names the requester and the ticket.
    public init(_ stored: StoredEvent, anonymity: Anonymity) {
        id = stored.id
        type = stored.type
        let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(stored.payload.utf8))
        audience = envelope?.audience ?? Audience(assigneeID: stored.assigneeID, assigneeEmail: nil)
        // Response events name their survey in the body; the others carry it beside (`StoredEvent.surveyID`).
        let data = anonymity.payload(stored.payload, surveyID: stored.surveyID ?? envelope?.survey)
        // The payload is JSON written by EventLog (or Anonymity) and `type` is one of our constants, so plain
        // concatenation is safe and saves a decode/encode per event.
        let responseID = stored.responseID.map(String.init) ?? "null"
        frame =
            #"{"id":\#(stored.id),"type":"\#(stored.type)","response_id":\#(responseID),"created_at":"\#(ISO8601.format(stored.createdAt))","data":\#(data)}"#
    }

    /// What fan-out reads from an event body: its audience, and its survey for the anonymity rule.
    private struct Envelope: Decodable {
        var assignee_id: String?
        var assignee_email: String?
        var group: String?
        var service: String?
        var survey: String?

        var audience: Audience { Audience(assigneeID: assignee_id, assigneeEmail: assignee_email, group: group, service: service) }
    }
}

/// The event types of the stream.
public enum StreamEventType {
    public static let responseCreated = "response.created"
    public static let responseUpdated = "response.updated"
    public static let messageCreated = "message.created"
    public static let kudosCreated = "kudos.created"
}
