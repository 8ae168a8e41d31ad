import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

final class SurveyPageTests: XCTestCase {
    func testSurveyPageRendersInTheRequestersLocale() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        try await buildApplication(server).test(.router) { client in
            let english = try await client.createInvitation(ticket: "INC1", locale: "en-US")
            let german = try await client.createInvitation(ticket: "INC2", locale: "de_DE")
            let en = try await client.execute(uri: "/s/\(english)", method: .get)
            XCTAssertEqual(en.status, .ok)
            XCTAssertTrue(en.text.contains("lang=\"en\""))
            XCTAssertTrue(en.text.contains("How happy are you with the way your incident was handled?"))
            XCTAssertTrue(en.text.contains("How much work time did you lose because of this?"))
            let de = try await client.execute(uri: "/s/\(german)", method: .get)
            XCTAssertTrue(de.text.contains("lang=\"de\""))
            XCTAssertTrue(de.text.contains("Wie zufrieden sind Sie mit der Bearbeitung Ihrer Störung?"))
            XCTAssertTrue(de.text.contains("Absenden"))
            XCTAssertLessThan(de.body.readableBytes, 30_000, "the page must stay under 30 KB")
            XCTAssertEqual(de.headers[HTTPField.Name("Referrer-Policy")!], "no-referrer")
            for value in 0...10 {
                XCTAssertTrue(de.text.contains("name=\"score\" value=\"\(value)\""), "score \(value) has a labelled radio button")
            }
        }
    }

    func testOneClickLinkPreselectsTheScoreButRecordsNothing() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        try await buildApplication(server).test(.router) { client in
            let token = try await client.createInvitation()
            let page = try await client.execute(uri: "/s/\(token)?score=3", method: .get)
            XCTAssertEqual(page.status, .ok)
            XCTAssertTrue(page.text.contains("value=\"3\" aria-label=\"3\" checked"))
            XCTAssertTrue(page.text.contains("My issue was not solved"), "the negative factors show for a 3")
            XCTAssertTrue(page.text.contains("data-band=\"negative\">"), "the negative band is the active one")
            // A scanner following every link must not create an answer.
            for score in 0...10 { _ = try await client.execute(uri: "/s/\(token)?score=\(score)", method: .get) }
        }
        let counts = try await server.database.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM responses"), try Int.fetchOne(db, sql: "SELECT count(*) FROM events"))
        }
        XCTAssertEqual(counts.0, 0)
        XCTAssertEqual(counts.1, 0)
    }

    func testSubmittingSavesTheAnswerAndAmendingKeepsFirstAndLastTimes() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        let token = try await buildApplication(server).test(.router) { client in
            let token = try await client.createInvitation()
            let saved = try await client.postForm(
                "/s/\(token)", "score=4&factors=slow&factors=not_informed&lost_time=1to2h&comment=VPN+kept+dropping")
            XCTAssertEqual(saved.status, .ok)
            XCTAssertTrue(saved.text.contains("Thank you! Your answer is saved."))
            XCTAssertTrue(saved.text.contains("VPN kept dropping"))
            return token
        }
        let first = try await server.database.read { db in try SQLRow.fetchOne(db, sql: "SELECT * FROM responses") }
        XCTAssertEqual(first?["score"], 4)
        XCTAssertEqual(first?["lost_minutes"], 90)
        XCTAssertEqual(first?["revision"], 1)
        let firstAnswered: Date = try XCTUnwrap(first?["first_answered_at"])

        try await Task.sleep(for: .milliseconds(20))
        try await buildApplication(server).test(.router) { client in
            let amended = try await client.postForm("/s/\(token)", "score=9&factors=speed&lost_time=none")
            XCTAssertEqual(amended.status, .ok)
            XCTAssertTrue(amended.text.contains("<strong class=\"score\">9</strong>"))
            XCTAssertTrue(amended.text.contains("<li>Fast resolution</li>"))
            XCTAssertTrue(amended.text.contains("href=\"/s/\(token)\""), "a link back to change the answer")
            let page = try await client.execute(uri: "/s/\(token)", method: .get)
            XCTAssertTrue(page.text.contains("value=\"9\" aria-label=\"9\" checked"), "the page shows the saved answer")
        }
        let (row, factors, events) = try await server.database.read { db in
            (
                try SQLRow.fetchOne(db, sql: "SELECT * FROM responses"),
                try String.fetchAll(db, sql: "SELECT factor_id FROM response_factors ORDER BY factor_id"),
                try String.fetchAll(db, sql: "SELECT type FROM events ORDER BY id")
            )
        }
        XCTAssertEqual(row?["score"], 9)
        XCTAssertEqual(row?["lost_minutes"], 0, "'none' is 0 minutes, not unanswered")
        XCTAssertEqual(row?["comment"] as String?, nil)
        XCTAssertEqual(row?["revision"], 2)
        XCTAssertEqual(row?["first_answered_at"], firstAnswered)
        let lastChanged: Date = try XCTUnwrap(row?["last_changed_at"])
        XCTAssertGreaterThan(lastChanged, firstAnswered)
        XCTAssertEqual(factors, ["speed"])
        XCTAssertEqual(events, ["response.created", "response.updated"])
    }

    func testJSONSubmissionAnswersWithTheStoredResponse() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        try await buildApplication(server).test(.router) { client in
            let token = try await client.createInvitation()
            let response = try await client.postJSON("/s/\(token)", #"{"score":0,"factors":["not_solved"]}"#)
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.json["score"] as? Int, 0, "a score of 0 is a score, not an empty answer")
            XCTAssertEqual(response.json["factors"] as? [String], ["not_solved"])
        }
    }

    func testBadAnswersGetAnHTMLErrorThatNamesTheProblemAndChangeNothing() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        try await buildApplication(server).test(.router) { client in
            let token = try await client.createInvitation()
            let cases: [(String, String, HTTPResponse.Status, String)] = [
                ("/s/\(token)", "score=11", .badRequest, "score must be a whole number from 0 to 10"),
                ("/s/\(token)", "score=-1", .badRequest, "score must be a whole number from 0 to 10"),
                ("/s/\(token)", "score=ten", .badRequest, "score must be a whole number from 0 to 10"),
                ("/s/\(token)", "factors=speed", .badRequest, "score is missing"),
                ("/s/\(token)", "score=9&factors=slow", .badRequest, "does not fit a score of 9"),
                ("/s/\(token)", "score=9&factors=made_up", .badRequest, "not one of this survey"),
                ("/s/\(token)", "score=9&lost_time=forever", .badRequest, "lost_time"),
                ("/s/\(token)", "score=5&comment=" + String(repeating: "a", count: 5001), .badRequest, "the limit is 5000"),
                ("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "score=9", .notFound, "not valid"),
                ("/s/short", "score=9", .notFound, "not valid"),
            ]
            for (path, body, status, fragment) in cases {
                let response = try await client.postForm(path, body)
                XCTAssertEqual(response.status, status, body)
                XCTAssertTrue(response.text.contains(fragment), "\(body): \(response.text.prefix(600))")
                XCTAssertTrue(response.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            let badQuery = try await client.execute(uri: "/s/\(token)?score=12", method: .get)
            XCTAssertEqual(badQuery.status, .badRequest)
            let unknown = try await client.execute(uri: "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", method: .get)
            XCTAssertEqual(unknown.status, .notFound)
        }
        let count = try await server.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM responses") }
        XCTAssertEqual(count, 0)
    }

    func testExpiredLinkShowsGoneAndAcceptsNoAnswer() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        try await buildApplication(server).test(.router) { client in
            let token = try await client.createInvitation()
            try await server.database.write { db in
                try db.execute(sql: "UPDATE invitations SET expires_at = ?", arguments: [Date().addingTimeInterval(-60)])
            }
            let page = try await client.execute(uri: "/s/\(token)", method: .get)
            XCTAssertEqual(page.status, .gone)
            XCTAssertTrue(page.text.contains("expired"))
            let post = try await client.postForm("/s/\(token)", "score=9")
            XCTAssertEqual(post.status, .gone)
        }
        let count = try await server.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM responses") }
        XCTAssertEqual(count, 0)
    }

    func testUserTextIsEscapedOnThePage() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        try await buildApplication(server).test(.router) { client in
            let token = try await client.createInvitation()
            let response = try await client.postForm("/s/\(token)", "score=2&comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27")
            XCTAssertFalse(response.text.contains("<script>alert(1)"))
            XCTAssertTrue(response.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        }
    }
}
