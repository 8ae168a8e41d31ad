import Foundation
import GRDB

@testable import HappyDesk

/// Hand-made feedback written straight into a real, migrated database (SQLite, or PostgreSQL under
/// HAPPYDESK_TEST_BACKEND=postgres), so every dashboard figure can be
/// checked against arithmetic done by hand (see the comments in `DashboardMetricsTests`).
struct DashboardFixture {
    let directory: URL
    let storage: any AppStorage
    var next = 0

    init() throws {
        directory = try makeTemporaryDirectory()
        storage = try StorageOpener.openMigrated(settings: makeSettings(directory: directory)).0
    }

    init(directory: URL, storage: any AppStorage) {
        self.directory = directory
        self.storage = storage
    }

    var path: String { directory.appendingPathComponent("happydesk.sqlite").path }

    var catalog: SurveyCatalog {
        get throws { try SurveyCatalog.load(directory: repositoryRoot.appendingPathComponent("Surveys")) }
    }

    func builder() throws -> DashboardBuilder {
        DashboardBuilder(store: DashboardStore(reader: storage), catalog: try catalog)
    }

    /// One closure, its invitation and (when `score` is given) its response and factors.
    @discardableResult
    mutating func add(
        day: String, score: Int?, service: String = "VPN", kind: String = "incident", lost: Int? = nil, factors: [String] = [],
        comment: String? = nil, reassignments: Int = 0, status: String? = nil, group: String = "Service Desk", assignee: String = "Sam Analyst"
    ) throws -> Int64? {
        next += 1
        let n = next
        let at = "\(day) 10:00:00.000"
        return try storage.writeSync { db -> Int64? in
            let closureID = try db.insertReturningID(
                sql: """
                    INSERT INTO closures (source, ticket_id, kind, requester_email, assignee_id, assignee_name, group_name, service, channel, country,
                        reassignments, closed_at, received_at)
                    VALUES ('servicenow', ?, ?, 'ann@example.com', 'a7', ?, ?, ?, 'email', 'DE', ?, ?, ?)
                    """,
                arguments: ["T\(n)", kind, assignee, group, service, reassignments, at, at])
            let invitationStatus = status ?? (score == nil ? "sent" : "answered")
            let sentAt: String? = ["pending", "skipped"].contains(invitationStatus) ? nil : at
            var hash = Data(count: 32)
            hash[0] = UInt8(n % 256)
            hash[1] = UInt8(n / 256)
            let invitationID = try db.insertReturningID(
                sql: """
                    INSERT INTO invitations (closure_id, survey, kind, token_hash, locale, requester_email, assignee_id, assignee_name, group_name,
                        service, status, created_at, sent_at, expires_at)
                    VALUES (?, ?, ?, ?, 'en', 'ann@example.com', 'a7', ?, ?, ?, ?, ?, ?, '2027-12-31 00:00:00.000')
                    """,
                arguments: [closureID, kind, kind, hash, assignee, group, service, invitationStatus, at, sentAt])
            guard let score else { return nil }
            let responseID = try db.insertReturningID(
                sql: """
                    INSERT INTO responses (invitation_id, score, lost_bucket, lost_minutes, comment, first_answered_at, last_changed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [invitationID, score, lost.map { "m\($0)" }, lost, comment, "\(day) 12:00:00.000", "\(day) 12:00:00.000"])
            for factor in factors {
                try db.execute(sql: "INSERT INTO response_factors (response_id, factor_id) VALUES (?, ?)", arguments: [responseID, factor])
            }
            return responseID
        }
    }

    /// November 2026, by hand:
    /// - VPN, 10 responses: 10 10 9 9 9 8 7 6 3 0 → 5 at 9–10, 3 at 0–6 → happiness (5 − 3) / 10 = +20;
    ///   lost minutes 600, 180, 45, 15, 0 and five unanswered → 840 / 5 = 168 min = 2h 48min.
    /// - Email, 6 responses: 10 10 10 10 9 0 → (5 − 1) / 6 = +66.667; nobody answered lost time.
    /// - Printing, 3 responses, all 0 → too few responses (minimum 5), yet counted overall.
    /// - Overall: 19 responses, 10 at 9–10, 7 at 0–6 → (10 − 7) / 19 = +15.789.
    /// - Invitations sent in November: 19 answered + 5 sent unanswered = 24 (2 pending, 1 skipped do not count).
    /// - October: VPN, 5 responses of 10 → +100.
    mutating func seedNovember() throws {
        let vpnScores = [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]
        let vpnLost: [Int?] = [600, 180, 45, 15, 0, nil, nil, nil, nil, nil]
        let vpnFactors: [[String]] = [["speed"], ["attitude"], [], [], [], ["speed_ok"], [], ["slow"], ["slow", "bounced"], ["not_solved"]]
        for (index, score) in vpnScores.enumerated() {
            try add(
                day: String(format: "2026-11-%02d", index + 1), score: score, lost: vpnLost[index], factors: vpnFactors[index],
                reassignments: index >= 7 ? 2 : 0)
        }
        for (index, score) in [10, 10, 10, 10, 9, 0].enumerated() {
            try add(day: String(format: "2026-11-%02d", index + 11), score: score, service: "Email")
        }
        try add(day: "2026-11-20", score: 0, service: "Printing", lost: 0, factors: ["slow"], comment: "<script>alert('x')</script> & <b>bold</b>")
        try add(day: "2026-11-21", score: 0, service: "Printing", factors: ["slow"])
        try add(day: "2026-11-22", score: 0, service: "Printing", factors: ["slow"])
        for day in 23...27 { try add(day: "2026-11-\(day)", score: nil) }
        try add(day: "2026-11-28", score: nil, status: "pending")
        try add(day: "2026-11-28", score: nil, status: "pending")
        try add(day: "2026-11-29", score: nil, status: "skipped")
        for day in 1...5 { try add(day: "2026-10-0\(day)", score: 10) }
    }
}

/// The daily roll-ups as stored, and as recounted from the responses themselves: equal when every fold was exact.
func storedAndRecountedDailyRollups(_ db: any SQLConnection) throws -> (stored: [[SQLValue]], recount: [[SQLValue]]) {
    let stored = try db.fetchAll(
        """
        SELECT dim, value, day, kind, responses, positive, negative, lost_answered, lost_minutes FROM dashboard_daily
        WHERE responses <> 0 OR lost_answered <> 0 ORDER BY 1, 2, 3, 4
        """)
    let recount = try db.fetchAll(
        """
        SELECT dim, value, day, kind, count(*), sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END), sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END),
               count(lost_minutes), COALESCE(sum(lost_minutes), 0)
        FROM dashboard_response_dims WHERE value IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        """)
    return (stored.map(\.values), recount.map(\.values))
}
