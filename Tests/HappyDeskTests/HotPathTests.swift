import Foundation
import GRDB
import XCTest

@testable import HappyDesk

/// The hand-written pieces of the submission path give the same results as the library code they replaced.
final class HotPathTests: XCTestCase {
    func testFormDecoderMatchesFoundationAndKeepsMalformedEscapes() {
        let pairs = FormDecoder.decode("score=9&factors=speed&factors%5B%5D=x&comment=Gr%C3%BC%C3%9Fe+%26+thanks%21&&empty=&bare&bad=%zz%4")
        XCTAssertEqual(pairs.map(\.0), ["score", "factors", "factors[]", "comment", "empty", "bare", "bad"])
        XCTAssertEqual(pairs.map(\.1), ["9", "speed", "x", "Grüße & thanks!", "", "", "%zz%4"])
        XCTAssertEqual(FormDecoder.decode("").count, 0)
        XCTAssertEqual(FormDecoder.decode("a=%E2%82%AC")[0].1, "€")
    }

    func testEventJSONDecodesBackToTheSameEvent() throws {
        let event = AnswerService.ResponseEvent(
            response_id: 7, invitation_id: 3, ticket_id: "INC-1", source: "jira", kind: "incident", survey: "incident", score: 3,
            band: "negative", factors: ["slow", "not_solved"], lost_time: "1to2h", lost_minutes: 90,
            comment: "Quote \" backslash \\ newline \n tab \t bell \u{07} <b>ü</b> 😀", revision: 2, assignee_id: "a1",
            assignee_name: nil, assignee_email: "sam@example.com", group: "Desk", service: nil, requester_name: "Ann",
            requester_email: nil, follow_up: true, first_answered_at: Date(timeIntervalSince1970: 1_790_000_000),
            last_changed_at: Date(timeIntervalSince1970: 1_790_000_123)
        )
        let json = event.json()
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        XCTAssertEqual(try decoder.decode(AnswerService.ResponseEvent.self, from: Data(json.utf8)), event)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let reference = try JSONSerialization.jsonObject(with: encoder.encode(event)) as? NSDictionary
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? NSDictionary, reference)
    }

    func testDateTextsMatchFoundationAndGRDB() throws {
        for seconds in [0.0, 86_399.999, 951_782_400.5, 1_790_000_000.123, 4_102_444_799.0] {
            let date = Date(timeIntervalSince1970: seconds)
            XCTAssertEqual(ISO8601.format(date), Date.ISO8601FormatStyle().format(date))
            // The one date codec writes what GRDB writes, and reads it back to the millisecond.
            XCTAssertEqual(SQLDate.string(date), String.fromDatabaseValue(date.databaseValue))
            let back = try XCTUnwrap(SQLDate.parse(SQLDate.string(date)))
            XCTAssertEqual(back.timeIntervalSince1970, seconds, accuracy: 0.0005)
        }
        XCTAssertEqual(SQLDate.parse("2026-11-20"), SQLDate.parse("2026-11-20 00:00:00.000"))
        XCTAssertEqual(SQLDate.parse("2026-11-20T10:00:00Z"), SQLDate.parse("2026-11-20 10:00:00.000"))
        for bad in ["", "2026-13-01", "2026-11-20 25:00", "2026-11-20 10:00:00.", "2026-11-20x", "２０２６-11-20"] {
            XCTAssertNil(SQLDate.parse(bad), bad)
        }
    }

    func testTokensAre256RandomBitsInBase64URL() {
        let tokens = (0..<2000).map { _ in SurveyToken.generate().value }
        XCTAssertEqual(Set(tokens).count, tokens.count)
        XCTAssertTrue(tokens.allSatisfy(SurveyToken.looksValid))
        // Every base64url character shows up at every position across 2,000 tokens: no fixed bytes.
        for position in [0, 10, 21, 32, 41] {
            let seen = Set(tokens.map { Array($0.utf8)[position] })
            XCTAssertGreaterThan(seen.count, 50, "position \(position)")
        }
    }

    func testABatchedWriteThatFailsHalfWayLeavesNothingAndSparesItsNeighbours() async throws {
        let directory = try makeTemporaryDirectory()
        let pool = try DatabasePool(path: directory.appendingPathComponent("batch.sqlite").path)
        try await pool.write { db in try db.execute(sql: "CREATE TABLE t (v INTEGER NOT NULL)") }
        let batcher = WriteBatcher(storage: SQLiteStorage(pool))
        struct HalfWay: Error {}
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for value in 0..<40 {
                group.addTask {
                    do {
                        try await batcher.write { db in
                            try db.execute(sql: "INSERT INTO t (v) VALUES (?)", arguments: [value])
                            if value % 10 == 3 { throw HalfWay() }  // after writing: must be undone
                            if value % 10 == 7 { try db.execute(sql: "INSERT INTO t (v) VALUES (NULL)") }  // constraint
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var succeeded = 0
            for try await ok in group where ok { succeeded += 1 }
            XCTAssertEqual(succeeded, 32)
        }
        let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT v FROM t ORDER BY v") }
        XCTAssertEqual(stored, (0..<40).filter { $0 % 10 != 3 && $0 % 10 != 7 })
    }
}

final class MailTextFillingTests: XCTestCase {
    func testPlaceholdersAreFilledInOnePass() {
        XCTAssertEqual(
            "Hello {name}, {ticket} {unknown} {name}".filling(["name": "Ann {ticket}", "ticket": "INC-1"]),
            "Hello Ann {ticket}, INC-1 {unknown} Ann {ticket}")
        XCTAssertEqual("no placeholders".filling(["name": "x"]), "no placeholders")
        XCTAssertEqual("open { brace {name".filling(["name": "x"]), "open { brace {name")
        XCTAssertEqual("{name}".filling(["name": "Grüße"]), "Grüße")
    }
}

final class CRLFLinesTests: XCTestCase {
    func testLineEndingsBecomeCRLFAndLongLinesAreBroken() {
        XCTAssertEqual(MIMEEncoding.crlfLines("a\nb\r\nc\rd\n"), "a\r\nb\r\nc\r\nd\r\n")
        XCTAssertEqual(MIMEEncoding.crlfLines(""), "")
        XCTAssertEqual(MIMEEncoding.crlfLines("\n\n"), "\r\n\r\n")
        XCTAssertEqual(MIMEEncoding.crlfLines("ü\r"), "ü\r\n")
        let long = Array(repeating: "wörd", count: 400).joined(separator: " ")
        let lines = MIMEEncoding.crlfLines(long + "\nend").components(separatedBy: "\r\n")
        XCTAssertGreaterThan(lines.count, 2)
        XCTAssertTrue(lines.allSatisfy { $0.utf8.count <= 900 })
        XCTAssertEqual(lines.joined(separator: " ").replacingOccurrences(of: " end", with: ""), long)
        XCTAssertEqual(lines.last, "end")
    }
}
