import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Synchronization
import XCTest

@testable import HappyDesk

/// The in-process fan-out: ordering, bounded buffers, shutdown.
final class StreamHubTests: XCTestCase {
    let manager = AuthenticatedUser(id: 1, name: "M", email: "m@example.com", role: .manager)

    func event(_ id: Int64, assignee: String = "a1") -> StoredEvent {
        StoredEvent(
            id: id, type: "response.created", responseID: id, invitationID: id, assigneeID: assignee,
            payload: #"{"assignee_id":"\#(assignee)","score":9}"#, createdAt: Date()
        )
    }

    func testASlowConsumerIsCutOffWithAReasonWhileOthersKeepReceiving() async throws {
        let hub = StreamHub(bufferLimit: 4)
        let slow = hub.subscribe(manager)
        let fast = hub.subscribe(manager)
        var fastSeen: [Int64] = []
        for id in Int64(1)...10 {
            await hub.publish([event(id)])
            for await event in fast.events {
                fastSeen.append(event.id)
                break
            }
        }
        XCTAssertEqual(fastSeen, Array(1...10))
        var slowSeen: [Int64] = []
        for await event in slow.events { slowSeen.append(event.id) }
        XCTAssertEqual(slowSeen, [1, 2, 3, 4], "the buffered events, then the end")
        XCTAssertEqual(slow.endReason, .overflow(lastDelivered: 4))
        XCTAssertNil(fast.endReason)
        XCTAssertEqual(hub.subscriberCount, 1)
        fast.cancel()
    }

    func testEventsCommittedConcurrentlyAreReleasedInIdOrder() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        // Events written straight to the log (as three concurrent transactions would), published out of order.
        let stored = try await server.database.write { db in
            try (1...3).map { index in
                try EventLog.append(
                    db, type: "kudos.created", responseID: nil, invitationID: nil, assigneeID: "a1",
                    payload: ["assignee_id": "a1", "n": "\(index)"], at: Date())
            }
        }
        let subscription = server.hub.subscribe(manager)
        await server.hub.publish([stored[2]])
        await server.hub.publish([stored[0]])
        // The gap (id 2) is filled from the database after a short wait even if its publisher never calls.
        var seen: [Int64] = []
        for await event in subscription.events {
            seen.append(event.id)
            if seen.count == 3 { break }
        }
        XCTAssertEqual(seen, stored.map(\.id))
        await server.hub.publish([stored[1]])
        subscription.cancel()
    }

    func testAnalystsOnlyReceiveTheirOwnEvents() async throws {
        let hub = StreamHub()
        let sam = hub.subscribe(AuthenticatedUser(id: 2, name: "Sam", email: "sam@example.com", role: .analyst, assigneeID: "a1"))
        await hub.publish([event(1, assignee: "a2"), event(2, assignee: "a1")])
        for await event in sam.events {
            XCTAssertEqual(event.id, 2)
            break
        }
        sam.cancel()
    }

    func testShutdownClosesStreamSocketsCleanly() async throws {
        let server = try makeServer(directory: try makeTemporaryDirectory())
        let people = try await StreamPeople.add(to: server)
        let holder = Mutex<StreamProbe?>(nil)
        try await buildApplication(server).test(.live) { client in
            let probe = try await StreamProbe.connect(port: try XCTUnwrap(client.port), token: people.sam)
            holder.withLock { $0 = probe }
        }
        // The test harness stopped the server gracefully: the socket got a normal close, not a reset.
        let close = try await holder.withLock { $0 }?.finished()
        XCTAssertEqual(close?.closeCode, .normalClosure)
    }
}
