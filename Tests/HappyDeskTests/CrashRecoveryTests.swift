import Foundation
import GRDB
import Synchronization
import XCTest

@testable import HappyDesk

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 9, item 11: the real `happydesk` binary killed with SIGKILL in the middle of submission load loses
/// no answer it acknowledged. An answer is acknowledged when the server sent its 200; `WriteBatcher`
/// resumes a caller only after the commit, so every such answer must be in the SQLite file afterwards.
final class CrashRecoveryTests: XCTestCase {
    let secret = "crash-test-secret"

    func testEveryAcknowledgedAnswerSurvivesASigkillDuringSubmissionLoad() throws {
        let directory = try makeTemporaryDirectory()
        let database = directory.appendingPathComponent("happydesk.sqlite").path
        let port = freeTCPPort()
        let environment = [
            "HAPPYDESK_DATABASE": database, "HAPPYDESK_PORT": String(port), "HAPPYDESK_WEBHOOK_SECRET": secret,
            "HAPPYDESK_OUTBOX_DIR": directory.appendingPathComponent("outbox").path, "HAPPYDESK_DELIVERY_DISABLED": "1",
            "HAPPYDESK_LOG_LEVEL": "error", "HAPPYDESK_RATE_LIMIT_CLOSURES": "1000000/sec",
        ]
        XCTAssertEqual(try runHappydesk(["migrate"], environment: environment).status, 0)

        var server = try startHappydesk(["serve"], environment)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        try Self.waitForHealth(port: port)

        // Invitations through the signed intake API, which returns each survey link.
        let signer = SignatureVerifier(secret: secret)
        let count = 400
        var created: [String] = []
        for i in 0..<count {
            let body = closureJSON(ticket: "INC-CRASH-\(i)", email: "r\(i)@example.com")
            let (status, reply) = try RawSocket.request(
                port: port, "POST", "/api/v1/closures", body: body,
                headers: ["Content-Type": "application/json", "X-Happydesk-Signature": signer.sign(body: Data(body.utf8))])
            XCTAssertEqual(status, 201, reply)
            let json = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
            let url = try XCTUnwrap(json?["survey_url"] as? String, reply)
            created.append(String(url.split(separator: "/").last ?? ""))
        }
        let tokens = created

        // Sixteen clients answer every link once; the server is killed once a quarter are acknowledged.
        let acknowledged = Mutex<[String: Int]>([:])
        let next = Mutex(0)
        let killed = Mutex(false)
        let pid = server.processIdentifier
        let workers = DispatchGroup()
        for _ in 0..<16 {
            workers.enter()
            Thread.detachNewThread {
                defer { workers.leave() }
                while true {
                    let index = next.withLock { value -> Int in
                        defer { value += 1 }
                        return value
                    }
                    guard index < tokens.count else { return }
                    let score = index % 11
                    guard
                        let (status, _) = try? RawSocket.request(
                            port: port, "POST", "/s/\(tokens[index])", body: "score=\(score)",
                            headers: ["Content-Type": "application/x-www-form-urlencoded"])
                    else { continue }
                    guard status == 200 || status == 303 else { continue }
                    let total = acknowledged.withLock { acked -> Int in
                        acked[tokens[index]] = score
                        return acked.count
                    }
                    if total >= count / 4 {
                        killed.withLock { done in
                            if !done { kill(pid, SIGKILL) }
                            done = true
                        }
                    }
                }
            }
        }
        workers.wait()
        server.waitUntilExit()
        XCTAssertEqual(server.terminationReason, .uncaughtSignal)
        XCTAssertEqual(server.terminationStatus, SIGKILL)
        let acked = acknowledged.withLock { $0 }
        XCTAssertGreaterThanOrEqual(acked.count, count / 4)
        XCTAssertLessThan(acked.count, count, "the kill came mid-load")

        // Restart on the same file: it serves again, and every acknowledged answer is there with its score.
        server = try startHappydesk(["serve"], environment)
        try Self.waitForHealth(port: port)
        let pool = try DatabasePool(path: database)
        let stored = try pool.read { db -> [Data: Int] in
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT invitations.token_hash AS hash, responses.score AS score FROM responses JOIN invitations ON invitations.id = responses.invitation_id"
            )
            var result: [Data: Int] = [:]
            for row in rows { result[row["hash"]] = row["score"] }
            return result
        }
        var missing: [String] = []
        for (token, score) in acked where stored[SurveyToken.hash(token)] != score {
            missing.append("\(token.prefix(6))…: acknowledged \(score), stored \(stored[SurveyToken.hash(token)].map(String.init) ?? "nothing")")
        }
        XCTAssertEqual(missing, [], "\(missing.count) of \(acked.count) acknowledged answers lost")
        // An acknowledged answer shows on its page after the restart, as the requester would check.
        if let (token, score) = acked.first {
            let (status, page) = try RawSocket.request(port: port, "GET", "/s/\(token)")
            XCTAssertEqual(status, 200)
            XCTAssertTrue(page.contains("name=\"score\" value=\"\(score)\" aria-label=\"\(score)\" checked"), "score \(score) not shown as chosen")
        }
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
    }

    static func waitForHealth(port: Int) throws {
        for _ in 0..<200 {
            if let (status, _) = try? RawSocket.request(port: port, "GET", "/healthz"), status == 200 { return }
            usleep(50_000)
        }
        throw RawSocketError("the server did not answer /healthz on port \(port)")
    }

}
