import Foundation

/// One message of a response's conversation, as the survey page and the analyst page show it.
public struct ThreadMessage: Sendable, Equatable, Codable {
    public var id: Int64
    /// `analyst` or `requester`.
    public var author: String
    public var author_name: String?
    public var text: String
    public var created_at: Date
}

/// Reads the conversation on a response.
public enum ThreadStore {
    public static func messages(_ db: any SQLConnection, responseID: Int64) throws -> [ThreadMessage] {
        try FeedbackStore.messages(db, responseID: responseID)
    }

    /// The thread for a survey link, hiding nothing: it is the requester's own conversation.
    public static func messages(_ reader: any AppStorage, responseID: Int64?) async throws -> [ThreadMessage] {
        guard let responseID else { return [] }
        return try await reader.read { db in try messages(db, responseID: responseID) }
    }

    /// The thread for a signed-in user, with the same access rule as the stream; on an anonymous survey the
    /// requester's messages carry no name, even those written before the survey became anonymous.
    public static func messages(_ reader: any AppStorage, responseID: Int64, user: AuthenticatedUser, anonymity: Anonymity) async throws
        -> [ThreadMessage]
    {
        try await reader.read { db in
            let access = try ResponseAccess.load(db, responseID: responseID, user: user)
            return try messages(db, responseID: responseID).map { anonymity.message($0, surveyID: access.surveyID) }
        }
    }
}
