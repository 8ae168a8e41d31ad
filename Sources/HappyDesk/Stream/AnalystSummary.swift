import Foundation

/// The analyst's own picture, for recognition rather than judgement: happiness over the last 30 days
/// beside the 30 before, the factors people praise them for, kudos and thank-you comments.
/// Managers see the same picture over everything they can see.
public struct AnalystSummary: Encodable, Sendable {
    public struct User: Encodable, Sendable {
        var id: Int64
        var name: String
        var email: String
        var role: String
    }

    public struct Period: Encodable, Sendable {
        var from: Date
        var to: Date
        var responses: Int
        /// % of 9–10 minus % of 0–6; null with fewer than `minResponses` responses ("too few responses").
        var happiness: Int?
    }

    public struct PraisedFactor: Encodable, Sendable {
        var id: String
        var label: String
        var count: Int
    }

    /// `ticket_id` is left out for anonymous surveys (`Anonymity`).
    public struct Kudos: Encodable, Sendable {
        var response_id: Int64
        var ticket_id: String?
        var from_name: String
        var text: String
        var created_at: Date
    }

    /// `ticket_id` is left out for anonymous surveys (`Anonymity`).
    public struct Thanks: Encodable, Sendable {
        var response_id: Int64
        var ticket_id: String?
        var score: Int
        var comment: String
        var at: Date
    }

    var user: User
    var last_30_days: Period
    var previous_30_days: Period
    var praised_factors: [PraisedFactor]
    var kudos: [Kudos]
    var thanks: [Thanks]
    var min_responses: Int

    /// Below this many responses a period shows "too few responses", never a score.
    public static let minResponses = 5

    public static func load(_ reader: any AppStorage, for user: AuthenticatedUser, catalog: SurveyCatalog, now: Date = Date()) async throws
        -> AnalystSummary
    {
        let day: TimeInterval = 86_400
        let start = now.addingTimeInterval(-30 * day)
        let before = now.addingTimeInterval(-60 * day)
        let dialect = reader.dialect
        let visible = user.visibilitySQL(dialect)
        let anonymity = Anonymity(catalog: catalog)
        return try await reader.read { db in
            func period(_ from: Date, _ to: Date) throws -> Period {
                let row = try db.fetchOne(
                    """
                    SELECT count(*) AS n, coalesce(sum(CASE WHEN r.score >= 9 THEN 1 ELSE 0 END), 0) AS promoters,
                           coalesce(sum(CASE WHEN r.score <= 6 THEN 1 ELSE 0 END), 0) AS detractors
                    FROM responses r JOIN invitations i ON i.id = r.invitation_id
                    WHERE r.first_answered_at >= ? AND r.first_answered_at < ? AND \(visible.sql)
                    """, [from.sqlValue, to.sqlValue] + visible.arguments
                )
                let n: Int = row?["n"] ?? 0
                let promoters: Int = row?["promoters"] ?? 0
                let detractors: Int = row?["detractors"] ?? 0
                let happiness = n >= minResponses ? Int((Double(promoters - detractors) * 100 / Double(n)).rounded()) : nil
                return Period(from: from, to: to, responses: n, happiness: happiness)
            }
            let factorRows = try db.fetchAll(
                """
                SELECT i.survey, f.factor_id, count(*) AS n FROM response_factors f
                JOIN responses r ON r.id = f.response_id JOIN invitations i ON i.id = r.invitation_id
                WHERE r.score >= 9 AND r.first_answered_at >= ? AND \(visible.sql)
                GROUP BY i.survey, f.factor_id
                """, [before.sqlValue] + visible.arguments
            )
            var counts: [String: (String, Int)] = [:]
            for row in factorRows {
                let id: String = row["factor_id"]
                let survey = catalog.survey(id: row["survey"])
                let label = survey.flatMap { $0.factor(id: id)?.0.label.text($0.defaultLocale) } ?? id
                counts[id, default: (label, 0)].1 += row["n"] as Int
            }
            let praised = counts.map { PraisedFactor(id: $0.key, label: $0.value.0, count: $0.value.1) }
                .sorted { ($0.count, $1.id) > ($1.count, $0.id) }
            let listArguments = visible.arguments
            let kudos = try db.fetchAll(
                """
                SELECT k.response_id, c.ticket_id, i.survey, k.from_name, k.text, k.created_at FROM kudos k
                JOIN responses r ON r.id = k.response_id JOIN invitations i ON i.id = r.invitation_id JOIN closures c ON c.id = i.closure_id
                WHERE \(visible.sql) ORDER BY k.id DESC LIMIT 20
                """, listArguments
            ).map {
                Kudos(
                    response_id: $0["response_id"], ticket_id: anonymity.ticketID($0["ticket_id"], surveyID: $0["survey"]),
                    from_name: $0["from_name"],
                    text: $0["text"],
                    created_at: $0["created_at"])
            }
            let thanks = try db.fetchAll(
                """
                SELECT r.id, c.ticket_id, i.survey, r.score, r.comment, r.last_changed_at FROM responses r
                JOIN invitations i ON i.id = r.invitation_id JOIN closures c ON c.id = i.closure_id
                WHERE r.score >= 9 AND r.comment IS NOT NULL AND r.comment <> '' AND \(visible.sql)
                ORDER BY r.last_changed_at DESC LIMIT 20
                """, listArguments
            ).map {
                Thanks(
                    response_id: $0["id"], ticket_id: anonymity.ticketID($0["ticket_id"], surveyID: $0["survey"]), score: $0["score"],
                    comment: $0["comment"], at: $0["last_changed_at"])
            }
            return AnalystSummary(
                user: User(id: user.id, name: user.name, email: user.email, role: user.role.rawValue),
                last_30_days: try period(start, now), previous_30_days: try period(before, start),
                praised_factors: Array(praised.prefix(8)), kudos: kudos, thanks: thanks, min_responses: minResponses
            )
        }
    }
}
