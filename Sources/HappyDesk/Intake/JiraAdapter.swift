import Foundation

/// Converts Jira Service Management's native `jira:issue_updated` webhook into a `Closure`
/// when its changelog moves the issue into a done/resolved status.
public enum JiraAdapter {
    public enum Outcome: Sendable, Equatable {
        case closure(Closure)
        /// A valid webhook that is not a resolution (another field changed, or another event).
        case notAClosure(String)
    }

    /// Status names treated as resolved when Jira sends no status category.
    static let doneNames: Set<String> = ["resolved", "done", "closed", "completed", "fixed", "canceled", "cancelled"]

    struct Payload: Decodable {
        var webhookEvent: String
        var issue: Issue
        var changelog: Changelog?
    }

    struct Issue: Decodable {
        var key: String
        var fields: Fields
    }

    struct Fields: Decodable {
        var issuetype: Named?
        var status: Status?
        var reporter: User?
        var assignee: User?
        var resolutiondate: String?
        var components: [Named]?
        var labels: [String]?
    }

    struct Named: Decodable { var name: String }

    struct Status: Decodable {
        var name: String
        var statusCategory: Category?
        struct Category: Decodable { var key: String }
    }

    struct User: Decodable {
        var accountId: String?
        var emailAddress: String?
        var displayName: String?
        var locale: String?
    }

    struct Changelog: Decodable { var items: [Item] }

    struct Item: Decodable {
        var field: String
        var fromString: String?
        var toString: String?
    }

    public static func convert(_ data: Data) throws -> Outcome {
        let payload: Payload
        do {
            payload = try JSONDecoder().decode(Payload.self, from: data)
        } catch let error as DecodingError {
            throw AppError.badRequest(
                "not a Jira issue webhook: \(JSONInput.describe(error))", code: error.isSyntax ? "malformed_json" : "invalid_field")
        } catch {
            throw AppError.badRequest("not a Jira issue webhook: body is not valid JSON", code: "malformed_json")
        }
        guard payload.webhookEvent == "jira:issue_updated" else {
            return .notAClosure("event '\(TextLimit.preview(payload.webhookEvent, 60))' is not jira:issue_updated")
        }
        guard let change = payload.changelog?.items.last(where: { $0.field.lowercased() == "status" }), let target = change.toString else {
            return .notAClosure("the changelog has no status change")
        }
        let categoryDone = payload.issue.fields.status?.statusCategory?.key == "done"
        guard categoryDone || doneNames.contains(target.lowercased()) else {
            return .notAClosure("status moved to '\(TextLimit.preview(target, 60))', which is not a done/resolved status")
        }
        guard let reporter = payload.issue.fields.reporter, let email = reporter.emailAddress, !email.isEmpty else {
            throw AppError(
                .unprocessableContent, code: "no_requester_email",
                "issue.fields.reporter.emailAddress is missing: Jira hides it unless the webhook user may see email addresses")
        }
        let typeName = payload.issue.fields.issuetype?.name.lowercased() ?? ""
        let kind: TicketKind = typeName.contains("incident") || typeName.contains("problem") || typeName.contains("bug") ? .incident : .request
        let assignee = payload.issue.fields.assignee.map {
            Closure.Assignee(id: $0.accountId, name: $0.displayName, email: $0.emailAddress)
        }
        let closedAt = payload.issue.fields.resolutiondate.flatMap(parseJiraDate) ?? Date()
        let closure = Closure(
            ticketID: payload.issue.key, source: "jira", kind: kind,
            state: target.lowercased() == "closed" ? "closed" : "resolved",
            requester: .init(email: email, name: reporter.displayName, locale: reporter.locale),
            assignee: assignee?.id == nil && assignee?.email == nil ? nil : assignee,
            service: payload.issue.fields.components?.first?.name, channel: "portal",
            closedAt: closedAt
        )
        return .closure(closure)
    }

    /// Jira writes `2026-11-20T14:05:00.000+0000` (no colon in the offset): the colon is put back on the
    /// bytes and the text parsed as ISO 8601. (Foundation's `DateFormatter` trapped with "Incorrect range"
    /// on some non-ASCII input, and this date arrives from the network.)
    static func parseJiraDate(_ text: String) -> Date? {
        if let date = ISO8601.parse(text) { return date }
        let bytes = Array(text.utf8)
        guard bytes.count >= 24, bytes.count <= 40, bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        let offset = bytes.suffix(5)
        guard let sign = offset.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"),
            offset.dropFirst().allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        let withColon = bytes.dropLast(2) + [UInt8(ascii: ":")] + bytes.suffix(2)
        return ISO8601.parse(String(decoding: withColon, as: UTF8.self))
    }
}
