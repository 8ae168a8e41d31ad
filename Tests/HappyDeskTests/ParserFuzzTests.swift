import Foundation
import GRDB
import Hummingbird
import XCTest

@testable import HappyDesk

/// Every parser that sees network bytes, fed thousands of seeded random inputs (invalid UTF-8, combining
/// marks, `%` escapes, huge numbers, very long runs): each answers a value or its typed error, never a trap.
/// A crash here fails the whole run, which is the point; a wrong answer fails with its seed and input.
final class ParserFuzzTests: XCTestCase {
    static let iterations = 4000

    // MARK: hex and signatures

    func testHexDecodingAgreesWithAByteByByteReferenceOnAnyInput() {
        var fuzz = FuzzInput(seed: 1)
        for round in 0..<Self.iterations {
            let text = fuzz.string(fragments: ["0", "9", "a", "f", "A", "F", "g", "00", "ff", "é", "\u{301}"])
            XCTAssertEqual(Data(hex: text), Self.referenceHex(Array(text.utf8)), "round \(round): \(text.debugDescription)")
            var random = [UInt8]()
            for _ in 0..<fuzz.int(0...40) { random.append(UInt8.random(in: 0...255, using: &fuzz)) }
            let data = Data(random)
            XCTAssertEqual(Data(hex: data.hexString), data)
            XCTAssertEqual(Data(hex: data.hexString.uppercased()), data)
        }
    }

    func testHexOfAnEvenByteCountButOddCharacterCountIsRejected() {
        // "é" is two bytes and one character: the shape of the crash in issue 9.
        for text in ["é", "aé", "éa0", "e\u{301}", "\u{301}\u{301}", "🧑‍💻", "0\u{301}"] {
            XCTAssertNil(Data(hex: text), text.debugDescription)
        }
        XCTAssertEqual(Data(hex: "00ff7A"), Data([0x00, 0xFF, 0x7A]))
        XCTAssertEqual(Data(hex: ""), Data())
    }

    func testSignatureHeadersOfAnyBytesAreRejectedWithATypedFailure() {
        let verifier = SignatureVerifier(secret: "s3cret")
        let body = Data(#"{"ticket_id":"A"}"#.utf8)
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let good = verifier.sign(body: body, now: now)
        let hex = String(good.split(separator: "=").last ?? "")
        var fuzz = FuzzInput(seed: 2)
        let fragments = ["t=", "v1=", "t=1795000000", "v1=\(hex)", ",", " ", "=", "t", "v1", "sha256=", hex, String(hex.prefix(63)), "é"]
        for round in 0..<Self.iterations {
            let header =
                fuzz.chance(50)
                ? fuzz.string(fragments: fragments) : String(decoding: fuzz.mutate(Array(good.utf8), fragments: fragments), as: UTF8.self)
            do {
                try verifier.verify(header: header, body: body, now: now)
                // Only a header still carrying the real MAC and timestamp may pass.
                XCTAssertTrue(header.contains(hex) && header.contains("1795000000"), "round \(round): \(header.debugDescription) verified")
            } catch {
                XCTAssertFalse(error.description.isEmpty)
            }
            do {
                try verifier.verifyHub(header: header, body: body)
                XCTFail("round \(round): \(header.debugDescription) verified as a hub signature")
            } catch {
                XCTAssertTrue(error.description.contains("Signature"))
            }
        }
        XCTAssertNoThrow(try verifier.verify(header: good, body: body, now: now))
    }

    func testSignatureTimestampsThatWouldOverflowAreMalformedNotATrap() {
        let verifier = SignatureVerifier(secret: "s3cret")
        let mac = String(repeating: "ab", count: 32)
        for t in [
            "9999999999999999999", "99999999999999999999999", "-9223372036854775808", "9223372036854775807", "+1", "-1", "1e9", "0x10", " ",
            "", "１２３", "1\u{301}", "1795000000.5",
        ] {
            XCTAssertThrowsError(try verifier.verify(header: "t=\(t),v1=\(mac)", body: Data())) { error in
                XCTAssertEqual(error as? SignatureVerifier.Failure, .malformed, t.debugDescription)
            }
        }
        XCTAssertThrowsError(try verifier.verify(header: "t=1,v1=é", body: Data())) { error in
            XCTAssertEqual(error as? SignatureVerifier.Failure, .malformed)
        }
        XCTAssertThrowsError(try verifier.verify(header: "t=000000000001,v1=\(mac)", body: Data())) { error in
            XCTAssertEqual(error as? SignatureVerifier.Failure, .expired)
        }
        let many = (0..<9).map { _ in "v1=\(mac)" }.joined(separator: ",")
        XCTAssertThrowsError(try verifier.verify(header: "t=1795000000,\(many)", body: Data())) { error in
            XCTAssertEqual(error as? SignatureVerifier.Failure, .malformed, "more candidates than rotation needs")
        }
        for header in ["sha256=é", "sha256=\u{301}" + mac, "sha256\u{301}=" + mac, "sha256=" + mac + "é", "SHA256=" + mac] {
            XCTAssertThrowsError(try verifier.verifyHub(header: header, body: Data())) { error in
                XCTAssertEqual(error as? SignatureVerifier.Failure, .hubMalformed, header.debugDescription)
            }
        }
    }

    func testASignatureStillVerifiesWithSpacesRotationAndUppercaseHex() throws {
        let verifier = SignatureVerifier(secret: "s3cret")
        let body = Data("{}".utf8)
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let hex = String(verifier.sign(body: body, now: now).split(separator: "=").last ?? "")
        try verifier.verify(header: "t=1795000000, v1=\(String(repeating: "00", count: 32)), v1=\(hex)", body: body, now: now)
        try verifier.verify(header: " v1=\(hex.uppercased()) ,t=1795000000 ", body: body, now: now)
        try verifier.verifyHub(header: verifier.hubSignature(body: body), body: body)
        XCTAssertThrowsError(try verifier.verifyHub(header: verifier.hubSignature(body: Data("{ }".utf8)), body: body))
    }

    // MARK: forms, cookies, tokens

    func testFormDecodingOfAnyBytesGivesValidTextAndNeverMorePairsThanSeparators() {
        var fuzz = FuzzInput(seed: 3)
        for round in 0..<Self.iterations {
            let bytes = fuzz.bytes(fragments: ["score=", "comment=", "factors=", "&", "=", "%", "%4", "%ZZ", "%E9", "%C3%A9", "+"])
            let pairs = bytes.withUnsafeBufferPointer { FormDecoder.decode(bytes: $0) }
            let separators = bytes.filter { $0 == UInt8(ascii: "&") }.count
            XCTAssertLessThanOrEqual(pairs.count, separators + 1, "round \(round)")
            for (key, value) in pairs {
                // Valid Swift strings by construction; invalid UTF-8 after decoding became U+FFFD.
                XCTAssertEqual(String(decoding: Array(key.utf8), as: UTF8.self), key)
                XCTAssertEqual(String(decoding: Array(value.utf8), as: UTF8.self), value)
                XCTAssertFalse(key.contains("&"))
            }
            _ = try? SurveyAnswer.parse(form: pairs)
        }
    }

    func testFormDecodingRoundTripsWhatABrowserEncodes() {
        var fuzz = FuzzInput(seed: 4)
        for round in 0..<Self.iterations {
            var pairs: [(String, String)] = []
            for _ in 0..<fuzz.int(1...4) { pairs.append((fuzz.string(maxLength: 6), fuzz.string(maxLength: 12))) }
            let body = pairs.map { Self.formEncode($0.0) + "=" + Self.formEncode($0.1) }.joined(separator: "&")
            let decoded = FormDecoder.decode(body)
            XCTAssertEqual(decoded.map(\.0), pairs.map(\.0), "round \(round): \(body)")
            XCTAssertEqual(decoded.map(\.1), pairs.map(\.1), "round \(round): \(body)")
        }
        let malformed = FormDecoder.decode("a=%&b=%4&c=%ZZ&d=+%2B&e=%C3&f=%E9%41")
        XCTAssertEqual(malformed.map(\.1), ["%", "%4", "%ZZ", " +", "\u{FFFD}", "\u{FFFD}A"])
    }

    func testSurveyAnswersFromAnyFormAreAValueOrANamedError() throws {
        let survey = try XCTUnwrap(try SurveyCatalog.load(directory: repositoryRoot.appendingPathComponent("Surveys")).survey(for: .incident))
        var fuzz = FuzzInput(seed: 5)
        let keys = ["score", "factors", "factors[]", "lost_time", "comment", "x"]
        let values = ["0", "10", "11", "-1", " 7 ", "speed", "slow", "unknown", "none", "under_1h", "e\u{301}"]
        for round in 0..<Self.iterations {
            var form: [(String, String)] = []
            for _ in 0..<fuzz.int(0...6) {
                form.append(
                    (
                        fuzz.chance(80) ? fuzz.pick(keys) : fuzz.string(maxLength: 4),
                        fuzz.chance(50) ? fuzz.pick(values) : fuzz.string(fragments: values)
                    ))
            }
            do {
                let answer = try SurveyAnswer.parse(form: form)
                XCTAssertTrue((0...10).contains(answer.score))
                let valid = try answer.validated(for: survey)
                if let comment = valid.comment { XCTAssertTrue(TextLimit.fits(comment, max: SurveyAnswer.maxComment), "round \(round)") }
            } catch {
                XCTAssertTrue(error.status.code >= 400 && error.status.code < 500, "round \(round): \(error)")
                XCTAssertLessThan(error.message.utf8.count, 1000, "round \(round): the error echoes a bounded amount of input")
                XCTAssertFalse(error.message.contains("\n") || error.message.contains("\r"), "round \(round): one line")
            }
        }
    }

    func testCookieHeadersOfAnyBytesFindOnlyAWellFormedSessionCookie() async throws {
        let users = UserStore(writer: try SQLiteStorage.open(path: try makeTemporaryDirectory().appendingPathComponent("cookies.sqlite").path))
        var fuzz = FuzzInput(seed: 6)
        let fragments = ["happydesk_session=", "happydesk_session", ";", "=", " ", "\"", String(repeating: "A", count: 43), "a=b"]
        for round in 0..<Self.iterations {
            let headers = (0..<fuzz.int(0...3)).map { _ in fuzz.string(fragments: fragments) }
            let cookie = Cookies(from: headers)[AuthMiddleware.cookieName]
            if let value = cookie?.value, SurveyToken.looksValid(value) {
                XCTAssertEqual(value.utf8.count, 43, "round \(round)")
            }
            // The session look-up refuses every malformed value before any SQL runs (this store has no tables).
            if let value = cookie?.value, !SurveyToken.looksValid(value) {
                let user = try await users.user(session: value)
                XCTAssertNil(user)
            }
        }
    }

    func testSurveyTokenShapeCheckAcceptsOnly43Base64URLBytes() {
        var fuzz = FuzzInput(seed: 7)
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for _ in 0..<Self.iterations {
            let text =
                fuzz.chance(50)
                ? fuzz.string(fragments: ["A", "z", "-", "_", "9"])
                : String(decoding: fuzz.mutate(Array(SurveyToken.generate().value.utf8)), as: UTF8.self)
            if SurveyToken.looksValid(text) {
                XCTAssertEqual(text.utf8.count, 43)
                XCTAssertTrue(text.utf8.allSatisfy(alphabet.contains), text.debugDescription)
            }
            XCTAssertTrue(SurveyToken.looksValid(SurveyToken.generate().value))
        }
    }

    // MARK: JSON bodies

    func testClosureBodiesOfAnyBytesAreAClosureOrA400() {
        var fuzz = FuzzInput(seed: 8)
        let valid = Array(closureJSON().utf8)
        let fragments = [
            "{", "}", "[", "]", ":", ",", "\"", "\\u0000", "\\ud800", "1e400", "-0", "99999999999999999999", "null", "\"kind\":", "\"closed_at\":",
            "\"9999-12-31T23:59:59Z\"", "\"0001-01-01T00:00:00Z\"", "\"reassignments\":", "\"requester\":", "\"email\":\"a@b.c\"",
        ]
        for round in 0..<Self.iterations {
            let bytes: [UInt8]
            switch fuzz.int(0...5) {
            case 0: bytes = fuzz.bytes(fragments: fragments)
            case 1: bytes = Self.nested(depth: fuzz.int(1...40_000), open: fuzz.pick(["[", "{\"a\":"]))
            case 2: bytes = Array(fuzz.pick(["[]", "\"text\"", "1", "null", "true", "[{}]", "", " ", "\u{FEFF}{}"]).utf8)
            default: bytes = fuzz.mutate(valid, fragments: fragments)
            }
            do {
                var closure = try JSONInput.decode(Closure.self, from: ByteBuffer(bytes: bytes))
                do throws(ClosureValidationError) {
                    try closure.validate()
                    XCTAssertTrue(MailAddress.isValid(closure.requester.email), "round \(round)")
                    XCTAssertTrue(TextLimit.fits(closure.ticketID, max: 128), "round \(round)")
                    XCTAssertGreaterThanOrEqual(closure.closedAt, Closure.earliestClosedAt)
                } catch {
                    XCTAssertFalse(error.field.isEmpty)
                }
            } catch let error as AppError {
                XCTAssertEqual(error.status, .badRequest, "round \(round)")
                XCTAssertLessThan(error.message.utf8.count, 1000, "round \(round): \(error.message.prefix(200))")
            } catch {
                XCTFail("round \(round): \(error) is not an AppError")
            }
        }
    }

    func testJiraPayloadsOfAnyBytesAreAClosureIgnoredOrAClientError() throws {
        var fuzz = FuzzInput(seed: 9)
        let fixture = try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/jira_issue_updated_resolved.json"))
        let fragments = [
            "{", "}", "[", "]", "\"", "null", "\"webhookEvent\":", "\"jira:issue_updated\"", "\"toString\":", "\"Done\"", "\"resolutiondate\":",
            "\"2026-11-20T14:05:00.000+0000\"", "\"99999-99-99T99:99:99.999+9999\"", "\"emailAddress\":", "1e400",
        ]
        for round in 0..<Self.iterations {
            let bytes = fuzz.chance(20) ? fuzz.bytes(fragments: fragments) : fuzz.mutate(Array(fixture), fragments: fragments)
            do {
                switch try JiraAdapter.convert(Data(bytes)) {
                case .notAClosure(let reason): XCTAssertLessThan(reason.utf8.count, 1000, "round \(round)")
                case .closure(var closure): _ = try? closure.validate()
                }
            } catch let error as AppError {
                XCTAssertTrue([400, 422].contains(Int(error.status.code)), "round \(round): \(error.status)")
            } catch {
                XCTFail("round \(round): \(error) is not an AppError")
            }
        }
    }

    func testStreamClientFramesOfAnyTextAreAFrameOrAnErrorReply() {
        var fuzz = FuzzInput(seed: 10)
        let valid = Array(#"{"type":"reply","response_id":1,"text":"hi","ref":"r1"}"#.utf8)
        let fragments = ["{", "}", "\"type\":", "\"reply\"", "\"response_id\":", "9223372036854775808", "-1", "1e400", "\"ref\":", "\"text\":"]
        for round in 0..<Self.iterations {
            let text: String
            switch fuzz.int(0...3) {
            case 0: text = fuzz.string(fragments: fragments)
            case 1: text = String(decoding: Self.nested(depth: fuzz.int(1...40_000), open: "{\"type\":"), as: UTF8.self)
            default: text = String(decoding: fuzz.mutate(valid, fragments: fragments), as: UTF8.self)
            }
            do {
                let frame = try ClientFrame.parse(text)
                _ = try? frame.responseID()
            } catch let error as AppError {
                XCTAssertTrue([400, 413].contains(Int(error.status.code)), "round \(round)")
                let (type, ref) = ClientFrame.loose(text)
                XCTAssertLessThanOrEqual(type?.unicodeScalars.count ?? 0, 40)
                XCTAssertLessThanOrEqual(ref?.unicodeScalars.count ?? 0, 200)
                _ = ServerReply.error(error, request: type, ref: ref).json
            } catch {
                XCTFail("round \(round): \(error) is not an AppError")
            }
        }
    }

    // MARK: query parameters, dates, addresses

    func testDashboardFiltersOfAnyTextAreFiltersOrAOneLineError() {
        var fuzz = FuzzInput(seed: 11)
        let fragments = ["2026-11-01", "2026-02-30", "9999-12-31", "0000-00-00", "-", "T", " ", "day", "week", "month", "service", "incident", "5"]
        for round in 0..<Self.iterations {
            func value() -> String? { fuzz.chance(20) ? nil : fuzz.string(maxLength: 12, fragments: fragments) }
            do {
                let filters = try DashboardFilters(from: value(), to: value(), period: value(), by: value(), kind: value(), minimum: value())
                for day in [filters.from, filters.to].compactMap({ $0 }) {
                    XCTAssertEqual(day.utf8.count, 10, "round \(round)")
                    XCTAssertNotNil(DashboardDay.dayNumber(day))
                }
            } catch {
                XCTAssertFalse(error.description.contains("\n"), "round \(round)")
                XCTAssertLessThan(error.description.utf8.count, 400, "round \(round)")
            }
            let day = fuzz.string(maxLength: 12, fragments: fragments)
            _ = DashboardDay.dayNumber(day)
            _ = DashboardDay.label(day, fuzz.pick(DashboardFilters.Period.allCases))
            _ = DashboardDay.periodStart(day, fuzz.pick(DashboardFilters.Period.allCases))
        }
        XCTAssertThrowsError(try DashboardDay.validate("2026-11-01\u{301}", name: "from"))
        XCTAssertEqual(try DashboardDay.validate("2026-11-01T10:00:00Z", name: "from"), "2026-11-01")
    }

    func testDatesAndAddressesFromAnyTextParseOrAreRefused() {
        var fuzz = FuzzInput(seed: 12)
        let fragments = ["2026", "-", "11", "T", ":", "Z", "+0000", ".000", "@", "example.com", "a", "."]
        for round in 0..<Self.iterations {
            let text = fuzz.string(maxLength: 24, fragments: fragments)
            if let date = ISO8601.parse(text) { _ = ISO8601.format(date) }
            _ = JiraAdapter.parseJiraDate(text)
            if let stored = try? EmailAddress.deliverable(text) {
                XCTAssertTrue(stored.split(separator: "@").last?.utf8.allSatisfy { $0 < 0x80 } == true, "round \(round): the domain is sent in ASCII")
                XCTAssertEqual(try? EmailAddress.deliverable(stored), stored, "round \(round): the stored form is stable")
                XCTAssertNoThrow(try MailAddress(stored), "intake accepts only what delivery can send")
            }
        }
        for address in ["a＠example.com", "a@example.com\u{0}", "\u{301}a@example.com", "a@\u{301}example.com", "a b@example.com"] {
            XCTAssertFalse(EmailAddress.isValid(address), address.debugDescription)
        }
        XCTAssertEqual(
            try EmailAddress.deliverable("a\u{301}@exam\u{301}ple.com"), "á@xn--exaple-ds7b.com", "as Python's idna codec encodes exam\\u{301}ple")
    }

    func testJiraDatesWithoutAColonInTheOffsetParseLikeISO8601() {
        XCTAssertEqual(JiraAdapter.parseJiraDate("2026-11-20T14:05:00.120+0000"), ISO8601.parse("2026-11-20T14:05:00.120Z"))
        XCTAssertEqual(JiraAdapter.parseJiraDate("2026-11-20T15:35:00.000+0130"), ISO8601.parse("2026-11-20T14:05:00Z"))
        XCTAssertEqual(JiraAdapter.parseJiraDate("2026-11-20T09:05:00.000-0500"), ISO8601.parse("2026-11-20T14:05:00Z"))
        XCTAssertEqual(JiraAdapter.parseJiraDate("2026-11-20T14:05:00Z"), ISO8601.parse("2026-11-20T14:05:00Z"))
        // The input that made Foundation's DateFormatter trap ("Incorrect range").
        XCTAssertNil(
            JiraAdapter.parseJiraDate("28892863079266019615981376451843109380\u{301}-\u{200D}+1:Zexample.comaa.202611Z3412880291033982084+0000"))
        XCTAssertNil(JiraAdapter.parseJiraDate("2026-11-20é14:05:00.000+0000"))
    }

    // MARK: text limits

    func testTextLimitCountsExactlyAsSQLiteLengthDoes() throws {
        let db = try DatabaseQueue()
        try db.write { db in try db.execute(sql: "CREATE TABLE t (text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 50))") }
        var fuzz = FuzzInput(seed: 13)
        for round in 0..<Self.iterations {
            let text = fuzz.string(maxLength: 60, fragments: ["e\u{301}", "\u{301}", "🧑‍💻", "a"])
            let sqlite = try db.read { db in try Int.fetchOne(db, sql: "SELECT length(?)", arguments: [text]) }
            if !text.unicodeScalars.contains("\u{0}") { XCTAssertEqual(TextLimit.length(text), sqlite, "round \(round)") }
            let stored: Bool
            do {
                try db.write { db in try db.execute(sql: "INSERT INTO t (text) VALUES (?)", arguments: [text]) }
                stored = true
            } catch {
                stored = false
            }
            if !text.isEmpty, TextLimit.fits(text, max: 50) { XCTAssertTrue(stored, "round \(round): Swift accepted what the CHECK refused") }
        }
    }

    func testTextLimitPrefixIsBoundedInScalarsAndCutsBetweenGraphemesWhenItCan() {
        var fuzz = FuzzInput(seed: 14)
        for round in 0..<Self.iterations {
            let text = fuzz.string(maxLength: 80, fragments: ["e\u{301}", "\u{301}\u{301}\u{301}", "🧑‍💻", "ab"])
            let max = fuzz.int(0...70)
            let cut = TextLimit.prefix(text, max)
            XCTAssertLessThanOrEqual(cut.unicodeScalars.count, max, "round \(round)")
            XCTAssertTrue(text.unicodeScalars.starts(with: cut.unicodeScalars), "round \(round)")
            if text.unicodeScalars.count <= max { XCTAssertEqual(cut, text) }
            if let first = text.first, first.unicodeScalars.count <= max {
                XCTAssertTrue(text.starts(with: cut), "round \(round): cut inside a grapheme although a whole one fit")
            }
        }
        let flood = "e" + String(repeating: "\u{301}", count: 5000)
        XCTAssertEqual(flood.count, 1)
        XCTAssertEqual(TextLimit.prefix(flood, 300).unicodeScalars.count, 300)
        XCTAssertEqual(TextLimit.problem(flood, max: 5000), "is 5001 characters; the limit is 5000")
        XCTAssertEqual(TextLimit.problem("a\u{0}b", max: 5000), "must not contain NUL characters")
        XCTAssertEqual(TextLimit.preview("a\r\nb\u{202E}c", 40), "a\\u{d}\\u{a}b\\u{202e}c")
        XCTAssertEqual(TextLimit.preview(flood, 40).unicodeScalars.count, 40)
    }

    // MARK: helpers

    static func referenceHex(_ bytes: [UInt8]) -> Data? {
        guard bytes.count % 2 == 0 else { return nil }
        let digits = Array("0123456789abcdef".utf8)
        var out = Data()
        var index = 0
        while index < bytes.count {
            guard let high = digits.firstIndex(of: bytes[index] | 0x20), let low = digits.firstIndex(of: bytes[index + 1] | 0x20),
                bytes[index] >= 0x30, bytes[index + 1] >= 0x30
            else { return nil }
            out.append(UInt8(high << 4 | low))
            index += 2
        }
        return out
    }

    /// `application/x-www-form-urlencoded` as a browser writes it: spaces as `+`, every other non-alphanumeric byte as `%XX`.
    static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: " "): out += "+"
            default:
                let digits = Array("0123456789ABCDEF")
                out += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
            }
        }
        return out
    }

    static func nested(depth: Int, open: String) -> [UInt8] {
        Array(String(repeating: open, count: depth).utf8)
    }
}
