import Foundation

/// The body of a `message.created` event: one message of the conversation on a response.
public struct MessageEvent: Codable, Sendable, Equatable {
    public var message_id: Int64
    public var response_id: Int64
    public var invitation_id: Int64
    public var ticket_id: String
    /// `analyst` or `requester`.
    public var author: String
    /// Null for the requester on anonymous surveys.
    public var author_name: String?
    public var text: String
    public var assignee_id: String?
    public var assignee_email: String?
    /// The closure's assignment group and service: what a lead's or owner's stream is filtered by.
    public var group: String?
    public var service: String?
    public var created_at: Date
}

/// The body of a `kudos.created` event.
public struct KudosEvent: Codable, Sendable, Equatable {
    public var kudos_id: Int64
    public var response_id: Int64
    public var invitation_id: Int64
    public var ticket_id: String
    public var from_name: String
    public var text: String
    public var assignee_id: String?
    public var assignee_name: String?
    public var assignee_email: String?
    /// The closure's assignment group and service: what a lead's or owner's stream is filtered by.
    public var group: String?
    public var service: String?
    public var created_at: Date
}

/// What the stream's actions answer, over REST and as the WebSocket acknowledgement frame.
public struct ActionResult: Codable, Sendable, Equatable {
    public var response_id: Int64
    public var message_id: Int64?
    public var kudos_id: Int64?
    public var event_id: Int64?
    public var handled_at: Date?
}

/// The text limit for replies, requester answers and kudos: the `CHECK (length(text) BETWEEN 1 AND 5000)`
/// of `messages` and `kudos`, counted the same way (`TextLimit`), so a long text is a 400, never a 500.
public enum FeedbackText {
    public static let maxLength = 5000

    /// Trims and checks a message text, naming the field in the error.
    static func validated(_ text: String?, field: String = "text") throws -> String {
        let trimmed = (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw AppError.badRequest("\(field) must not be empty", code: "empty_text") }
        if let problem = TextLimit.problem(trimmed, max: maxLength) {
            throw AppError.badRequest("\(field) \(problem)", code: "text_too_long")
        }
        return trimmed
    }
}
