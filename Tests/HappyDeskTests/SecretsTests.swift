import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import XCTest

@testable import HappyDesk

/// Every log line, at any level, as text: message and all metadata (the handler's and the call's).
final class CapturedLog: @unchecked Sendable {
    // @unchecked: `lines` is only touched while `lock` is held.
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    /// A logger at `.trace` writing here.
    func logger() -> Logger {
        var logger = Logger(label: "captured") { _ in CapturingLogHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLog
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.append("\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}

/// Item 8 of issue 9: the key file, the binding of sealed tokens, TLS with AUTH, and no secret in a log line or stored reply.
final class SecretsTests: XCTestCase {
    // MARK: key file

    func testAKeyFileThatIsADirectoryStopsStartupWithItsNameAndIsLeftAlone() throws {
        let dir = try makeTemporaryDirectory()
        let keyFile = dir.appendingPathComponent("secret.key")
        try FileManager.default.createDirectory(at: keyFile, withIntermediateDirectories: false)
        try Data("keep me".utf8).write(to: keyFile.appendingPathComponent("inside"))
        var settings = makeSettings(directory: dir)
        settings.secretKeyFile = keyFile.path

        XCTAssertThrowsError(try HappyDeskServer.open(settings: settings, logger: Logger(label: "test"))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(keyFile.path), message)
            XCTAssertTrue(message.contains("is a directory"), message)
            XCTAssertFalse(message.contains("\n"), "one line")
        }
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: keyFile.path, isDirectory: &isDirectory) && isDirectory.boolValue)
        XCTAssertEqual(try Data(contentsOf: keyFile.appendingPathComponent("inside")), Data("keep me".utf8))
    }

    func testAKeyFileOfTheWrongSizeOrNotBase64StopsStartupAndIsNeverOverwritten() throws {
        let dir = try makeTemporaryDirectory()
        let keyFile = dir.appendingPathComponent("secret.key")
        for content in [Data(repeating: 7, count: 31), Data(), Data("this is not base64 at all, and not 32 bytes!!\n".utf8)] {
            try content.write(to: keyFile)
            XCTAssertThrowsError(try TokenVault.load(base64: nil, keyFile: keyFile.path)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(keyFile.path) && message.contains("32 bytes"), message)
                XCTAssertTrue(message.contains("never replaced"), message)
            }
            XCTAssertEqual(try Data(contentsOf: keyFile), content, "the file is untouched")
        }
    }

    func testAnUnreadableKeyFileStopsStartupAndIsNeverOverwritten() throws {
        let dir = try makeTemporaryDirectory()
        if geteuid() == 0 {
            // root reads a mode-000 file anyway (CI runs as root); a symlink loop cannot be read by anyone.
            let keyFile = dir.appendingPathComponent("secret.key")
            try FileManager.default.createSymbolicLink(atPath: keyFile.path, withDestinationPath: "secret.key")
            XCTAssertThrowsError(try TokenVault.load(base64: nil, keyFile: keyFile.path)) { error in
                XCTAssertTrue("\(error)".contains(keyFile.path), "\(error)")
            }
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: keyFile.path), "secret.key", "left alone")
            return
        }
        let keyFile = dir.appendingPathComponent("secret.key")
        let original = Data(repeating: 42, count: 32)
        try original.write(to: keyFile)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: keyFile.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile.path) }

        XCTAssertThrowsError(try TokenVault.load(base64: nil, keyFile: keyFile.path)) { error in
            XCTAssertTrue("\(error)".contains("\(keyFile.path) cannot be read"), "\(error)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile.path)
        XCTAssertEqual(try Data(contentsOf: keyFile), original)
    }

    func testANewKeyFileHasMode0600AndTheNextStartUsesTheSameKey() throws {
        let dir = try makeTemporaryDirectory()
        let keyFile = dir.appendingPathComponent("nested/secret.key").path
        let first = try TokenVault.load(base64: nil, keyFile: keyFile)

        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual((attributes[.size] as? NSNumber)?.intValue, 32)
        let token = SurveyToken.generate()
        let sealed = try first.seal(token, invitationID: 1)
        let second = try TokenVault.load(base64: nil, keyFile: keyFile)
        XCTAssertEqual(try second.open(sealed, invitationID: 1), token)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("nested").path)
        XCTAssertEqual(leftovers, ["secret.key"], "no temporary file left behind")
    }

    func testProcessesStartingAtOnceAgreeOnOneKey() throws {
        let dir = try makeTemporaryDirectory()
        let keyFile = dir.appendingPathComponent("secret.key").path
        let results = Mutexed<[Data]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if let vault = try? TokenVault.load(base64: nil, keyFile: keyFile) {
                results.update { $0.append(vault.key.withUnsafeBytes { Data($0) }) }
            }
        }
        let keys = results.value
        XCTAssertEqual(keys.count, 16, "every start succeeded")
        XCTAssertEqual(Set(keys).count, 1, "one key for all")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: keyFile)), keys.first)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["secret.key"])
    }

    // MARK: sealed tokens bound to their invitation

    func testASealedTokenCopiedToAnotherInvitationsRowIsNeverSent() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir)
        let victim = try await harness.invite(ticket: "INC-VICTIM", email: "ann@example.com")
        let attacker = try await harness.invite(ticket: "INC-ATTACKER", email: "mallory@example.com")
        try await harness.server.database.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET sealed_token = (SELECT sealed_token FROM deliveries WHERE invitation_id = ?)
                    WHERE invitation_id = ?
                    """,
                arguments: [victim.id, attacker.id]
            )
        }

        try await harness.deliverAll()

        let rows = try await harness.deliveries()
        let attackerRow = try XCTUnwrap(rows.first { ($0["invitation_id"] as Int64) == attacker.id })
        XCTAssertEqual(attackerRow["status"], "dead")
        XCTAssertTrue((attackerRow["last_error"] as String? ?? "").contains("cannot be opened"), "\(attackerRow)")
        let files = try FileManager.default.contentsOfDirectory(atPath: harness.server.settings.outboxDirectory)
        XCTAssertEqual(files, ["invitation-\(victim.id).survey@happydesk.test.eml"], "only the victim's own message")
        let victimMail = try String(contentsOfFile: harness.server.settings.outboxDirectory + "/" + files[0], encoding: .utf8)
        XCTAssertTrue(victimMail.contains(victim.url) && victimMail.contains("ann@example.com") && !victimMail.contains("mallory"))
    }

    func testABoxSealedForOneInvitationDoesNotOpenForAnother() throws {
        let vault = TokenVault(key: SymmetricKey(size: .bits256))
        let token = SurveyToken.generate()
        let sealed = try vault.seal(token, invitationID: 7)
        XCTAssertEqual(try vault.open(sealed, invitationID: 7), token)
        XCTAssertThrowsError(try vault.open(sealed, invitationID: 8))
        XCTAssertThrowsError(try vault.open(sealed.dropFirst(4), invitationID: 8), "stripping the version prefix does not unbind it")
    }

    func testRowsSealedBeforeBindingAreStillDeliveredAndAreReboundToTheirInvitation() async throws {
        let dir = try makeTemporaryDirectory()
        let harness = try DeliveryHarness(directory: dir)
        let old = try await harness.invite(ticket: "INC-OLD")
        let other = try await harness.invite(ticket: "INC-OTHER")
        // What the previous version stored: AES-GCM of the token without authenticated data or prefix.
        let oldToken = try XCTUnwrap(old.url.split(separator: "/").last.map(String.init))
        let legacy = try XCTUnwrap(try AES.GCM.seal(Data(oldToken.utf8), using: harness.server.vault.key).combined)
        try await harness.server.database.write { db in
            // The old invitation's own legacy box, and the same box moved onto another invitation.
            try db.execute(sql: "UPDATE deliveries SET sealed_token = ? WHERE invitation_id IN (?, ?)", arguments: [legacy, old.id, other.id])
        }

        await harness.dispatcher.rebindLegacyTokens()
        try await harness.deliverAll()

        let rows = try await harness.deliveries()
        let oldRow = try XCTUnwrap(rows.first { ($0["invitation_id"] as Int64) == old.id })
        XCTAssertEqual(oldRow["status"], "sent")
        XCTAssertTrue((oldRow["sealed_token"] as Data).starts(with: Data("hdv2".utf8)), "rewritten as a bound box")
        let mail = try String(
            contentsOfFile: harness.server.settings.outboxDirectory + "/invitation-\(old.id).survey@happydesk.test.eml", encoding: .utf8)
        XCTAssertTrue(mail.contains(old.url))
        let otherRow = try XCTUnwrap(rows.first { ($0["invitation_id"] as Int64) == other.id })
        XCTAssertEqual(otherRow["status"], "dead", "a legacy box on the wrong invitation fails the token-hash check")
    }

    // MARK: TLS with AUTH

    func testAnSMTPUserMakesSTARTTLSRequiredUnlessSetExplicitly() {
        var delivery = DeliverySettings()
        XCTAssertEqual(delivery.smtpTLSMode, "opportunistic")
        delivery.smtpUser = "desk"
        XCTAssertEqual(delivery.smtpTLSMode, "required")
        delivery.smtpTLS = "off"
        XCTAssertEqual(delivery.smtpTLSMode, "off", "an explicit value wins")
    }

    func testWithAnSMTPUserAndNoTLSSettingThePasswordIsNeverSentToAPlainServer() async throws {
        let dir = try makeTemporaryDirectory()
        let smtp = try PythonPeer(script: "smtp_server.py", arguments: ["--auth", "desk:s3cret"], log: dir.appendingPathComponent("mail.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(smtp.port)"
            $0.delivery.smtpTLS = nil
            $0.delivery.smtpUser = "desk"
            $0.delivery.smtpPassword = "s3cret"
            $0.delivery.maxAttempts = 1
        }
        try await harness.invite(ticket: "INC-AUTH-PLAIN")

        try await harness.deliverAll()

        let row = try await harness.deliveries()[0]
        XCTAssertEqual(row["status"], "dead")
        let attempts = try await harness.attempts(row["id"])
        XCTAssertEqual(attempts.map(\.curlCode), [64], "CURLE_USE_SSL_FAILED: \(attempts.map { $0.detail ?? "" })")
        XCTAssertEqual(smtp.records().count, 0)
    }

    // MARK: no token in logs or stored replies

    func testNoSurveyOrAPITokenAppearsInAnyLogLineFromIntakeToDelivery() async throws {
        let dir = try makeTemporaryDirectory()
        let captured = CapturedLog()
        let server = try HappyDeskServer.open(settings: makeDeliverySettings(directory: dir), logger: captured.logger())
        try addTestIntegration(to: server)
        let dispatcher = try OutboxDispatcher(server: server)
        let (_, apiToken) = try await server.users.add(name: "Sam Analyst", email: "sam@example.com", role: .analyst, assigneeID: "analyst-7")
        let (surveyToken, responseID) = try await buildApplication(server).test(.live) { client -> (String, Int64) in
            let surveyToken = try await client.invitation(ticket: "INC-LOG-1")
            try await dispatcher.drain()
            let page = try await client.execute(uri: "/s/\(surveyToken)?score=3", method: .get)
            XCTAssertEqual(page.status, .ok)
            let responseID = try await client.answer(surveyToken, score: 3, comment: "slow")
            let unknown = try await client.execute(uri: "/s/\(String(repeating: "A", count: 43))", method: .get)
            XCTAssertEqual(unknown.status, .notFound)
            let me = try await client.get("/api/v1/me", token: apiToken)
            XCTAssertEqual(me.status, .ok, me.text)
            return (surveyToken, responseID)
        }
        let found = try await server.users.user(token: apiToken)
        let analyst = try XCTUnwrap(found)
        _ = try await server.feedback.reply(by: analyst, responseID: responseID, text: "Sorry, we are on it")
        try await dispatcher.drain()

        let lines = captured.all
        XCTAssertFalse(lines.isEmpty)
        XCTAssertTrue(lines.contains { $0.contains("path=/s/…") }, "request paths are logged, redacted:\n\(lines.joined(separator: "\n"))")
        for line in lines {
            XCTAssertFalse(line.contains(surveyToken), "survey token in: \(line)")
            XCTAssertFalse(line.contains(apiToken), "API token in: \(line)")
            XCTAssertFalse(line.contains(String(repeating: "A", count: 43)), "a guessed token in: \(line)")
        }
        let fileLines = lines.filter { $0.contains("written to the outbox folder") }
        XCTAssertEqual(fileLines.count, 2, "the survey and the reply")
        let surveyFile = "\(server.settings.outboxDirectory)/invitation-1.survey@happydesk.test.eml"
        XCTAssertTrue(fileLines[0].contains("file=\(surveyFile)"), fileLines[0])
        XCTAssertTrue(try String(contentsOfFile: surveyFile, encoding: .utf8).contains("/s/\(surveyToken)"), "the file holds the link")
        let mode = try FileManager.default.attributesOfItem(atPath: surveyFile)[.posixPermissions] as? NSNumber
        XCTAssertEqual(mode?.intValue, 0o600, "only this account can read the link")
    }

    func testRedactedPathsAndText() {
        let token = SurveyToken.generate().value
        XCTAssertEqual(Redaction.path("/s/\(token)"), "/s/…")
        XCTAssertEqual(Redaction.path("/s/\(token)/messages?score=3"), "/s/…/messages")
        XCTAssertEqual(Redaction.path("/s/short"), "/s/…")
        XCTAssertEqual(Redaction.path("/api/v1/responses/12/reply"), "/api/v1/responses/12/reply")
        XCTAssertEqual(Redaction.path("/api/v1/requesters/erin@example.com"), "/api/v1/requesters/…")
        XCTAssertEqual(Redaction.path("/api/v1/requesters/erin%40example.com?dry_run=true"), "/api/v1/requesters/…")
        XCTAssertEqual(Redaction.text("link http://x.test/s/\(token)?score=1 and hd_\(token)."), "link http://x.test/s/…?score=1 and ….")
        XCTAssertEqual(Redaction.text("HTTP 500: boom"), "HTTP 500: boom")
    }

    func testAWebhookReceiversReplyIsStoredWithTheSurveyTokenRedacted() async throws {
        let dir = try makeTemporaryDirectory()
        let listener = try PythonPeer(script: "http_listener.py", log: dir.appendingPathComponent("http.jsonl"))
        let harness = try DeliveryHarness(directory: dir) {
            $0.deliveryWebhookURL = "http://127.0.0.1:\(listener.port)/echo"
            $0.delivery.maxAttempts = 2
        }
        let invitation = try await harness.invite(ticket: "INC-ECHO")
        let token = try XCTUnwrap(invitation.url.split(separator: "/").last.map(String.init))

        try await harness.deliverAll()

        let requests = await listener.waitForRecords(2)
        XCTAssertTrue(requests.first?.string("body").contains(token) == true, "the receiver did get the link")
        let row = try await harness.deliveries()[0]
        XCTAssertEqual(row["status"], "dead")
        let lastError: String = row["last_error"] ?? ""
        XCTAssertTrue(lastError.hasPrefix("HTTP 500: {\"error\": \"cannot post http://surveys.test/s/…, try later\"}"), lastError)
        XCTAssertTrue(lastError.contains("/s/…"), lastError)
        XCTAssertFalse(lastError.contains(token), lastError)
        let attempts = try await harness.attempts(row["id"])
        XCTAssertEqual(attempts.count, 2)
        XCTAssertTrue(attempts.allSatisfy { !($0.detail ?? "").contains(token) && ($0.detail ?? "").contains("…") })
    }
}

/// A value shared between threads of a test.
final class Mutexed<Value>: @unchecked Sendable {
    // @unchecked: `stored` is only touched while `lock` is held.
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func update(_ body: (inout Value) -> Void) {
        lock.lock()
        body(&stored)
        lock.unlock()
    }
}
