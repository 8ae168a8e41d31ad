import Foundation
import GRDB
import XCTest

@testable import HappyDesk

/// The embedded default: no SMTP server, each message becomes a `.eml` file.
final class DeliveryFileTests: XCTestCase {
    func testWithoutSMTPEachSurveyIsWrittenAsAnEmlFile() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir)
        let invitation = try await harness.invite(ticket: "INC-FILE-1")

        try await harness.deliverAll()
        // A resend (e.g. after a crash) replaces the same file instead of adding one.
        try await harness.server.database.write { db in try db.execute(sql: "UPDATE deliveries SET status = 'pending'") }
        try await harness.deliverAll()

        let outbox = URL(fileURLWithPath: harness.server.settings.outboxDirectory)
        let files = try FileManager.default.contentsOfDirectory(atPath: outbox.path)
        XCTAssertEqual(files, ["invitation-\(invitation.id).survey@happydesk.test.eml"])
        let eml = try String(contentsOf: outbox.appendingPathComponent(files[0]), encoding: .utf8)
        XCTAssertTrue(eml.contains("Message-ID: <invitation-\(invitation.id).survey@happydesk.test>\r\n"))
        XCTAssertTrue(eml.contains("Content-Type: multipart/alternative"))
        XCTAssertTrue(eml.contains("\(invitation.url)?score=7"))
        let status = try await harness.invitationStatus(invitation.id)
        XCTAssertEqual(status, "sent")
    }
}
