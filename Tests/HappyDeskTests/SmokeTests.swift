import Hummingbird
import HummingbirdTesting
import XCTest

@testable import HappyDesk

final class SmokeTests: XCTestCase {
    func testHealthzAnswersOnceTheDatabaseIsMigrated() async throws {
        let dir = try makeTemporaryDirectory()
        let server = try makeServer(directory: dir)
        try await buildApplication(server).test(.router) { client in
            let response = try await client.execute(uri: "/healthz", method: .get)
            XCTAssertEqual(response.status, .ok)
            XCTAssertEqual(response.json["status"] as? String, "ok")
        }
    }
}
