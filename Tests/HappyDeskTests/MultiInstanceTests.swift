import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

@testable import HappyDesk

/// Several `happydesk serve` processes on one PostgreSQL database, as behind a load balancer: the real binary,
/// a real PostgreSQL server (`make test` starts one) and a real SMTP server.
final class MultiInstanceTests: XCTestCase {
    /// One running instance.
    struct Instance {
        let process: Process
        let port: Int

        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            process.waitUntilExit()
        }

        func kill() {
            guard process.isRunning else { return }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        func post(_ path: String, json: String, token: String? = nil) throws -> (Int, [String: Any]) {
            var headers = ["Content-Type": "application/json"]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            let (status, body) = try RawSocket.request(port: port, "POST", path, body: json, headers: headers)
            return (status, (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? ["body": body])
        }

        func get(_ path: String, token: String) throws -> (Int, String) {
            try RawSocket.request(port: port, "GET", path, headers: ["Authorization": "Bearer \(token)"])
        }
    }

    struct Cluster {
        let url: String
        let key = Data((0..<32).map { UInt8($0 * 7 % 256) }).base64EncodedString()
        let smtpPort: Int
        let directory: URL
        var integration = ""
        var manager = ""

        var environment: [String: String] {
            [
                "HAPPYDESK_DATABASE_URL": url, "HAPPYDESK_SECRET_KEY": key, "HAPPYDESK_SMTP_URL": "smtp://127.0.0.1:\(smtpPort)",
                "HAPPYDESK_SMTP_TLS": "off", "HAPPYDESK_SMTP_FROM": "Service Desk <desk@happydesk.test>",
                "HAPPYDESK_PUBLIC_URL": "http://surveys.test",
                "HAPPYDESK_DELIVERY_BACKOFF": "0.2", "HAPPYDESK_RATE_LIMIT_CLOSURES": "off", "HAPPYDESK_RATE_LIMIT_SURVEY": "off",
            ]
        }

        init(smtpPort: Int) throws {
            url = try TestPostgres.requireURL()
            self.smtpPort = smtpPort
            directory = try makeTemporaryDirectory()
            let migrated = try runHappydesk(["migrate"], environment: ["HAPPYDESK_DATABASE_URL": url])
            XCTAssertEqual(migrated.status, 0, migrated.err)
            integration = try Self.token(["users", "add", "--role", "integration", "--name", "ITSM"], url)
            manager = try Self.token(["users", "add", "--role", "manager", "--name", "Mia Manager", "--email", "mia@example.com"], url)
        }

        static func token(_ arguments: [String], _ url: String) throws -> String {
            let added = try runHappydesk(arguments, environment: ["HAPPYDESK_DATABASE_URL": url])
            XCTAssertEqual(added.status, 0, added.err)
            return try XCTUnwrap(added.out.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("hd_") }.map(String.init), added.out)
        }

        func start(_ extra: [String: String] = [:]) async throws -> Instance {
            let port = freeTCPPort()
            var environment = environment
            environment["HAPPYDESK_OUTBOX_DIR"] = directory.appendingPathComponent("outbox-\(port)").path
            environment.merge(extra) { $1 }
            let process = try startHappydesk(["serve", "--port", "\(port)"], environment)
            let health = try await waitForHealth(port: port, while: process)
            XCTAssertEqual(health, 200, "instance on \(port) did not start")
            return Instance(process: process, port: port)
        }
    }

    static func closure(_ ticket: String) -> String {
        closureJSON(ticket: ticket, email: "req-\(ticket.lowercased())@example.com")
    }

    func testTwoInstancesSendEachMessageOnceAndShareTheStream() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", log: dir.appendingPathComponent("mail.jsonl"))
        let cluster = try Cluster(smtpPort: smtp.port)
        let a = try await cluster.start(["HAPPYDESK_DELIVERY_LEASE": "5"])
        let b = try await cluster.start(["HAPPYDESK_DELIVERY_LEASE": "5"])
        defer {
            a.stop()
            b.stop()
        }

        // A manager watches the stream on B.
        let watcher = try await StreamProbe.connect(port: b.port, token: cluster.manager)

        // 200 closures, alternately to A and B: each emailed exactly once.
        var tokens: [String] = []
        for n in 0..<200 {
            let (status, body) = try (n.isMultiple(of: 2) ? a : b).post(
                "/api/v1/closures", json: Self.closure("INC-MI-\(n)"), token: cluster.integration)
            XCTAssertEqual(status, 201, "\(body)")
            if let url = body["survey_url"] as? String { tokens.append(String(url.split(separator: "/").last ?? "")) }
        }
        XCTAssertEqual(tokens.count, 200)
        let mails = await smtp.waitForRecords(200, timeout: 60)
        try await Task.sleep(for: .seconds(2))  // room for a duplicate to show up, if one were sent
        let ids = smtp.records().map { $0.string("message_id") }
        XCTAssertEqual(mails.count, 200)
        XCTAssertEqual(ids.count, 200, "no message sent twice")
        XCTAssertEqual(Set(ids).count, 200, "200 different messages")

        // A response submitted on A reaches the socket on B.
        let submitted = Date()
        let (status, answer) = try a.post("/s/\(tokens[7])", json: #"{"score":3,"factors":[],"comment":"slow on A"}"#)
        XCTAssertEqual(status, 200, "\(answer)")
        let event = try await watcher.waitFor(timeout: .seconds(3)) { ($0["type"] as? String) == "response.created" }
        XCTAssertLessThan(Date().timeIntervalSince(submitted), 1.5, "reached the other instance within about a second")
        let eventID = try XCTUnwrap((event["id"] as? NSNumber)?.int64Value)

        // ?after= replays from either instance.
        for instance in [a, b] {
            let (code, page) = try instance.get("/api/v1/events?after=\(eventID - 1)", token: cluster.manager)
            XCTAssertEqual(code, 200, page)
            XCTAssertTrue(page.contains("slow on A"), page)
        }

        // Roll-ups are folded (by one instance at a time) and both report the same figures.
        try await Task.sleep(for: .seconds(2))
        let (ja, reportA) = try a.get("/api/v1/metrics", token: cluster.manager)
        let (jb, reportB) = try b.get("/api/v1/metrics", token: cluster.manager)
        XCTAssertEqual(ja, 200, reportA)
        XCTAssertEqual(jb, 200, reportB)
        func figures(_ json: String) throws -> NSDictionary {
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            object.removeValue(forKey: "generated_at")
            object.removeValue(forKey: "generatedAt")
            return object as NSDictionary
        }
        XCTAssertEqual(try figures(reportA), try figures(reportB), "both instances report the same figures")
        XCTAssertTrue(reportA.contains("slow on A") || reportA.contains("\"responses\""), reportA)
    }

    func testAKilledInstanceLosesNoAcknowledgedAnswerAndItsClaimsAreSentByTheOtherAfterTheLease() async throws {
        let dir = try makeTemporaryDirectory()
        // A relay that takes 3 s per message: A's sends are in flight when it is killed.
        let smtp = try PythonPeer(script: "smtp_server.py", arguments: ["--delay", "3"], log: dir.appendingPathComponent("mail.jsonl"))
        let cluster = try Cluster(smtpPort: smtp.port)
        let storage = try PostgresStorage(url: cluster.url, poolSize: 2)
        let a = try await cluster.start(["HAPPYDESK_DELIVERY_LEASE": "4"])
        var acknowledged: [Int64] = []
        for n in 0..<5 {
            let (status, body) = try a.post("/api/v1/closures", json: Self.closure("INC-KILL-\(n)"), token: cluster.integration)
            XCTAssertEqual(status, 201, "\(body)")
            let token = String((body["survey_url"] as? String ?? "").split(separator: "/").last ?? "")
            let (answered, reply) = try a.post("/s/\(token)", json: #"{"score":9,"factors":[]}"#)
            XCTAssertEqual(answered, 200, "\(reply)")
            if let id = (reply["response_id"] as? NSNumber)?.int64Value { acknowledged.append(id) }
        }
        // Those five were answered before their survey went out (so it is cancelled); five more closures stay
        // unanswered, for the outbox.
        for n in 5..<10 {
            let (status, body) = try a.post("/api/v1/closures", json: Self.closure("INC-KILL-\(n)"), token: cluster.integration)
            XCTAssertEqual(status, 201, "\(body)")
        }
        // Wait until A holds claims, then kill it mid-send.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let sending = try storage.readSync { db in try db.scalar(Int.self, "SELECT count(*) FROM deliveries WHERE status = 'sending'") } ?? 0
            if sending > 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let claimed = try storage.readSync { db in try db.scalar(Int.self, "SELECT count(*) FROM deliveries WHERE status = 'sending'") } ?? 0
        XCTAssertGreaterThan(claimed, 0, "A claimed rows before it was killed")
        a.kill()

        // Every acknowledged answer is in the database.
        let stored = try storage.readSync { db in try db.column(Int64.self, "SELECT id FROM responses ORDER BY id") }
        XCTAssertEqual(stored, acknowledged)

        // B picks up A's claims once their lease has run out, and sends them.
        let b = try await cluster.start(["HAPPYDESK_DELIVERY_LEASE": "4"])
        defer { b.stop() }
        let sentBy = Date().addingTimeInterval(30)
        var open = Int.max
        while Date() < sentBy {
            open =
                try storage.readSync { db in try db.scalar(Int.self, "SELECT count(*) FROM deliveries WHERE status <> 'sent' AND status <> 'dead'") }
                ?? 0
            if open == 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTAssertEqual(open, 0, "B sent what A had claimed")
        // Only the surveys answered before they were sent are cancelled (dead, "invitation is answered").
        let dead = try storage.readSync { db in
            try db.column(String.self, "SELECT last_error FROM deliveries WHERE status = 'dead' ORDER BY id")
        }
        XCTAssertEqual(dead.count, 5)
        XCTAssertTrue(dead.allSatisfy { $0.contains("answered") }, "\(dead)")
        let ids = Set(smtp.records().map { $0.string("message_id") })
        let unanswered = try storage.readSync { db in
            try db.column(Int64.self, "SELECT i.id FROM invitations i WHERE NOT EXISTS (SELECT 1 FROM responses r WHERE r.invitation_id = i.id)")
        }
        for id in unanswered {
            XCTAssertTrue(
                ids.contains("<invitation-\(id).survey@happydesk.test>"), "invitation \(id) reached the relay (at least once, one Message-ID)")
        }
        await storage.close()
    }

    func testADifferentSecretKeyOrAnUnreachableOrWronglyAuthenticatedDatabaseStopsStartWithOneLine() async throws {
        let url = try TestPostgres.requireURL()
        let first = try runHappydesk(["migrate"], environment: ["HAPPYDESK_DATABASE_URL": url])
        XCTAssertEqual(first.status, 0, first.err)
        let keyA = Data(repeating: 1, count: 32).base64EncodedString()
        let keyB = Data(repeating: 2, count: 32).base64EncodedString()
        let port = freeTCPPort()
        let a = try startHappydesk(["serve", "--port", "\(port)", "--no-delivery"], ["HAPPYDESK_DATABASE_URL": url, "HAPPYDESK_SECRET_KEY": keyA])
        let health = try await waitForHealth(port: port, while: a)
        XCTAssertEqual(health, 200)
        a.terminate()
        a.waitUntilExit()

        let other = try runHappydesk(
            ["serve", "--port", "\(freeTCPPort())", "--no-delivery"], environment: ["HAPPYDESK_DATABASE_URL": url, "HAPPYDESK_SECRET_KEY": keyB])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.err.contains("HAPPYDESK_SECRET_KEY"), other.err)
        XCTAssertEqual(other.err.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, other.err)

        let closedPort = freeTCPPort()
        let unreachable = try runHappydesk(["migrate", "--database-url", "postgres://happydesk:pw@127.0.0.1:\(closedPort)/happydesk"])
        XCTAssertNotEqual(unreachable.status, 0)
        XCTAssertTrue(unreachable.err.contains("127.0.0.1:\(closedPort)"), unreachable.err)
        XCTAssertEqual(unreachable.err.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, unreachable.err)

        var wrong = try XCTUnwrap(URLComponents(string: url))
        wrong.password = "not-the-password-s3cr3t"
        let refused = try runHappydesk(["migrate", "--database-url", try XCTUnwrap(wrong.string)])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("password"), refused.err)
        XCTAssertFalse(refused.err.contains("not-the-password-s3cr3t"), "the password is never printed: \(refused.err)")
        XCTAssertEqual(refused.err.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, refused.err)
    }
}

/// PostgreSQL going away while the server runs: requests get 503 with Retry-After, never a crash or a 500,
/// and the server recovers by itself when the database takes connections again.
final class PostgresOutageTests: XCTestCase {
    func testALostDatabaseAnswers503AndTheServerRecoversWhenItReturns() async throws {
        let url = try TestPostgres.requireURL()
        let admin = try PostgresStorage(url: try XCTUnwrap(TestPostgres.adminURL), poolSize: 2)
        let name = try XCTUnwrap(URLComponents(string: url)?.path.dropFirst()).description
        let dir = try makeTemporaryDirectory()
        var settings = makeSettings(directory: dir)
        settings.databaseURL = url
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = try HappyDeskServer.open(settings: settings, logger: logger)
        try addTestIntegration(to: server)
        try await buildApplication(server).test(.live) { client in
            let headers: HTTPFields = [.authorization: "Bearer \(testIntegrationToken)"]
            let before = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-OUT-1"), headers: headers)
            XCTAssertEqual(before.status, .created, before.text)

            // The database refuses new connections and drops the open ones.
            try admin.readSync { db in
                _ = try db.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
                _ = try db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()", name)
            }
            for n in 0..<3 {
                let during = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-OUT-DOWN-\(n)"), headers: headers)
                XCTAssertEqual(during.status, .serviceUnavailable, during.text)
                XCTAssertEqual(during.headers[.retryAfter], "2")
                XCTAssertTrue(during.errorMessage.contains("database"), during.text)
            }

            try admin.readSync { db in _ = try db.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS true") }
            let after = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-OUT-2"), headers: headers)
            XCTAssertEqual(after.status, .created, after.text)
            let again = try await client.postJSON("/api/v1/closures", closureJSON(ticket: "INC-OUT-1"), headers: headers)
            XCTAssertEqual(again.status, .ok, "the closure acknowledged before the outage is still there: \(again.text)")
        }
        let tickets = try await server.database.read { db in try String.fetchAll(db, sql: "SELECT ticket_id FROM closures ORDER BY id") }
        XCTAssertEqual(tickets, ["INC-OUT-1", "INC-OUT-2"], "nothing half-written during the outage")
        await admin.close()
    }
}

/// Roll-ups stay exact while answers change during folds (PostgreSQL runs writers concurrently; a fold locks
/// the marks it takes, so an answer amended meanwhile is marked again and folded next time).
final class ConcurrentFoldTests: XCTestCase {
    func testAmendmentsDuringFoldsEndInExactRollups() async throws {
        let url = try TestPostgres.requireURL()
        let dir = try makeTemporaryDirectory()
        var settings = makeSettings(directory: dir)
        settings.databaseURL = url
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = try HappyDeskServer.open(settings: settings, logger: logger)
        var tokens: [String] = []
        for n in 0..<40 {
            var closure = Closure(
                ticketID: "INC-FOLD-\(n)", source: "servicenow", kind: .incident, requester: .init(email: "r\(n)@example.com"),
                assignee: .init(id: "a\(n % 3)", name: "Sam"), group: "Desk", service: n.isMultiple(of: 2) ? "VPN" : "Email")
            try closure.validate()
            let result = try await server.intake.ingest(closure)
            tokens.append(String(try XCTUnwrap(result.surveyURL).split(separator: "/").last ?? ""))
        }
        let storage = server.database
        let answers = server.answers
        let all = tokens
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for round in 0..<400 {
                    let token = all[round % all.count]
                    let factors = round % 11 <= 6 && round.isMultiple(of: 3) ? ["slow"] : []
                    _ = try await answers.submit(token: token, answer: SurveyAnswer(score: round % 11, factors: factors))
                }
            }
            group.addTask {
                for _ in 0..<60 {
                    _ = try await storage.write { db in try Rollups.fold(db, limit: 7) }
                }
            }
            try await group.waitForAll()
        }
        try Rollups.foldAll(storage)
        try storage.readSync { db in
            let (stored, recount) = try storedAndRecountedDailyRollups(db)
            XCTAssertFalse(stored.isEmpty)
            XCTAssertEqual(stored, recount)
        }
    }
}
