import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

/// `GET /dashboard` and `GET /api/v1/metrics` over a real database: managers only, same filters, 400 on bad input.
final class DashboardHTTPTests: XCTestCase {
    func makeServerWithData() async throws -> (HappyDeskServer, manager: String, analyst: String) {
        let directory = try makeTemporaryDirectory()
        let server = try makeServer(directory: directory)
        var fixture = DashboardFixture(directory: directory, storage: server.database)
        try fixture.seedNovember()
        let (_, manager) = try await server.users.add(name: "Mia Manager", email: "mia@example.com", role: .manager, assigneeID: nil)
        let (_, analyst) = try await server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst, assigneeID: "a7")
        return (server, manager, analyst)
    }

    func testMetricsNeedAManagerOrAdmin() async throws {
        let (server, _, analyst) = try await makeServerWithData()
        try await buildApplication(server).test(.router) { client in
            let anonymous = try await client.execute(uri: "/api/v1/metrics", method: .get)
            XCTAssertEqual(anonymous.status, .unauthorized)
            // A browser that is signed out is sent to the sign-in page, which comes back here.
            let page = try await client.execute(uri: "/dashboard?period=week", method: .get)
            XCTAssertEqual(page.status, .seeOther)
            XCTAssertEqual(page.headers[.location], "/signin?next=%2Fdashboard%3Fperiod%3Dweek")
            let badToken = try await client.execute(uri: "/dashboard", method: .get, headers: [.authorization: "Bearer hd_nope"])
            XCTAssertEqual(badToken.status, .unauthorized)
            let analystPage = try await client.execute(uri: "/dashboard", method: .get, headers: [.authorization: "Bearer \(analyst)"])
            XCTAssertEqual(analystPage.status, .forbidden)
            let forbidden = try await client.execute(uri: "/api/v1/metrics", method: .get, headers: [.authorization: "Bearer \(analyst)"])
            XCTAssertEqual(forbidden.status, .forbidden)
        }
    }

    func testMetricsServeTheSameFiguresAsTheGenerator() async throws {
        let (server, manager, _) = try await makeServerWithData()
        let auth: HTTPFields = [.authorization: "Bearer \(manager)"]
        try await buildApplication(server).test(.router) { client in
            let response = try await client.execute(
                uri: "/api/v1/metrics?from=2026-11-01&to=2026-11-30&by=service&period=month", method: .get, headers: auth)
            XCTAssertEqual(response.status, .ok)
            let overall = (response.json["overall"] as? [String: Any])?["figures"] as? [String: Any]
            XCTAssertEqual(overall?["responses"] as? Int, 19)
            XCTAssertEqual(try XCTUnwrap(overall?["happiness"] as? Double), 15.789, accuracy: 0.001)
            let rows = ((response.json["breakdown"] as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
            XCTAssertEqual(rows.compactMap { $0["value"] as? String }, ["VPN", "Email", "Printing"])

            let page = try await client.execute(uri: "/dashboard?from=2026-11-01&to=2026-11-30&by=group&kind=incident", method: .get, headers: auth)
            XCTAssertEqual(page.status, .ok)
            XCTAssertTrue(page.headers[.contentType]?.hasPrefix("text/html") ?? false)
            XCTAssertTrue(page.text.contains("Hotspots by group"))
            XCTAssertTrue(page.text.contains("&lt;script&gt;"))

            let csv = try await client.execute(uri: "/api/v1/metrics?from=2026-11-01&to=2026-11-30&format=csv", method: .get, headers: auth)
            XCTAssertEqual(csv.status, .ok)
            XCTAssertTrue(csv.text.hasPrefix("section,period,dimension,value,responses"))
        }
    }

    func testBadFiltersAnswer400() async throws {
        let (server, manager, _) = try await makeServerWithData()
        let auth: HTTPFields = [.authorization: "Bearer \(manager)"]
        try await buildApplication(server).test(.router) { client in
            for query in ["by=planet", "period=year", "from=2026-11-30&to=2026-11-01", "from=yesterday", "kind=problem", "format=xml"] {
                let response = try await client.execute(uri: "/api/v1/metrics?\(query)", method: .get, headers: auth)
                XCTAssertEqual(response.status, .badRequest, query)
                XCTAssertFalse(response.errorMessage.isEmpty, query)
            }
            let page = try await client.execute(uri: "/dashboard?by=planet", method: .get, headers: auth)
            XCTAssertEqual(page.status, .badRequest)
            XCTAssertTrue(page.text.contains("unknown dimension"))
            let empty = try await client.execute(uri: "/dashboard?from=2020-01-01&to=2020-01-31", method: .get, headers: auth)
            XCTAssertEqual(empty.status, .badRequest, "an empty range is bad input, answered with a valid page saying there is no data")
            XCTAssertTrue(empty.text.contains("No data"))
            XCTAssertTrue(empty.text.hasSuffix("</html>\n"))
            let emptyMetrics = try await client.execute(uri: "/api/v1/metrics?from=2020-01-01&to=2020-01-31", method: .get, headers: auth)
            XCTAssertEqual(emptyMetrics.status, .badRequest)
            XCTAssertTrue(emptyMetrics.errorMessage.contains("no responses"), emptyMetrics.errorMessage)
        }
    }
}
