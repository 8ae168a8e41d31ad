import Foundation
import XCTest

@testable import HappyDesk

/// A server with `.eml` delivery and helpers that build whole cases (closure, invitation, outbox rows, response
/// with a comment, a conversation, sent `.eml` files) at a chosen time, for retention and erasure tests.
struct PrivacyHarness {
    let harness: DeliveryHarness
    var server: HappyDeskServer { harness.server }
    let manager: AuthenticatedUser
    let managerToken: String
    let adminToken: String

    init(directory: URL) async throws {
        harness = try DeliveryHarness(directory: directory)
        let (_, token) = try await harness.server.users.add(name: "Mia Manager", email: "mia@example.com", role: .manager)
        managerToken = token
        let user = try await harness.server.users.user(token: token)
        manager = try XCTUnwrap(user)
        adminToken = try await harness.server.users.add(name: "Ada Admin", email: "ada@example.com", role: .admin).1
    }

    var personalData: PersonalData { server.personalData }
    var outbox: URL { URL(fileURLWithPath: server.settings.outboxDirectory) }

    /// One case at `at`: closure, answer with `comment`, a requester message and an analyst reply; then sends
    /// everything due (survey, while its link is open, and reply as `.eml` files). Returns the invitation and response ids.
    @discardableResult
    func makeCase(
        ticket: String, email: String, name: String, comment: String, message: String, reply: String, score: Int = 3, at: Date
    ) async throws -> (invitationID: Int64, responseID: Int64) {
        let closure = Closure(
            ticketID: ticket, source: "servicenow", kind: .incident, requester: .init(email: email, name: name, locale: "en-GB"),
            assignee: .init(id: "analyst-7", name: "Sam Analyst", email: "sam@example.com"), group: "Service Desk", service: "VPN",
            closedAt: at)
        let result = try await server.intake.ingest(closure, now: at)
        let invitationID = try XCTUnwrap(result.invitationID)
        let token = String(try XCTUnwrap(result.surveyURL).split(separator: "/").last ?? "")
        // The survey goes out first (unless its link has expired by now, as for a case months old).
        try await harness.deliverAll()
        let (response, _) = try await server.answers.submit(
            token: token, answer: SurveyAnswer(score: score, factors: [score <= 6 ? "slow" : "speed"], comment: comment),
            now: at.addingTimeInterval(600))
        _ = try await server.feedback.requesterMessage(token: token, text: message, now: at.addingTimeInterval(1200))
        _ = try await server.feedback.reply(by: manager, responseID: response.id, text: reply, now: at.addingTimeInterval(1800))
        try await harness.deliverAll()
        return (invitationID, response.id)
    }

    /// The dashboard over every day, as JSON without the parts that may differ (generation time, comments).
    func dashboardFigures() throws -> [String: String] {
        let filters = try DashboardFilters(
            from: "2025-01-01", to: DashboardDay.string(Date()), period: "month", by: "service", kind: nil, minimum: "1")
        let report = try DashboardBuilder(store: DashboardStore(reader: server.database), catalog: server.catalog).build(filters)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        var figures: [String: String] = [:]
        for key in ["overall", "periods", "factors", "breakdown", "reassignments", "lost_time", "days"] {
            let data = try JSONSerialization.data(withJSONObject: object[key] ?? NSNull(), options: [.sortedKeys, .fragmentsAllowed])
            figures[key] = String(decoding: data, as: UTF8.self)
        }
        return figures
    }

    func count(_ sql: String, _ arguments: [(any SQLBindable)?] = []) async throws -> Int {
        try await server.database.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }
}

/// Every byte of a file, or nothing when it does not exist.
func fileBytes(_ path: String) -> Data {
    (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
}

/// Whether `haystack` holds `needle` as bytes.
func contains(_ haystack: Data, _ needle: String) -> Bool {
    haystack.range(of: Data(needle.utf8)) != nil
}
