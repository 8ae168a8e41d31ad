import Foundation
import XCTest

@testable import HappyDesk

/// The MIME pieces on their own: header encoding, line endings, addresses, backoff.
final class DeliveryMessageTests: XCTestCase {
    func testSubjectsWithLineBreaksOrNonASCIIBecomeOneEncodedHeader() {
        let subject = MIMEEncoding.unstructured("Grüße\r\nBcc: x@evil.test – " + String(repeating: "ü", count: 60), headerName: "Subject")
        XCTAssertFalse(subject.replacingOccurrences(of: "\r\n ", with: "").contains("\r"))
        XCTAssertFalse(subject.replacingOccurrences(of: "\r\n ", with: "").contains("\n"))
        for word in subject.components(separatedBy: "\r\n ") {
            XCTAssertTrue(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            XCTAssertLessThanOrEqual(word.count, 75)
        }
        XCTAssertEqual(MIMEEncoding.unstructured("How did we do?", headerName: "Subject"), "How did we do?")
    }

    func testAddressesWithLineBreaksOrBracketsAreRejected() {
        for bad in [
            "ann@example.com\r\nBcc: x@y.z", "ann@example.com>", "<ann@example.com", "ann smith@example.com", "ann@", "@example.com",
            "a..b@example.com",
        ] {
            XCTAssertThrowsError(try MailAddress(bad), bad)
        }
        // Internationalised: the domain in ASCII; a non-ASCII local part goes out with SMTPUTF8 (EmailRuleTests).
        XCTAssertEqual(try MailAddress("anna@bücher.example").address, "anna@xn--bcher-kva.example")
        XCTAssertEqual(try MailAddress("jörg@example.com").address, "jörg@example.com")
        XCTAssertNoThrow(try MailAddress("ann.o'neil+it@sub.example.co.uk"))
        XCTAssertEqual(try MailAddress.parse("Service Desk <desk@example.com>").headerValue, "Service Desk <desk@example.com>")
        XCTAssertEqual(try MailAddress("a@b.c", name: "Doe, John").headerValue, "\"Doe, John\" <a@b.c>")
    }

    func testRenderedMessageUsesCRLFAndShortLines() {
        let message = MailMessage(
            from: try! MailAddress("desk@example.com"), to: try! MailAddress("ann@example.com"), subject: "Hi", messageID: "x@example.com",
            date: Date(timeIntervalSince1970: 0), text: "line one\nline two\r\n.starts with a dot\n" + String(repeating: "word ", count: 400),
            html: "<p>x</p>"
        )
        let text = String(decoding: message.render(), as: UTF8.self)
        XCTAssertFalse(text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        XCTAssertTrue(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 })
        XCTAssertTrue(text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
    }

    func testDatesAreRFC5322InUTC() {
        let expected: [(TimeInterval, String)] = [
            (0, "Thu, 01 Jan 1970 00:00:00 +0000"), (1_795_000_000, "Wed, 18 Nov 2026 11:06:40 +0000"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 +0000"), (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 +0000"),
            (-86_400, "Wed, 31 Dec 1969 00:00:00 +0000"),
        ]
        for (seconds, text) in expected {
            XCTAssertEqual(MIMEEncoding.date(Date(timeIntervalSince1970: seconds)), text)
        }
    }

    func testBackoffGrowsWithJitterAndIsCapped() {
        let backoff = Backoff(base: 30, max: 3600)
        XCTAssertEqual(backoff.delay(afterAttempt: 1, random: 0), 15)
        XCTAssertEqual(backoff.delay(afterAttempt: 1, random: 1), 30)
        XCTAssertEqual(backoff.delay(afterAttempt: 3, random: 1), 120)
        XCTAssertEqual(backoff.delay(afterAttempt: 20, random: 1), 3600)
    }
}
