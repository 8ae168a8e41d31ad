import Foundation
import XCTest

@testable import HappyDesk

/// `HAPPYDESK_RETENTION_DAYS`: personal data recorded before the cutoff goes, figures stay.
final class RetentionTests: XCTestCase {
    func testRetentionRemovesExactlyTheOldPersonalDataAndKeepsTheFigures() async throws {
        let directory = try makeTemporaryDirectory()
        let h = try await PrivacyHarness(directory: directory)
        let old = Date().addingTimeInterval(-100 * 86_400)
        let oldCase = try await h.makeCase(
            ticket: "INC-OLD", email: "olga.old@example.com", name: "Olga Old", comment: "old comment quux", message: "old message quux",
            reply: "old reply quux", at: old)
        // Files written back then are dated back then.
        for file in try FileManager.default.contentsOfDirectory(atPath: h.outbox.path) {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: h.outbox.appendingPathComponent(file).path)
        }
        let newCase = try await h.makeCase(
            ticket: "INC-NEW", email: "nina.new@example.com", name: "Nina New", comment: "new comment", message: "new message", reply: "new reply",
            score: 10, at: Date().addingTimeInterval(-86_400))
        let filesBefore = try FileManager.default.contentsOfDirectory(atPath: h.outbox.path).sorted()
        XCTAssertEqual(filesBefore.count, 3, "the reply of the old case (its survey link had expired), the survey and reply of the new one")
        let figuresBefore = try h.dashboardFigures()

        // A dry run reports and changes nothing.
        let dry = try await h.personalData.applyRetention(days: 30, dryRun: true, actor: .cli)
        XCTAssertEqual(dry.removed.tables["responses"], 1)
        XCTAssertEqual(dry.removed.tables["outbox_files"], 1)
        let commentsAfterDry = try await h.count("SELECT count(*) FROM responses WHERE comment IS NOT NULL")
        XCTAssertEqual(commentsAfterDry, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: h.outbox.path).sorted(), filesBefore)

        let report = try await h.personalData.applyRetention(days: 30, actor: .cli)
        XCTAssertEqual(report.removed.tables["closures"], 1)
        XCTAssertEqual(report.removed.tables["invitations"], 1)
        XCTAssertEqual(report.removed.tables["responses"], 1)
        XCTAssertEqual(report.removed.tables["messages"], 2, "the whole conversation: the requester's message and the reply")
        XCTAssertEqual(report.removed.tables["deliveries"], 2)
        XCTAssertEqual(report.removed.tables["outbox_files"], 1)
        XCTAssertGreaterThanOrEqual(report.removed.tables["events"] ?? 0, 3)

        try await h.server.database.read { db in
            let oldInvitation = try XCTUnwrap(
                try SQLRow.fetchOne(
                    db, sql: "SELECT requester_email, requester_name FROM invitations WHERE id = ?", arguments: [oldCase.invitationID]))
            XCTAssertEqual(oldInvitation[0] as String, "")
            XCTAssertNil(oldInvitation[1] as String?)
            let oldClosure = try XCTUnwrap(
                try SQLRow.fetchOne(db, sql: "SELECT requester_email, requester_name, requester_locale FROM closures WHERE ticket_id = 'INC-OLD'"))
            XCTAssertEqual(oldClosure[0] as String, "")
            XCTAssertNil(oldClosure[1] as String?)
            XCTAssertNil(oldClosure[2] as String?)
            let oldResponse = try XCTUnwrap(
                try SQLRow.fetchOne(db, sql: "SELECT score, comment FROM responses WHERE id = ?", arguments: [oldCase.responseID]))
            XCTAssertEqual(oldResponse[0] as Int, 3, "the score stays")
            XCTAssertNil(oldResponse[1] as String?)
            XCTAssertEqual(
                try Int.fetchOne(db, sql: "SELECT count(*) FROM response_factors WHERE response_id = ?", arguments: [oldCase.responseID]), 1)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE response_id = ?", arguments: [oldCase.responseID]), 0)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries WHERE invitation_id = ?", arguments: [oldCase.invitationID]), 0)
            let oldEvents = try String.fetchAll(db, sql: "SELECT payload FROM events WHERE invitation_id = ?", arguments: [oldCase.invitationID])
            XCTAssertFalse(oldEvents.isEmpty)
            for payload in oldEvents {
                XCTAssertFalse(payload.contains("quux"), payload)
                XCTAssertFalse(payload.contains("olga"), payload)
                XCTAssertFalse(payload.contains("Olga"), payload)
                XCTAssertTrue(payload.contains("\"personal_data_removed\":true"), payload)
            }
            // The recent case is untouched.
            XCTAssertEqual(
                try String.fetchOne(db, sql: "SELECT requester_email FROM invitations WHERE id = ?", arguments: [newCase.invitationID]),
                "nina.new@example.com")
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT comment FROM responses WHERE id = ?", arguments: [newCase.responseID]), "new comment")
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE response_id = ?", arguments: [newCase.responseID]), 2)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries WHERE invitation_id = ?", arguments: [newCase.invitationID]), 2)
            let recount = try storedAndRecountedDailyRollups(db)
            XCTAssertEqual(recount.stored, recount.recount, "the roll-ups stay exact")
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM rollup_dirty"), 0, "removing comments marks nothing for a fold")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: h.outbox.path).sorted()
        XCTAssertEqual(files.count, 2, "\(files)")
        XCTAssertTrue(files.allSatisfy { $0.hasPrefix("invitation-\(newCase.invitationID).") }, "only the recent case's files stay: \(files)")
        XCTAssertEqual(try h.dashboardFigures(), figuresBefore, "the dashboard's figures are the same before and after")

        // A second run finds nothing more.
        let again = try await h.personalData.applyRetention(days: 30, actor: .cli)
        XCTAssertEqual(again.removed.total, 0, "\(again.removed.tables)")
        // Each run is in the audit trail, with counts and no personal data.
        let runs = try await AuditLog.list(h.server.database, AuditQuery())
        XCTAssertEqual(runs.filter { $0.action == "retention.run" }.count, 2)
        XCTAssertEqual(runs.last?.actor_kind, "cli")
    }

    func testTheDashboardSaysWhenCommentsAreRemovedByRetention() async throws {
        var fixture = try DashboardFixture()
        try fixture.seedNovember()
        let filters = try DashboardFilters(from: "2026-11-01", to: "2026-11-30", period: "month", by: "service", kind: nil, minimum: nil)
        let plain = try fixture.builder().build(filters)
        XCTAssertNil(plain.commentsNotice)
        XCTAssertFalse(DashboardHTML.render(plain).contains("retention policy"))
        let builder = DashboardBuilder(store: DashboardStore(reader: fixture.storage), catalog: try fixture.catalog, retentionDays: 90)
        let report = try builder.build(filters)
        XCTAssertTrue(DashboardHTML.render(report).contains("Comments older than 90 days are removed by the retention policy."))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        XCTAssertEqual(json["comments_retention_days"] as? Int, 90)
        XCTAssertEqual(json["comments_notice"] as? String, "Comments older than 90 days are removed by the retention policy.")
    }

    func testRetentionDaysMustBeAPositiveWholeNumber() throws {
        XCTAssertNil(try Settings.parseRetentionDays(nil))
        XCTAssertNil(try Settings.parseRetentionDays(""))
        XCTAssertEqual(try Settings.parseRetentionDays("365"), 365)
        for bad in ["0", "-3", "abc", "1.5", "30d"] {
            XCTAssertThrowsError(try Settings.parseRetentionDays(bad), bad) { error in
                XCTAssertTrue("\(error)".contains("HAPPYDESK_RETENTION_DAYS"), "\(error)")
            }
        }
    }
}
