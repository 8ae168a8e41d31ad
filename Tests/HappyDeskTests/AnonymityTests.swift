import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// Anonymous means anonymous: for a survey marked `anonymous: true`, no analyst or manager view names the
/// requester, the ticket, the invitation or the survey link, including what was recorded before the survey
/// became anonymous. Everything is read over a live server, the alert from a real HTTP listener.
final class AnonymityTests: XCTestCase {
    /// A copy of the project's surveys with the incident survey's `anonymous` flag set as given.
    func writeSurveys(to directory: URL, incidentAnonymous: Bool) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["incident.yml", "request.yml"] {
            var text = try String(contentsOf: repositoryRoot.appendingPathComponent("Surveys/\(name)"), encoding: .utf8)
            XCTAssertTrue(text.contains("anonymous: false"), "\(name) declares its anonymity")
            if name == "incident.yml", incidentAnonymous {
                text = text.replacingOccurrences(of: "anonymous: false", with: "anonymous: true")
            }
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    func testTurningAnonymityOnHidesTheRequesterAndTheTicketEverywhereAnalystsLookIncludingEarlierRecords() async throws {
        let dir = try makeTemporaryDirectory()
        let surveys = dir.appendingPathComponent("Surveys")
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("http.jsonl"))
        let alertURL = "http://127.0.0.1:\(listener.port)/ok/alert"
        let configure: (inout Settings) -> Void = {
            $0.surveysDirectory = surveys
            $0.alertWebhooks = ["*": alertURL]
        }
        let ticket = "INC-ANON-4711"

        // Before: the survey is not anonymous, and every view names the requester and the ticket.
        try writeSurveys(to: surveys, incidentAnonymous: false)
        let (team, token, responseID) = try await { () async throws -> (StreamPeople, String, Int64) in
            let harness = try DeliveryHarness(directory: dir, configure: configure)
            let added = try await StreamPeople.add(to: harness.server)
            return try await buildApplication(harness.server).test(.live) { client in
                let token = try await client.invitation(ticket: ticket)
                let responseID = try await client.answer(token, score: 2, factors: ["slow"], comment: "Too slow")
                let reply = try await client.post(
                    "/api/v1/responses/\(responseID)/replies", json: #"{"text":"Sorry, what happened?"}"#, token: added.sam)
                XCTAssertEqual(reply.status, .created, reply.text)
                let message = try await client.postForm("/s/\(token)/messages", "message=It+was+slow")
                XCTAssertEqual(message.status, .seeOther, message.text)
                try await client.answer(token, score: 10, factors: ["speed"], comment: "Fixed in the end, thanks")
                let kudos = try await client.post("/api/v1/responses/\(responseID)/kudos", json: #"{"text":"Well rescued"}"#, token: added.morgan)
                XCTAssertEqual(kudos.status, .created, kudos.text)
                try await harness.deliverAll()

                let events = try await client.get("/api/v1/events?after=0", token: added.sam).text
                XCTAssertTrue(events.contains(ticket) && events.contains("Ann Example") && events.contains("ann@example.com"), events)
                let me = try await client.get("/api/v1/me", token: added.sam).text
                XCTAssertTrue(me.contains(ticket), me)
                let thread = try await client.get("/api/v1/responses/\(responseID)/messages", token: added.sam).text
                XCTAssertTrue(thread.contains("Ann Example"), thread)
                return (added, token, responseID)
            }
        }()
        let earlier = listener.records()
        XCTAssertEqual(earlier.count, 1, "one alert for the first answer")
        XCTAssertTrue(earlier.first?.string("body").contains(ticket) == true, "\(earlier)")
        let earlierCount = earlier.count

        // After: the same data, the survey now anonymous.
        try FileManager.default.removeItem(at: surveys)
        try writeSurveys(to: surveys, incidentAnonymous: true)
        let harness = try DeliveryHarness(directory: dir, configure: configure)
        try await buildApplication(harness.server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let replay = try await StreamProbe.connect(port: port, path: "/api/v1/stream?after=0", token: team.sam)
            let live = try await StreamProbe.connect(port: port, token: team.morgan)
            // created, updated, two messages, kudos
            let replayed = try await replay.waitForEvents(5)
            XCTAssertEqual(
                replayed.prefix(5).compactMap { $0["type"] as? String }.sorted(),
                [
                    "kudos.created", "message.created", "message.created", "response.created", "response.updated",
                ])

            // The acknowledgement re-arms the alert; the next turn for the worse alerts without naming anyone.
            let ack = try await client.post("/api/v1/responses/\(responseID)/ack", json: "", token: team.sam)
            XCTAssertEqual(ack.status, .ok, ack.text)
            try await client.answer(token, score: 1, factors: ["slow"], comment: "Broken again")
            let message = try await client.postForm("/s/\(token)/messages", "message=Still+slow")
            XCTAssertEqual(message.status, .seeOther, message.text)
            let updated = try await live.waitFor { ($0["type"] as? String) == "response.updated" }
            XCTAssertEqual(updated.data["score"] as? Int, 1)
            XCTAssertEqual(updated.data["anonymous"] as? Bool, true)
            try await live.waitFor { ($0.data["text"] as? String) == "Still slow" }
            try await replay.waitFor { ($0.data["text"] as? String) == "Still slow" }
            try await harness.deliverAll()
            let alerts = listener.records().dropFirst(earlierCount)
            XCTAssertEqual(alerts.count, 1, "one more alert after the acknowledgement")
            let alertBody = alerts.first?.string("body") ?? ""
            XCTAssertTrue(alertBody.contains("1/10") && alertBody.contains("Broken again"), alertBody)

            var bodies: [(String, String)] = []
            bodies += replay.texts.map { ("replayed frame", $0) }
            bodies += live.texts.map { ("live frame", $0) }
            for (name, person) in [("analyst", team.sam), ("manager", team.morgan)] {
                for path in ["/api/v1/events?after=0", "/api/v1/me", "/api/v1/responses/\(responseID)/messages"] {
                    let response = try await client.get(path, token: person)
                    XCTAssertEqual(response.status, .ok, "\(path): \(response.text)")
                    bodies.append(("\(name) \(path)", response.text))
                }
            }
            bodies.append(("alert webhook", alertBody))
            for (place, body) in bodies {
                for secret in ["Ann Example", "ann@example.com", ticket, "\"invitation_id\"", "\"ticket_id\"", token, "/s/"] {
                    XCTAssertFalse(body.contains(secret), "\(place) shows \(secret): \(body)")
                }
            }
            // What stays is what analysts act on: the score, the comment, the conversation, the kudos.
            let events = try await client.get("/api/v1/events?after=0", token: team.sam)
            let frames = try XCTUnwrap(events.json["events"] as? [[String: Any]])
            XCTAssertEqual(frames.count, 7)
            XCTAssertTrue(frames.allSatisfy { ($0["response_id"] as? Int).map(Int64.init) == responseID })
            XCTAssertTrue(events.text.contains(#""follow_up":false"#), events.text)
            let thread = try await client.get("/api/v1/responses/\(responseID)/messages", token: team.sam)
            let messages = try XCTUnwrap(thread.json["messages"] as? [[String: Any]])
            XCTAssertEqual(messages.compactMap { $0["text"] as? String }, ["Sorry, what happened?", "It was slow", "Still slow"])
            XCTAssertEqual(messages.first?["author_name"] as? String, "Sam Analyst", "the analyst's own name stays")
            let me = try await client.get("/api/v1/me", token: team.sam)
            XCTAssertEqual((me.json["kudos"] as? [[String: Any]])?.first?["text"] as? String, "Well rescued")
            try await replay.close()
            try await live.close()
        }
    }

    func testAnonymousRedactionKeepsTheRestOfTheEventBody() throws {
        let payload =
            #"{"assignee_id":"a7","author":"requester","author_name":"Ann","follow_up":true,"invitation_id":3,"score":4,"survey":"incident","text":"x/y","ticket_id":"INC1"}"#
        let redacted = Anonymity.redact(payload: payload)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(redacted.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["assignee_id", "author", "follow_up", "score", "survey", "text", "anonymous"])
        XCTAssertTrue(redacted.contains(#""follow_up":true"#), redacted)
        XCTAssertTrue(redacted.contains(#""text":"x/y""#), redacted)
        XCTAssertEqual(Anonymity.redact(payload: "not json"), #"{"anonymous":true}"#)
    }

    func testASurveyTheCatalogNoLongerKnowsCountsAsAnonymous() throws {
        let catalog = try SurveyCatalog.load(directory: repositoryRoot.appendingPathComponent("Surveys"))
        let anonymity = Anonymity(catalog: catalog)
        XCTAssertFalse(anonymity.isAnonymous(surveyID: "incident"))
        XCTAssertTrue(anonymity.isAnonymous(surveyID: "retired-survey"))
        XCTAssertTrue(anonymity.isAnonymous(surveyID: nil))
        XCTAssertFalse(Anonymity.none.isAnonymous(surveyID: "retired-survey"))
    }
}
