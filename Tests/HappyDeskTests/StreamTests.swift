import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

@testable import HappyDesk

/// The analyst stream end to end over a live server: what each person sees, resume, replies, kudos.
final class StreamTests: XCTestCase {
    func testAnalystSeesOnlyTheirOwnFeedbackAndAManagerSeesAll() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let sam = try await StreamProbe.connect(port: port, token: people.sam)
            let pat = try await StreamProbe.connect(port: port, token: people.pat)
            let morgan = try await StreamProbe.connect(port: port, token: people.morgan)
            // Sam is matched by id on one ticket and only by email (any case) on another.
            let byID = try await client.invitation(ticket: "INC1", assigneeID: "analyst-7", assigneeEmail: "someone@example.com")
            let byEmail = try await client.invitation(ticket: "INC2", assigneeID: nil, assigneeEmail: "SAM@Example.com")
            let patsTicket = try await client.invitation(ticket: "INC3", assigneeID: "analyst-9", assigneeEmail: "pat@example.com")
            try await client.answer(byID, score: 10, factors: ["speed"], comment: "Thanks!", lostTime: "none")
            try await client.answer(byEmail, score: 4, factors: ["slow"])
            try await client.answer(patsTicket, score: 9)

            let managerEvents = try await morgan.waitForEvents(3)
            XCTAssertEqual(managerEvents.map { $0["type"] as? String }, ["response.created", "response.created", "response.created"])
            let samEvents = try await sam.waitForEvents(2)
            try await pat.waitForEvents(1)
            try await Task.sleep(for: .milliseconds(100))
            XCTAssertEqual(sam.events.count, 2)
            XCTAssertEqual(Set(sam.events.compactMap { $0.data["ticket_id"] as? String }), ["INC1", "INC2"])
            XCTAssertEqual(pat.events.compactMap { $0.data["ticket_id"] as? String }, ["INC3"])
            let first = samEvents[0]
            XCTAssertEqual(first.data["score"] as? Int, 10)
            XCTAssertEqual(first.data["factors"] as? [String], ["speed"])
            XCTAssertEqual(first.data["comment"] as? String, "Thanks!")
            XCTAssertEqual(first.data["lost_time"] as? String, "none")
            XCTAssertNotNil(first["id"] as? Int)

            // The REST twin applies the same rule.
            let rest = try await client.get("/api/v1/events?after=0", token: people.pat)
            XCTAssertEqual(rest.status, .ok)
            let restEvents = try XCTUnwrap(rest.json["events"] as? [[String: Any]])
            XCTAssertEqual(restEvents.compactMap { $0.data["ticket_id"] as? String }, ["INC3"])
            let all = try await client.get("/api/v1/events?after=0", token: people.morgan)
            XCTAssertEqual((all.json["events"] as? [[String: Any]])?.count, 3)
            for probe in [sam, pat, morgan] { try await probe.close() }
        }
    }

    func testResumeAfterADroppedConnectionMissesNothingAndRepeatsNothing() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            var tokens: [String] = []
            for index in 1...6 { tokens.append(try await client.invitation(ticket: "INC\(index)")) }
            let first = try await StreamProbe.connect(port: port, path: "/api/v1/stream?after=0", token: people.sam)
            try await client.answer(tokens[0], score: 9)
            try await client.answer(tokens[1], score: 8)
            let seen = try await first.waitForEvents(2)
            let lastSeen = try XCTUnwrap(seen.last?["id"] as? Int)
            try await first.close()

            // While disconnected: two new responses and one change.
            try await client.answer(tokens[2], score: 3)
            try await client.answer(tokens[3], score: 10)
            try await client.answer(tokens[0], score: 7)

            let second = try await StreamProbe.connect(port: port, path: "/api/v1/stream?after=\(lastSeen)", token: people.sam)
            let replayed = try await second.waitForEvents(3)
            try await client.answer(tokens[4], score: 6)
            try await second.waitForEvents(4)
            try await Task.sleep(for: .milliseconds(150))
            let ids = second.events.compactMap { $0["id"] as? Int }
            XCTAssertEqual(ids.count, 4, "no duplicates: \(ids)")
            XCTAssertEqual(ids, ids.sorted())
            XCTAssertTrue(ids.allSatisfy { $0 > lastSeen })
            XCTAssertEqual(replayed.prefix(3).compactMap { $0["type"] as? String }, ["response.created", "response.created", "response.updated"])
            XCTAssertEqual(second.events.compactMap { $0.data["ticket_id"] as? String }, ["INC3", "INC4", "INC1", "INC5"])
            try await second.close()

            let log = try await server.database.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM events ORDER BY id") }
            XCTAssertEqual(log.map(Int.init), seen.compactMap { $0["id"] as? Int } + ids)
        }
    }

    func testReplyQueuesAnEmailShowsOnTheSurveyPageAndTheRequestersAnswerReachesTheStream() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let token = try await client.invitation(ticket: "INC42")
            let responseID = try await client.answer(token, score: 5, factors: ["slow"], comment: "Took <b>ages</b>")
            let sam = try await StreamProbe.connect(port: port, path: "/api/v1/stream?after=0", token: people.sam)
            try await sam.waitForEvents(1)

            let answer = try await sam.request([
                "type": "reply", "response_id": responseID, "text": "Sorry <script>alert(1)</script> — fixed the VPN profile",
            ])
            XCTAssertEqual(answer["type"] as? String, "ok", "\(answer)")
            XCTAssertNotNil(answer["message_id"])
            let echoed = try await sam.waitFor { ($0["type"] as? String) == "message.created" }
            XCTAssertEqual(echoed.data["author"] as? String, "analyst")
            XCTAssertEqual(echoed.data["author_name"] as? String, "Sam Analyst")

            // The reply is queued for the requester through the outbox, with the survey link's sealed token.
            let row = try await server.database.read { db in
                try SQLRow.fetchOne(
                    db,
                    sql:
                        "SELECT d.channel, d.payload, d.sealed_token, s.sealed_token AS survey_token FROM deliveries d JOIN deliveries s ON s.invitation_id = d.invitation_id AND s.purpose = 'survey' WHERE d.purpose = 'reply'"
                )
            }
            let delivery = try XCTUnwrap(row)
            XCTAssertEqual(delivery["channel"] as String, "file")
            XCTAssertEqual(delivery["sealed_token"] as Data?, delivery["survey_token"] as Data?)
            let payload = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((delivery["payload"] as String).utf8)) as? [String: Any])
            XCTAssertEqual(payload["author"] as? String, "Sam Analyst")
            XCTAssertEqual(payload["text"] as? String, "Sorry <script>alert(1)</script> — fixed the VPN profile")

            // The requester sees the conversation on their survey page, escaped.
            let page = try await client.execute(uri: "/s/\(token)", method: .get)
            XCTAssertTrue(page.text.contains("Sorry &lt;script&gt;alert(1)&lt;/script&gt;"), page.text)
            XCTAssertFalse(page.text.contains("<script>alert(1)"))
            XCTAssertTrue(page.text.contains("action=\"/s/\(token)/messages\""))
            XCTAssertLessThan(page.body.readableBytes, 30_000)

            // …and answers back without JavaScript: a form post, then a redirect to the thread.
            let posted = try await client.postForm("/s/\(token)/messages", "message=Works+now%2C+thank+you+%3Ci%3E")
            XCTAssertEqual(posted.status, .seeOther)
            let back = try await sam.waitFor { ($0["type"] as? String) == "message.created" && ($0.data["author"] as? String) == "requester" }
            XCTAssertEqual(back.data["text"] as? String, "Works now, thank you <i>")
            XCTAssertEqual(back.data["author_name"] as? String, "Ann Example")
            let again = try await client.execute(uri: "/s/\(token)", method: .get)
            XCTAssertTrue(again.text.contains("Works now, thank you &lt;i&gt;"))

            let thread = try await client.get("/api/v1/responses/\(responseID)/messages", token: people.sam)
            XCTAssertEqual((thread.json["messages"] as? [[String: Any]])?.compactMap { $0["author"] as? String }, ["analyst", "requester"])
            try await sam.close()
        }
    }

    func testRestRepliesAndAcknowledgementsMatchTheWebSocketActions() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.router) { client in
            let token = try await client.invitation(ticket: "INC7")
            let responseID = try await client.answer(token, score: 2, factors: ["not_solved"])
            let reply = try await client.post("/api/v1/responses/\(responseID)/replies", json: #"{"text":"On it"}"#, token: people.sam)
            XCTAssertEqual(reply.status, .created, reply.text)
            XCTAssertNotNil(reply.json["message_id"])
            let ack = try await client.post("/api/v1/responses/\(responseID)/ack", json: "{}", token: people.sam)
            XCTAssertEqual(ack.status, .ok, ack.text)
            let events = try await client.get("/api/v1/events?after=0", token: people.sam)
            XCTAssertEqual(
                (events.json["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String }, ["response.created", "message.created"])
            XCTAssertEqual(events.json["has_more"] as? Bool, false)
        }
    }

    func testManagerKudosReachTheAnalystAndAnalystsCannotGiveKudos() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let token = try await client.invitation(ticket: "INC9")
            let responseID = try await client.answer(token, score: 10, factors: ["attitude"], comment: "Sam was great")
            let sam = try await StreamProbe.connect(port: port, token: people.sam)
            let morgan = try await StreamProbe.connect(port: port, token: people.morgan)

            let given = try await morgan.request(["type": "kudos", "response_id": responseID, "text": "Lovely work, Sam"])
            XCTAssertEqual(given["type"] as? String, "ok", "\(given)")
            let kudos = try await sam.waitFor { ($0["type"] as? String) == "kudos.created" }
            XCTAssertEqual(kudos.data["from_name"] as? String, "Morgan Manager")
            XCTAssertEqual(kudos.data["text"] as? String, "Lovely work, Sam")

            let refused = try await sam.request(["type": "kudos", "response_id": responseID, "text": "me me me"])
            XCTAssertEqual(refused["type"] as? String, "error")
            XCTAssertEqual(refused["code"] as? String, "forbidden")
            let rest = try await client.post("/api/v1/responses/\(responseID)/kudos", json: #"{"text":"x"}"#, token: people.sam)
            XCTAssertEqual(rest.status, .forbidden)
            let restManager = try await client.post("/api/v1/responses/\(responseID)/kudos", json: #"{"text":"Again!"}"#, token: people.morgan)
            XCTAssertEqual(restManager.status, .created)

            // The analyst's own picture shows the kudos and the thank-you comment.
            let me = try await client.get("/api/v1/me", token: people.sam)
            XCTAssertEqual(me.status, .ok)
            XCTAssertEqual((me.json["kudos"] as? [[String: Any]])?.count, 2)
            XCTAssertEqual((me.json["thanks"] as? [[String: Any]])?.first?["comment"] as? String, "Sam was great")
            XCTAssertEqual((me.json["praised_factors"] as? [[String: Any]])?.first?["id"] as? String, "attitude")
            try await sam.close()
            try await morgan.close()
        }
    }

    func testNotSolvedQueuesTheReopenWebhookAndFlagsFollowUpUntilAcknowledged() async throws {
        let dir = try makeTemporaryDirectory()
        var settings = makeSettings(directory: dir)
        settings.reopenWebhookURL = "https://itsm.example.com/reopen"
        settings.alertWebhooks = try Settings.parseAlertWebhooks(
            "Service Desk=https://hooks.slack.com/services/T/B/X,https://default.example.com/hook")
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let server = try HappyDeskServer.open(settings: settings, logger: logger)
        try addTestIntegration(to: server)
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.router) { client in
            let token = try await client.invitation(ticket: "INC500")
            let responseID = try await client.answer(token, score: 2, factors: ["not_solved", "slow"], comment: "Still broken")
            // Amending keeps one reopen call and one alert.
            try await client.answer(token, score: 1, factors: ["not_solved"], comment: "Still broken!")

            let rows = try await server.database.read { db in
                try SQLRow.fetchAll(db, sql: "SELECT purpose, channel, payload FROM deliveries WHERE purpose IN ('alert', 'reopen') ORDER BY id")
            }
            XCTAssertEqual(rows.map { $0["purpose"] as String }, ["alert", "reopen"])
            XCTAssertTrue(rows.allSatisfy { ($0["channel"] as String) == "webhook" })
            let alert = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((rows[0]["payload"] as String).utf8)) as? [String: Any])
            XCTAssertEqual(alert["url"] as? String, "https://hooks.slack.com/services/T/B/X")
            let alertText = try XCTUnwrap((alert["body"] as? [String: Any])?["text"] as? String)
            XCTAssertTrue(alertText.contains("2/10 on INC500"), alertText)
            XCTAssertEqual((alert["body"] as? [String: Any])?.count, 1, "only text: Slack and Teams both accept it")
            let reopen = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((rows[1]["payload"] as String).utf8)) as? [String: Any])
            XCTAssertEqual(reopen["url"] as? String, "https://itsm.example.com/reopen")
            let body = try XCTUnwrap(reopen["body"] as? [String: Any])
            XCTAssertEqual(body["ticket_id"] as? String, "INC500")
            XCTAssertEqual(body["source"] as? String, "servicenow")
            XCTAssertEqual(body["reason"] as? String, "not_solved")

            func followUp() async throws -> Bool {
                try await server.database.read { db in
                    try Bool.fetchOne(db, sql: "SELECT needed FROM response_follow_ups WHERE response_id = ?", arguments: [responseID]) ?? false
                }
            }
            var flagged = try await followUp()
            XCTAssertTrue(flagged)
            let events = try await client.get("/api/v1/events?after=0", token: people.sam)
            XCTAssertEqual(((events.json["events"] as? [[String: Any]])?.first?.data)?["follow_up"] as? Bool, true)
            let ack = try await client.post("/api/v1/responses/\(responseID)/ack", json: "", token: people.sam)
            XCTAssertEqual(ack.status, .ok, ack.text)
            flagged = try await followUp()
            XCTAssertFalse(flagged)
        }
    }

    func testAnonymousSurveysNeverShowTheRequesterToAnalysts() async throws {
        let dir = try makeTemporaryDirectory()
        let surveys = dir.appendingPathComponent("Surveys")
        try FileManager.default.createDirectory(at: surveys, withIntermediateDirectories: true)
        for name in ["incident.yml", "request.yml"] {
            var text = try String(contentsOf: repositoryRoot.appendingPathComponent("Surveys/\(name)"), encoding: .utf8)
            if name == "incident.yml" { text = text.replacingOccurrences(of: "anonymous: false", with: "anonymous: true") }
            try text.write(to: surveys.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        var settings = makeSettings(directory: dir)
        settings.surveysDirectory = surveys
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let server = try HappyDeskServer.open(settings: settings, logger: logger)
        try addTestIntegration(to: server)
        let people = try await StreamPeople.add(to: server)
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let sam = try await StreamProbe.connect(port: port, token: people.sam)
            let token = try await client.invitation(ticket: "INC77")
            let responseID = try await client.answer(token, score: 6, comment: "meh")
            let created = try await sam.waitFor { ($0["type"] as? String) == "response.created" }
            let reply = try await sam.request(["type": "reply", "response_id": responseID, "text": "What went wrong?"])
            XCTAssertEqual(reply["type"] as? String, "ok")
            _ = try await client.postForm("/s/\(token)/messages", "message=It+was+slow")
            let answer = try await sam.waitFor { ($0.data["author"] as? String) == "requester" }
            let everything = try await client.get("/api/v1/events?after=0", token: people.sam).text
            for text in [String(describing: created), String(describing: answer), everything] {
                XCTAssertFalse(text.contains("Ann Example"), text)
                XCTAssertFalse(text.contains("ann@example.com"), text)
            }
            try await sam.close()
        }
    }
}
