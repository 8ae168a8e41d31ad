import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// Leads and owners over a live server (real sockets) on both backends: the dashboard, `/api/v1/metrics`
/// (JSON and CSV), the event replay, the WebSocket stream, threads and kudos show only their groups or
/// services; anything outside is refused. Expected figures are computed here from what the test posted.
final class ScopeTests: XCTestCase {
    /// One ticket of the demo-like data: its group, service and the score its requester gave.
    struct Ticket {
        var group: String
        var service: String
        var score: Int
    }

    /// Several groups and services, spelled as the ITSM sends them; the lead is set up as "network" and the
    /// owner as "vpn" to show that matching ignores case.
    static let tickets: [Ticket] = [
        Ticket(group: "Network", service: "VPN", score: 10),
        Ticket(group: "Network", service: "VPN", score: 9),
        Ticket(group: "Network", service: "Email", score: 3),
        Ticket(group: "Network", service: "Printing", score: 8),
        Ticket(group: "NETWORK", service: "Email", score: 10),
        Ticket(group: "Service Desk", service: "VPN", score: 0),
        Ticket(group: "Service Desk", service: "VPN", score: 6),
        Ticket(group: "Service Desk", service: "Email", score: 10),
        Ticket(group: "Service Desk", service: "Printing", score: 9),
        Ticket(group: "Field", service: "vpn", score: 10),
        Ticket(group: "Field", service: "Printing", score: 2),
        Ticket(group: "Field", service: "Email", score: 7),
    ]

    struct Expected {
        var responses: Int
        var happiness: Double
    }

    static func expected(_ keep: (Ticket) -> Bool) -> Expected {
        let chosen = tickets.filter(keep)
        let positive = chosen.filter { $0.score >= 9 }.count
        let negative = chosen.filter { $0.score <= 6 }.count
        return Expected(responses: chosen.count, happiness: Double(positive - negative) * 100 / Double(chosen.count))
    }

    static func inNetwork(_ ticket: Ticket) -> Bool { ticket.group.lowercased() == "network" }
    static func inVPN(_ ticket: Ticket) -> Bool { ticket.service.lowercased() == "vpn" }

    struct People {
        var lead: String
        var owner: String
        var manager: String
        var analyst: String
    }

    static func closure(ticket: String, group: String, service: String) -> String {
        """
        {"ticket_id":"\(ticket)","source":"servicenow","kind":"incident",
         "requester":{"email":"ann@example.com","name":"Ann Example","locale":"en"},
         "assignee":{"id":"analyst-7","email":"sam@example.com","name":"Sam Analyst"},
         "group":"\(group)","service":"\(service)","closed_at":"2026-11-20T14:05:00Z"}
        """
    }

    func makeServerWithPeople() async throws -> (HappyDeskServer, People) {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let (_, lead) = try await server.users.add(name: "Lee Lead", email: "lee@example.com", role: .lead, groups: ["network"])
        let (_, owner) = try await server.users.add(name: "Olu Owner", email: "olu@example.com", role: .owner, services: [" vpn ", "VPN"])
        let (_, manager) = try await server.users.add(name: "Mia Manager", email: "mia@example.com", role: .manager)
        let (_, analyst) = try await server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst, assigneeID: "analyst-7")
        return (server, People(lead: lead, owner: owner, manager: manager, analyst: analyst))
    }

    /// Posts and answers every ticket; returns the response ids in ticket order.
    static func seed(_ client: some TestClientProtocol, prefix: String = "T") async throws -> [Int64] {
        var ids: [Int64] = []
        for (index, ticket) in Self.tickets.enumerated() {
            let token = try await Self.invite(client, ticket: "\(prefix)\(index)", group: ticket.group, service: ticket.service)
            ids.append(try await client.answer(token, score: ticket.score))
        }
        return ids
    }

    static func invite(_ client: some TestClientProtocol, ticket: String, group: String, service: String) async throws -> String {
        let response = try await client.postJSON(
            "/api/v1/closures", Self.closure(ticket: ticket, group: group, service: service),
            headers: [.authorization: "Bearer \(testIntegrationToken)"])
        XCTAssertEqual(response.status, .created, response.text)
        let url = try XCTUnwrap(response.json["survey_url"] as? String)
        return String(url.split(separator: "/").last ?? "")
    }

    static func figures(_ response: TestResponse) -> (responses: Int?, happiness: Double?) {
        let figures = (response.json["overall"] as? [String: Any])?["figures"] as? [String: Any]
        return (figures?["responses"] as? Int, figures?["happiness"] as? Double)
    }

    static func rows(_ response: TestResponse) -> [String: Int] {
        let rows = ((response.json["breakdown"] as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
        var result: [String: Int] = [:]
        for row in rows {
            result[row["value"] as? String ?? "?"] = (row["figures"] as? [String: Any])?["responses"] as? Int
        }
        return result
    }

    func testDashboardAndMetricsShowOnlyTheScope() async throws {
        let (server, people) = try await makeServerWithPeople()
        try await buildApplication(server).test(.live) { client in
            _ = try await Self.seed(client)
            let network = Self.expected(Self.inNetwork)
            let vpn = Self.expected(Self.inVPN)
            let all = Self.expected { _ in true }

            // The lead: totals equal Network's tickets (both spellings), and a breakdown by group shows only it.
            let lead = try await client.get("/api/v1/metrics?min=1&by=group", token: people.lead)
            XCTAssertEqual(lead.status, .ok, lead.text)
            XCTAssertEqual(Self.figures(lead).responses, network.responses)
            XCTAssertEqual(try XCTUnwrap(Self.figures(lead).happiness), network.happiness, accuracy: 0.001)
            XCTAssertEqual(Set(Self.rows(lead).keys.map { $0.lowercased() }), ["network"], lead.text)
            XCTAssertEqual(Self.rows(lead).values.reduce(0, +), network.responses, "the two spellings are two rows of one scope")
            // Every answered invitation counts as sent: the response rate's denominator is the scope's too.
            XCTAssertEqual((lead.json["overall"] as? [String: Any])?["invitations_sent"] as? Int, network.responses)
            XCTAssertEqual((lead.json["range"] as? [String: Any])?["groups"] as? [String], ["network"])
            let leadByService = try await client.get("/api/v1/metrics?min=1&by=service", token: people.lead)
            var expectedServices: [String: Int] = [:]
            for ticket in Self.tickets where Self.inNetwork(ticket) { expectedServices[ticket.service, default: 0] += 1 }
            XCTAssertEqual(Self.rows(leadByService), expectedServices, "Network's answers split by service, not every group's")

            // The owner: VPN (any case), split across groups.
            let owner = try await client.get("/api/v1/metrics?min=1&by=group", token: people.owner)
            XCTAssertEqual(owner.status, .ok, owner.text)
            XCTAssertEqual(Self.figures(owner).responses, vpn.responses)
            XCTAssertEqual(try XCTUnwrap(Self.figures(owner).happiness), vpn.happiness, accuracy: 0.001)
            var expectedGroups: [String: Int] = [:]
            for ticket in Self.tickets where Self.inVPN(ticket) { expectedGroups[ticket.group, default: 0] += 1 }
            XCTAssertEqual(Self.rows(owner), expectedGroups)

            // A filter inside the scope narrows it; the manager sees everything and may filter too.
            let leadVPN = try await client.get("/api/v1/metrics?min=1&service=VPN", token: people.lead)
            XCTAssertEqual(Self.figures(leadVPN).responses, Self.expected { Self.inNetwork($0) && Self.inVPN($0) }.responses)
            let leadExplicit = try await client.get("/api/v1/metrics?min=1&group=NETWORK", token: people.lead)
            XCTAssertEqual(Self.figures(leadExplicit).responses, network.responses)
            let manager = try await client.get("/api/v1/metrics?min=1", token: people.manager)
            XCTAssertEqual(Self.figures(manager).responses, all.responses)
            XCTAssertNil((manager.json["range"] as? [String: Any])?["groups"])
            let managerNetwork = try await client.get("/api/v1/metrics?min=1&group=network", token: people.manager)
            XCTAssertEqual(Self.figures(managerNetwork).responses, network.responses)

            // CSV: the overall row counts the scope, and no other group's name appears.
            let csv = try await client.get("/api/v1/metrics?min=1&by=group&format=csv", token: people.lead)
            XCTAssertEqual(csv.status, .ok)
            let overallLine = try XCTUnwrap(csv.text.split(whereSeparator: \.isNewline).first { $0.hasPrefix("overall,") }, csv.text)
            XCTAssertEqual(overallLine.split(separator: ",", omittingEmptySubsequences: false)[4], "\(network.responses)", String(overallLine))
            XCTAssertFalse(csv.text.contains("Service Desk"), csv.text)
            XCTAssertFalse(csv.text.contains("Field"), csv.text)

            // The HTML page works for a lead and names the scope.
            let page = try await client.get("/dashboard?min=1&by=group", token: people.lead)
            XCTAssertEqual(page.status, .ok)
            XCTAssertTrue(page.text.contains("groups: network"), page.text)
            XCTAssertFalse(page.text.contains("Service Desk"))

            // Outside the scope: 403 with a message, never the data.
            for (token, query) in [
                (people.lead, "group=Service%20Desk"), (people.lead, "group=Field&format=csv"), (people.owner, "service=Email"),
                (people.owner, "service=Printing&by=group"),
            ] {
                let refused = try await client.get("/api/v1/metrics?\(query)", token: token)
                XCTAssertEqual(refused.status, .forbidden, query)
                XCTAssertTrue(refused.errorMessage.contains("outside your"), refused.errorMessage)
                XCTAssertNil(refused.json["overall"])
            }
            let refusedPage = try await client.get("/dashboard?group=Field", token: people.lead)
            XCTAssertEqual(refusedPage.status, .forbidden)
            XCTAssertTrue(refusedPage.text.contains("outside your groups"), refusedPage.text)
            let analyst = try await client.get("/api/v1/metrics", token: people.analyst)
            XCTAssertEqual(analyst.status, .forbidden)
        }
    }

    func testReplayThreadsAndKudosStayInScope() async throws {
        let (server, people) = try await makeServerWithPeople()
        try await buildApplication(server).test(.live) { client in
            let ids = try await Self.seed(client)
            let networkIDs = Set(zip(Self.tickets, ids).filter { Self.inNetwork($0.0) }.map(\.1))
            let vpnIDs = Set(zip(Self.tickets, ids).filter { Self.inVPN($0.0) }.map(\.1))
            let inside = try XCTUnwrap(networkIDs.first)
            let outside = try XCTUnwrap(Set(ids).subtracting(networkIDs).first)
            let ownerOutside = try XCTUnwrap(Set(ids).subtracting(vpnIDs).first)

            // The replay of /api/v1/events: exactly the scope's responses.
            let leadEvents = try await client.get("/api/v1/events?after=0", token: people.lead)
            XCTAssertEqual(leadEvents.status, .ok)
            let leadSeen = Set(((leadEvents.json["events"] as? [[String: Any]]) ?? []).compactMap { ($0["response_id"] as? NSNumber)?.int64Value })
            XCTAssertEqual(leadSeen, networkIDs)
            let ownerEvents = try await client.get("/api/v1/events?after=0", token: people.owner)
            let ownerSeen = Set(((ownerEvents.json["events"] as? [[String: Any]]) ?? []).compactMap { ($0["response_id"] as? NSNumber)?.int64Value })
            XCTAssertEqual(ownerSeen, vpnIDs)

            // Threads: in scope 200, outside 403, unknown 404.
            let thread = try await client.get("/api/v1/responses/\(inside)/messages", token: people.lead)
            XCTAssertEqual(thread.status, .ok)
            let foreign = try await client.get("/api/v1/responses/\(outside)/messages", token: people.lead)
            XCTAssertEqual(foreign.status, .forbidden)
            XCTAssertTrue(foreign.errorMessage.contains("outside your groups"), foreign.errorMessage)
            XCTAssertFalse(foreign.text.contains("Ann"))
            let unknown = try await client.get("/api/v1/responses/999999/messages", token: people.lead)
            XCTAssertEqual(unknown.status, .notFound)

            // Kudos: within scope accepted, outside refused; an analyst still may not; a manager anywhere.
            let given = try await client.post("/api/v1/responses/\(inside)/kudos", json: #"{"text":"Nice work"}"#, token: people.lead)
            XCTAssertEqual(given.status, .created, given.text)
            let refused = try await client.post("/api/v1/responses/\(outside)/kudos", json: #"{"text":"Nice work"}"#, token: people.lead)
            XCTAssertEqual(refused.status, .forbidden)
            let ownerGiven = try await client.post(
                "/api/v1/responses/\(try XCTUnwrap(vpnIDs.first))/kudos", json: #"{"text":"Thanks"}"#, token: people.owner)
            XCTAssertEqual(ownerGiven.status, .created, ownerGiven.text)
            let ownerRefused = try await client.post("/api/v1/responses/\(ownerOutside)/kudos", json: #"{"text":"Thanks"}"#, token: people.owner)
            XCTAssertEqual(ownerRefused.status, .forbidden)
            let analyst = try await client.post("/api/v1/responses/\(inside)/kudos", json: #"{"text":"Me"}"#, token: people.analyst)
            XCTAssertEqual(analyst.status, .forbidden)
            let manager = try await client.post("/api/v1/responses/\(outside)/kudos", json: #"{"text":"Great"}"#, token: people.manager)
            XCTAssertEqual(manager.status, .created)
            // Replying out of scope is refused too.
            let reply = try await client.post("/api/v1/responses/\(outside)/replies", json: #"{"text":"Hello"}"#, token: people.lead)
            XCTAssertEqual(reply.status, .forbidden)
        }
    }

    func testStreamDeliversOnlyInScopeEvents() async throws {
        let (server, people) = try await makeServerWithPeople()
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let lead = try await StreamProbe.connect(port: port, token: people.lead)
            let owner = try await StreamProbe.connect(port: port, token: people.owner)
            let manager = try await StreamProbe.connect(port: port, token: people.manager)
            let ids = try await Self.seed(client, prefix: "S")
            let networkIDs = Set(zip(Self.tickets, ids).filter { Self.inNetwork($0.0) }.map(\.1))
            let vpnIDs = Set(zip(Self.tickets, ids).filter { Self.inVPN($0.0) }.map(\.1))
            // The manager's socket gets every event: once it has them all, the others have had theirs.
            _ = try await manager.waitForEvents(ids.count)
            let leadEvents = try await lead.waitForEvents(networkIDs.count)
            let ownerEvents = try await owner.waitForEvents(vpnIDs.count)
            // A kudos out of the lead's scope (by the manager) reaches the manager, not the lead.
            let outside = try XCTUnwrap(Set(ids).subtracting(networkIDs).first)
            let kudos = try await client.post("/api/v1/responses/\(outside)/kudos", json: #"{"text":"Great"}"#, token: people.manager)
            XCTAssertEqual(kudos.status, .created)
            try await manager.waitFor { ($0["type"] as? String) == "kudos.created" }
            // And one inside it, through the lead's own socket.
            let inside = try XCTUnwrap(networkIDs.min())
            let ack = try await lead.request(["type": "kudos", "response_id": inside, "text": "Well done"])
            XCTAssertEqual(ack["type"] as? String, "ok", "\(ack)")
            try await lead.waitFor { ($0["type"] as? String) == "kudos.created" && ($0["response_id"] as? NSNumber)?.int64Value == inside }
            let refused = try await lead.request(["type": "kudos", "response_id": outside, "text": "Sneaky"])
            XCTAssertEqual(refused["type"] as? String, "error", "\(refused)")
            XCTAssertEqual(refused["status"] as? Int, 403, "\(refused)")

            func responseIDs(_ events: [[String: Any]]) -> Set<Int64> {
                Set(events.compactMap { ($0["response_id"] as? NSNumber)?.int64Value })
            }
            XCTAssertEqual(responseIDs(leadEvents.filter { ($0["type"] as? String) == "response.created" }), networkIDs)
            XCTAssertEqual(responseIDs(ownerEvents.filter { ($0["type"] as? String) == "response.created" }), vpnIDs)
            XCTAssertTrue(responseIDs(lead.events).isSubset(of: networkIDs), "\(lead.events)")
            XCTAssertTrue(responseIDs(owner.events).isSubset(of: vpnIDs), "\(owner.events)")
            for socket in [lead, owner, manager] { try await socket.close() }
        }
    }

    func testChangingAScopeClosesTheOpenStream() async throws {
        let (server, people) = try await makeServerWithPeople()
        try await buildApplication(server).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let lead = try await StreamProbe.connect(port: port, token: people.lead)
            let updated = try await server.users.update(.email("LEE@example.com"), groups: ["Field"])
            XCTAssertEqual(updated?.groups, ["Field"])
            let close = try await lead.finished()
            XCTAssertEqual(close?.closeCode, .policyViolation)
            // The same token now reads Field's scope.
            _ = try await Self.seed(client)
            let metrics = try await client.get("/api/v1/metrics?min=1", token: people.lead)
            XCTAssertEqual(Self.figures(metrics).responses, Self.expected { $0.group == "Field" }.responses)
        }
    }

    func testUserStoreValidatesRolesAndScopes() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let users = server.users
        func message(_ body: () async throws -> Void) async -> String {
            do {
                try await body()
                return "no error"
            } catch let error as AppError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        let noGroup = await message { _ = try await users.add(name: "L", email: "l@example.com", role: .lead) }
        XCTAssertTrue(noGroup.contains("a lead needs at least one group"), noGroup)
        let noService = await message { _ = try await users.add(name: "O", email: "o@example.com", role: .owner, services: [" ", ""]) }
        XCTAssertTrue(noService.contains("an owner needs at least one service"), noService)
        let wrongKind = await message { _ = try await users.add(name: "L", email: "l@example.com", role: .lead, groups: ["A"], services: ["V"]) }
        XCTAssertTrue(wrongKind.contains("--services is only for an owner"), wrongKind)
        let analystGroups = await message { _ = try await users.add(name: "A", email: "a@example.com", role: .analyst, groups: ["A"]) }
        XCTAssertTrue(analystGroups.contains("--groups is only for a lead"), analystGroups)
        let control = await message { _ = try await users.add(name: "L", email: "l@example.com", role: .lead, groups: ["Net\twork"]) }
        XCTAssertTrue(control.contains("control character"), control)
        let long = await message {
            _ = try await users.add(name: "L", email: "l@example.com", role: .lead, groups: [String(repeating: "g", count: 201)])
        }
        XCTAssertTrue(long.contains("longer than 200"), long)
        let scopedUsers = try await users.list().filter { $0.role == .lead || $0.role == .owner }
        XCTAssertEqual(scopedUsers.count, 0, "a refused add writes nothing")

        let (lead, _) = try await users.add(
            name: "  Lee Lead ", email: "lee@example.com", role: .lead, groups: [" Network ", "network", "Service Desk"])
        XCTAssertEqual(lead.name, "Lee Lead")
        XCTAssertEqual(lead.groups, ["Network", "Service Desk"], "trimmed, duplicates collapsed ignoring case")
        let listed = try await users.list().first { $0.id == lead.id }
        XCTAssertEqual(listed?.groups, ["Network", "Service Desk"])

        // Update: role change drops the old scope kind and needs the new one.
        let toOwner = await message { _ = try await users.update(.id(lead.id), role: .owner) }
        XCTAssertTrue(toOwner.contains("an owner needs at least one service"), toOwner)
        let owner = try await users.update(.id(lead.id), role: .owner, services: ["VPN"])
        XCTAssertEqual(owner?.role, .owner)
        XCTAssertEqual(owner?.groups, [])
        XCTAssertEqual(owner?.services, ["VPN"])
        let manager = try await users.update(.email("lee@example.com"), name: "Lee Manager", role: .manager)
        XCTAssertEqual(manager?.services, [])
        XCTAssertEqual(manager?.name, "Lee Manager")
        let stray = await message { _ = try await users.update(.email("lee@example.com"), groups: ["A"]) }
        XCTAssertTrue(stray.contains("--groups is only for a lead"), stray)
        let missing = try await users.update(.email("nobody@example.com"), role: .manager)
        XCTAssertNil(missing)
        let (sam, samToken) = try await users.add(name: "Sam", email: "sam@example.com", role: .analyst)
        _ = try await users.update(.id(sam.id), role: .lead, groups: ["Field"])
        let signedIn = try await users.user(token: samToken)
        XCTAssertEqual(signedIn?.role, .lead)
        XCTAssertEqual(signedIn?.groups, ["Field"])
        XCTAssertEqual(signedIn?.scope, .groups(["Field"]))
    }

    func testCLIAddUpdateAndListScopedUsers() throws {
        let settings = makeSettings(directory: try makeTemporaryDirectory())
        let db = databaseArguments(settings)
        func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) { try runHappydesk(arguments) }

        let lead = try run(
            ["users", "add"] + db + [
                "--name", "Lee Lead", "--email", "lee@example.com", "--role", "lead", "--groups", "Service Desk, Network,network",
            ])
        XCTAssertEqual(lead.status, 0, lead.err)
        XCTAssertTrue(lead.out.contains("groups Service Desk, Network"), lead.out)
        let owner = try run(
            ["users", "add"] + db + ["--name", "Olu Owner", "--email", "olu@example.com", "--role", "owner", "--services", "VPN,Email"])
        XCTAssertEqual(owner.status, 0, owner.err)

        for (arguments, expected) in [
            (["--name", "X", "--email", "x@example.com", "--role", "lead"], "a lead needs at least one group"),
            (["--name", "X", "--email", "x@example.com", "--role", "owner", "--services", " , "], "an owner needs at least one service"),
            (["--name", "X", "--email", "x@example.com", "--role", "analyst", "--groups", "Network"], "--groups is only for a lead"),
            (
                ["--name", "X", "--email", "x@example.com", "--role", "lead", "--groups", "Network", "--services", "VPN"],
                "--services is only for an owner"
            ),
            (["--name", "X", "--email", "x@example.com", "--role", "lead", "--groups", String(repeating: "n", count: 201)], "longer than 200"),
            (["--name", "X", "--email", "x@example.com", "--role", "lead", "--groups", "Net\u{7}work"], "control character"),
            (["--name", "X", "--email", "x@example.com", "--role", "boss"], "role must be analyst, manager, admin or integration"),
        ] {
            let bad = try run(["users", "add"] + db + arguments)
            XCTAssertEqual(bad.status, 1, "\(arguments)")
            XCTAssertTrue(bad.err.contains(expected), "\(arguments): \(bad.err)")
            XCTAssertEqual(bad.err.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, "one line: \(bad.err)")
        }

        let updated = try run(["users", "update"] + db + ["--email", "lee@example.com", "--groups", "Field"])
        XCTAssertEqual(updated.status, 0, updated.err)
        XCTAssertTrue(updated.out.contains("updated lead Lee Lead <lee@example.com>"), updated.out)
        let promoted = try run(["users", "update"] + db + ["--email", "olu@example.com", "--role", "manager"])
        XCTAssertEqual(promoted.status, 0, promoted.err)
        for (arguments, expected) in [
            (["--email", "lee@example.com", "--role", "owner"], "an owner needs at least one service"),
            (["--email", "lee@example.com", "--services", "VPN"], "--services is only for an owner"),
            (["--email", "nobody@example.com", "--role", "manager"], "no user with email nobody@example.com"),
            (["--email", "lee@example.com"], "nothing to change"),
            (["--role", "manager"], "give either --email or --id"),
            (["--email", "lee@example.com", "--role", "integration"], "cannot become an integration"),
        ] {
            let bad = try run(["users", "update"] + db + arguments)
            XCTAssertEqual(bad.status, 1, "\(arguments)")
            XCTAssertTrue(bad.err.contains(expected), "\(arguments): \(bad.err)")
        }
        let listed = try run(["users", "list"] + db)
        XCTAssertTrue(listed.out.contains("lead\tactive\tLee Lead <lee@example.com>\tgroups Field"), listed.out)
        XCTAssertTrue(listed.out.contains("manager\tactive\tOlu Owner <olu@example.com>\n"), listed.out)
    }

    /// 0011 rebuilds `users` on SQLite: a database from the release before keeps its users' ids, sessions and the
    /// kudos and messages that name them, and the rebuilt table takes the new roles.
    func testUpgradingKeepsUsersSessionsAndTheirForeignKeys() async throws {
        try sqliteOnly("it upgrades a SQLite file migrated by the release before 0011; PostgreSQL changes its CHECK in place")
        let dir = try makeTemporaryDirectory()
        let before = dir.appendingPathComponent("migrations-before")
        try FileManager.default.createDirectory(at: before, withIntermediateDirectories: true)
        let all = repositoryRoot.appendingPathComponent("Migrations")
        for file in try FileManager.default.contentsOfDirectory(atPath: all.path) where file.hasSuffix(".sql") && file < "0011" {
            try FileManager.default.copyItem(at: all.appendingPathComponent(file), to: before.appendingPathComponent(file))
        }
        let path = dir.appendingPathComponent("happydesk.sqlite").path
        do {
            let database = try AppDatabase.open(path: path)
            _ = try AppDatabase.migrate(database, directory: before)
            try await database.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO users (id, name, email, role, token_hash, created_at) VALUES
                            (7, 'Mia Manager', 'mia@example.com', 'manager', X'01', '2026-11-01 09:00:00.000'),
                            (9, 'ServiceNow', NULL, 'integration', X'02', '2026-11-01 09:00:00.000');
                        INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at)
                            VALUES (X'aa', 7, '2026-11-01 09:00:00.000', '2027-11-01 09:00:00.000', '2026-11-01 09:00:00.000');
                        INSERT INTO closures (id, source, ticket_id, kind, requester_email, group_name, service, closed_at, received_at)
                            VALUES (1, 'servicenow', 'T1', 'incident', 'ann@example.com', 'Network', 'VPN', '2026-11-01', '2026-11-01');
                        INSERT INTO invitations (id, closure_id, survey, kind, token_hash, locale, requester_email, group_name, service,
                            status, created_at, expires_at)
                            VALUES (1, 1, 'incident', 'incident', zeroblob(32), 'en', 'ann@example.com', 'Network', 'VPN', 'answered',
                                '2026-11-01', '2027-01-01');
                        INSERT INTO responses (id, invitation_id, score, first_answered_at, last_changed_at)
                            VALUES (1, 1, 10, '2026-11-01 10:00:00.000', '2026-11-01 10:00:00.000');
                        INSERT INTO kudos (response_id, from_user_id, from_name, text, created_at)
                            VALUES (1, 7, 'Mia Manager', 'Great', '2026-11-01 11:00:00.000');
                        """)
            }
        }
        let database = try AppDatabase.open(path: path)
        let applied = try AppDatabase.migrate(database, directory: all)
        XCTAssertTrue(applied.contains { $0.hasPrefix("0011") }, "\(applied)")
        try await database.read { db in
            XCTAssertEqual(try Int.fetchAll(db, sql: "SELECT id FROM users ORDER BY id"), [7, 9])
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT user_id FROM sessions"), 7)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT from_user_id FROM kudos"), 7)
            XCTAssertEqual(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count, 0)
            XCTAssertNotNil(try Row.fetchOne(db, sql: "SELECT * FROM sqlite_master WHERE name = 'users_assignee'"))
        }
        let users = UserStore(writer: SQLiteStorage(pool: database, path: path))
        let (lead, _) = try await users.add(name: "Lee Lead", email: "lee@example.com", role: .lead, groups: ["Network"])
        XCTAssertEqual(lead.id, 10)
        let promoted = try await users.update(.id(7), role: .owner, services: ["VPN"])
        XCTAssertEqual(promoted?.services, ["VPN"])
        let sessions = try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions") }
        XCTAssertEqual(sessions, 0, "a change of role ends the user's sessions")
    }
}
