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

    public init(_ stored: StoredEvent) {
        id = stored.id
        type = stored.type
        audience =
            (try? JSONDecoder().decode(Audience.self, from: Data(stored.payload.utf8)))
            ?? Audience(assigneeID: stored.assigneeID, assigneeEmail: nil)
        // The payload is JSON written by EventLog and `type` is one of our constants, so plain
        // concatenation is safe and saves a decode/encode per event.
        let responseID = stored.responseID.map(String.init) ?? "null"
        frame =
            #"{"id":\#(stored.id),"type":"\#(stored.type)","response_id":\#(responseID),"created_at":"\#(ISO8601.format(stored.createdAt))","data":\#(stored.payload)}"#
    }
}

/// The event types of the stream.
public enum StreamEventType {
    public static let responseCreated = "response.created"
    public static let responseUpdated = "response.updated"
    public static let messageCreated = "message.created"
    public static let kudosCreated = "kudos.created"
}
