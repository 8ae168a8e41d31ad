import Foundation
import GRDB
import XCTest

@testable import HappyDesk

/// The dashboard's arithmetic against the hand-computed figures documented on `DashboardFixture.seedNovember`.
final class DashboardMetricsTests: XCTestCase {
    func november() throws -> (DashboardFixture, DashboardReport) {
        var fixture = try DashboardFixture()
        try fixture.seedNovember()
        let report = try fixture.builder().build(DashboardFilters(from: "2026-11-01", to: "2026-11-30", period: .month, dimension: .service))
        return (fixture, report)
    }

    func testHappinessIsPercentHappyMinusPercentUnhappyWithItsMarginOfError() throws {
        let (_, report) = try november()
        XCTAssertEqual(report.overall.figures.responses, 19)
        XCTAssertEqual(report.overall.figures.positive, 10)
        XCTAssertEqual(report.overall.figures.negative, 7)
        XCTAssertEqual(try XCTUnwrap(report.overall.figures.happiness), 300.0 / 19.0, accuracy: 0.001)
        let vpn = try XCTUnwrap(report.breakdown.rows.first { $0.value == "VPN" })
        XCTAssertEqual(try XCTUnwrap(vpn.figures.happiness), 20, accuracy: 0.0001)
        // p = 0.5, q = 0.3, n = 10: 1.96 × 100 × √((0.8 − 0.04) / 10) = 54.03
        XCTAssertEqual(try XCTUnwrap(vpn.figures.marginOfError), 196 * (0.076).squareRoot(), accuracy: 0.001)
        let email = try XCTUnwrap(report.breakdown.rows.first { $0.value == "Email" })
        XCTAssertEqual(try XCTUnwrap(email.figures.happiness), 400.0 / 6.0, accuracy: 0.001)
    }

    func testSmallGroupsShowTooFewResponsesButStillCountOverall() throws {
        let (_, report) = try november()
        let printing = try XCTUnwrap(report.breakdown.rows.first { $0.value == "Printing" })
        XCTAssertEqual(printing.figures.responses, 3)
        XCTAssertEqual(printing.figures.negative, 3, "three scores of 0 are three unhappy answers")
        XCTAssertNil(printing.figures.happiness)
        XCTAssertNil(printing.impact)
        XCTAssertEqual(printing.figures.status, .tooFewResponses)
        XCTAssertEqual(report.breakdown.rows.last?.value, "Printing", "small groups come last")
        let html = DashboardHTML.render(report)
        XCTAssertTrue(html.contains("too few responses"))
    }

    func testHotspotImpactIsResponsesTimesTheGapToOverallWorstFirst() throws {
        let (_, report) = try november()
        let overall = 300.0 / 19.0
        XCTAssertEqual(report.breakdown.rows.map(\.value), ["VPN", "Email", "Printing"])
        XCTAssertEqual(try XCTUnwrap(report.breakdown.rows[0].impact), 10 * (20 - overall), accuracy: 0.001)
        XCTAssertEqual(try XCTUnwrap(report.breakdown.rows[1].impact), 6 * (400.0 / 6.0 - overall), accuracy: 0.001)
    }

    func testLostTimeAveragesOnlyTheResponsesThatAnsweredIt() throws {
        let (_, report) = try november()
        // 600 + 180 + 45 + 15 + 0 (VPN) + 0 (Printing) = 840 over 6 answers = 140 min.
        XCTAssertEqual(report.overall.figures.lostAnswered, 6)
        XCTAssertEqual(try XCTUnwrap(report.overall.figures.averageLostMinutes), 140, accuracy: 0.0001)
        XCTAssertEqual(report.overall.figures.averageLostTime, "2h 20min")
        let vpn = try XCTUnwrap(report.breakdown.rows.first { $0.value == "VPN" })
        XCTAssertEqual(vpn.figures.averageLostTime, "2h 48min")
        let email = try XCTUnwrap(report.breakdown.rows.first { $0.value == "Email" })
        XCTAssertNil(email.figures.averageLostMinutes, "nobody answered: no average, not zero")
        XCTAssertEqual(DashboardFormat.duration(minutes: 170), "2h 50min")
        XCTAssertEqual(DashboardFormat.duration(minutes: 45), "45min")
        XCTAssertEqual(DashboardFormat.duration(minutes: 120), "2h")
    }

    func testParetoShareIsTheSmallestShareOfTicketsCausingEightyPercentOfLostTime() throws {
        let (_, report) = try november()
        // 6 tickets, 840 min; 80% = 672: the 600-min ticket plus 72/180 of the 180-min one = 1.4 tickets = 23.3%.
        XCTAssertEqual(report.lostTime.tickets, 6)
        XCTAssertEqual(report.lostTime.minutesTotal, 840)
        XCTAssertEqual(try XCTUnwrap(report.lostTime.paretoShare), 1.4 / 6, accuracy: 0.0001)
        // 100 tickets: 13 × 600 = 7,800 of 9,750 min (80.0%) → 13%.
        let even = DashboardBuilder.lostTime(histogram: [(600, 13), (30, 65), (0, 22)])
        XCTAssertEqual(try XCTUnwrap(even.paretoShare), 0.13, accuracy: 0.0001)
        XCTAssertNil(DashboardBuilder.lostTime(histogram: [(0, 4)]).paretoShare, "no lost time: no concentration")
    }

    func testResponseRateCountsOnlyInvitationsActuallySent() throws {
        let (_, report) = try november()
        XCTAssertEqual(report.overall.invitationsSent, 24)
        XCTAssertEqual(try XCTUnwrap(report.overall.responseRate), 19.0 / 24.0, accuracy: 0.0001)
    }

    func testFactorShareIsPicksOverRespondentsInTheBand() throws {
        let (_, report) = try november()
        let slow = try XCTUnwrap(report.factors.first { $0.factorId == "slow" && $0.band == .negative })
        XCTAssertEqual(slow.picks, 5)
        XCTAssertEqual(slow.bandResponses, 7)
        XCTAssertEqual(try XCTUnwrap(slow.share), 5.0 / 7.0, accuracy: 0.0001)
        let speed = try XCTUnwrap(report.factors.first { $0.factorId == "speed" && $0.band == .positive })
        XCTAssertEqual(try XCTUnwrap(speed.share), 0.1, accuracy: 0.0001)
        let unpicked = try XCTUnwrap(report.factors.first { $0.factorId == "self_help" })
        XCTAssertEqual(unpicked.share, 0, "offered but never picked shows 0%, not nothing")
    }

    func testChangeAgainstThePreviousPeriodAndTheSummarySayWhatMoved() throws {
        let (_, report) = try november()
        XCTAssertEqual(report.previous?.period, "2026-10-01")
        XCTAssertEqual(report.previous?.figures.happiness, 100)
        let vpn = try XCTUnwrap(report.breakdown.rows.first { $0.value == "VPN" })
        XCTAssertEqual(try XCTUnwrap(vpn.changePoints), -80, accuracy: 0.0001)
        let summary = report.summary.joined(separator: " ")
        XCTAssertTrue(summary.contains("Happiness for VPN fell 80 points in November 2026"), summary)
        XCTAssertTrue(summary.contains("down 84 points from +100 in October 2026"), summary)
        XCTAssertTrue(summary.contains("of tickets cause 80% of the lost time"), summary)
    }

    func testHappinessByReassignments() throws {
        let (_, report) = try november()
        XCTAssertEqual(report.reassignments.map(\.value), ["0", "2"])
        // No reassignment: 16 responses, 10 happy, 4 unhappy → +37.5. Two: 3 responses → too few.
        XCTAssertEqual(try XCTUnwrap(report.reassignments[0].figures.happiness), 37.5, accuracy: 0.0001)
        XCTAssertNil(report.reassignments[1].figures.happiness)
    }

    func testWeeklyTrendAndMovingAverageAreVolumeWeighted() throws {
        var fixture = try DashboardFixture()
        // Day 1: 1 response of 10; day 2: 9 responses of 0. Pooled: (1 − 9) / 10 = −80, not the mean of +100 and −100.
        try fixture.add(day: "2026-11-02", score: 10)
        for _ in 0..<9 { try fixture.add(day: "2026-11-03", score: 0) }
        let report = try fixture.builder().build(DashboardFilters(from: "2026-11-02", to: "2026-11-15", period: .week, minimumResponses: 1))
        XCTAssertEqual(report.periods.map(\.period), ["2026-11-02", "2026-11-09"])
        let day = try XCTUnwrap(report.days.first { $0.day == "2026-11-03" })
        XCTAssertEqual(try XCTUnwrap(day.movingAverage7d), -80, accuracy: 0.0001)
        XCTAssertEqual(day.movingAverageResponses, 10)
    }

    func testRollUpsStayExactThroughAmendmentsAndDeletions() throws {
        var fixture = try DashboardFixture()
        try fixture.seedNovember()
        let id = try XCTUnwrap(try fixture.add(day: "2026-11-30", score: 2, lost: 45, factors: ["slow"]))
        // Fold what exists, so the changes below must subtract what the response counted before.
        XCTAssertGreaterThan(try Rollups.foldAll(fixture.storage), 0)
        try fixture.storage.writeSync { db in
            // The survey page's amendment: score first, then the factors are replaced.
            try db.execute(sql: "UPDATE responses SET score = 9, lost_minutes = NULL, lost_bucket = NULL WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM response_factors WHERE response_id = ?", arguments: [id])
            try db.execute(sql: "INSERT INTO response_factors (response_id, factor_id) VALUES (?, 'speed')", arguments: [id])
            try db.execute(sql: "DELETE FROM responses WHERE id = (SELECT min(id) FROM responses)")
            // A whole closure removed: the cascade takes its invitation, response and factors with it.
            try db.execute(
                sql: """
                    DELETE FROM closures WHERE id = (
                        SELECT i.closure_id FROM responses r JOIN invitations i ON i.id = r.invitation_id
                        JOIN response_factors f ON f.response_id = r.id WHERE r.id <> ? ORDER BY r.id DESC LIMIT 1)
                    """, arguments: [id])
        }
        XCTAssertEqual(try fixture.storage.readSync { db in try Rollups.pending(db) }, 3, "the amended and the two deleted responses wait for a fold")
        XCTAssertEqual(try Rollups.foldAll(fixture.storage), 3)
        try fixture.storage.readSync { db in
            let (stored, recount) = try storedAndRecountedDailyRollups(db)
            XCTAssertEqual(stored, recount)
            let storedFactors = try SQLRow.fetchAll(
                db, sql: "SELECT dim, value, day, kind, band, factor_id, picks FROM dashboard_factor_daily WHERE picks <> 0 ORDER BY 1, 2, 3, 4, 5, 6"
            )
            let recountFactors = try SQLRow.fetchAll(
                db,
                sql: """
                    SELECT d.dim, d.value, d.day, d.kind, CASE WHEN d.score >= 9 THEN 'positive' WHEN d.score >= 7 THEN 'neutral' ELSE 'negative' END, f.factor_id, count(*)
                    FROM dashboard_response_dims d JOIN response_factors f ON f.response_id = d.response_id
                    WHERE d.dim <> 'lost' AND d.value IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
                    """)
            XCTAssertEqual(storedFactors.map { $0.values }, recountFactors.map { $0.values })
        }
    }

    func testAReadOnlyDatabaseWithUnfoldedAnswersSaysSoInsteadOfShowingStaleFigures() throws {
        try sqliteOnly("a read-only database file")
        var fixture = try DashboardFixture()
        try fixture.add(day: "2026-11-02", score: 9)
        let readOnly = try AppDatabase.open(path: fixture.path, readOnly: true)
        let builder = DashboardBuilder(
            store: DashboardStore(reader: SQLiteStorage(pool: readOnly, path: fixture.path, readOnly: true)), catalog: try fixture.catalog)
        XCTAssertThrowsError(try builder.build(DashboardFilters(from: "2026-11-01", to: "2026-11-30"))) { error in
            XCTAssertTrue("\(error)".contains("read-only"), "\(error)")
        }
        // Once folded (by a writer), the same read-only handle reports without writing.
        try Rollups.foldAll(fixture.storage)
        XCTAssertEqual(try builder.build(DashboardFilters(from: "2026-11-01", to: "2026-11-30")).hasData, true)
    }

    func testAnEmptyRangeStillGivesAValidPageSayingThereIsNoData() throws {
        var fixture = try DashboardFixture()
        try fixture.seedNovember()
        let report = try fixture.builder().build(DashboardFilters(from: "2020-01-01", to: "2020-01-31"))
        XCTAssertFalse(report.hasData)
        XCTAssertEqual(report.overall.figures.status, .noData)
        let html = DashboardHTML.render(report)
        XCTAssertTrue(html.hasPrefix("<!doctype html>"))
        XCTAssertTrue(html.contains("No data"))
        XCTAssertTrue(html.hasSuffix("</html>\n"))
    }

    func testDayArithmeticAcrossWeeksMonthsAndLeapYears() {
        XCTAssertEqual(DashboardDay.periodStart("2026-11-22", .week), "2026-11-16", "a Sunday belongs to the week starting Monday")
        XCTAssertEqual(DashboardDay.periodStart("2026-11-16", .week), "2026-11-16")
        XCTAssertEqual(DashboardDay.periodStart("2026-11-22", .month), "2026-11-01")
        XCTAssertEqual(DashboardDay.adding(1, to: "2028-02-28"), "2028-02-29")
        XCTAssertEqual(DashboardDay.adding(1, to: "2026-12-31"), "2027-01-01")
        XCTAssertEqual(DashboardDay.adding(-1, to: "2026-03-01"), "2026-02-28")
        XCTAssertEqual(DashboardDay.range("2026-10-30", "2026-11-02"), ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"])
    }

    func testBadFiltersAreRejectedWithOneLine() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(
            message { _ = try DashboardFilters(from: nil, to: nil, period: "year", by: nil, kind: nil, minimum: nil) }.contains(
                "unknown period 'year'"))
        XCTAssertTrue(
            message { _ = try DashboardFilters(from: nil, to: nil, period: nil, by: "planet", kind: nil, minimum: nil) }.contains(
                "unknown dimension 'planet'"))
        XCTAssertTrue(
            message { _ = try DashboardFilters(from: "2026-11-30", to: "2026-11-01", period: nil, by: nil, kind: nil, minimum: nil) }.contains(
                "is after --to"))
        XCTAssertTrue(
            message { _ = try DashboardFilters(from: "2026-02-30", to: nil, period: nil, by: nil, kind: nil, minimum: nil) }.contains(
                "must be a date"))
        XCTAssertTrue(
            message { _ = try DashboardFilters(from: nil, to: nil, period: nil, by: nil, kind: "problem", minimum: nil) }.contains("unknown kind"))
    }
}
