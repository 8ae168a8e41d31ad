import Foundation
import XCTest

@testable import HappyDesk

/// JSON and CSV carry the same figures as the page, and "no value" never turns into 0 (or 0 into nothing).
final class DashboardExportTests: XCTestCase {
    func november() throws -> DashboardReport {
        var fixture = try DashboardFixture()
        try fixture.seedNovember()
        return try fixture.builder().build(DashboardFilters(from: "2026-11-01", to: "2026-11-30"))
    }

    func testJSONKeepsNullDistinctFromZero() throws {
        let report = try november()
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        let overall = try XCTUnwrap((json["overall"] as? [String: Any])?["figures"] as? [String: Any])
        XCTAssertEqual(overall["responses"] as? Int, 19)
        let rows = try XCTUnwrap((json["breakdown"] as? [String: Any])?["rows"] as? [[String: Any]])
        let printing = try XCTUnwrap(rows.first { $0["value"] as? String == "Printing" }?["figures"] as? [String: Any])
        XCTAssertTrue(printing["happiness"] is NSNull, "too few responses is null, not 0")
        XCTAssertEqual(printing["status"] as? String, "too_few_responses")
        let email = try XCTUnwrap(rows.first { $0["value"] as? String == "Email" }?["figures"] as? [String: Any])
        XCTAssertTrue(email["average_lost_minutes"] is NSNull)
        let comments = try XCTUnwrap(json["comments"] as? [[String: Any]])
        let comment = try XCTUnwrap(comments.first)
        XCTAssertEqual(comment["score"] as? Int, 0, "a score of 0 is exported as 0")
        XCTAssertEqual(comment["lost_minutes"] as? Int, 0, "0 minutes lost is 0")
        XCTAssertEqual(comment["comment"] as? String, "<script>alert('x')</script> & <b>bold</b>", "JSON carries the text as written")
        let lostTime = try XCTUnwrap(json["lost_time"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(lostTime["pareto_share"] as? Double), 0.233, accuracy: 0.0005)
    }

    func testCSVKeepsEmptyDistinctFromZeroAndQuotesText() throws {
        let report = try november()
        let csv = DashboardCSV.render(report)
        let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let header = lines[0].components(separatedBy: ",")
        func field(_ line: String, _ name: String) -> String? {
            guard let index = header.firstIndex(of: name) else { return nil }
            let fields = Self.split(line)
            return index < fields.count ? fields[index] : nil
        }
        let printing = try XCTUnwrap(lines.first { $0.hasPrefix("breakdown,") && $0.contains(",Printing,") })
        XCTAssertEqual(field(printing, "happiness"), "")
        XCTAssertEqual(field(printing, "status"), "too_few_responses")
        XCTAssertEqual(field(printing, "negative"), "3")
        let vpn = try XCTUnwrap(lines.first { $0.hasPrefix("breakdown,") && $0.contains(",VPN,") })
        XCTAssertEqual(field(vpn, "happiness"), "20")
        let comment = try XCTUnwrap(lines.first { $0.hasPrefix("comment,") })
        XCTAssertEqual(field(comment, "score"), "0")
        XCTAssertEqual(field(comment, "lost_minutes"), "0")
        XCTAssertEqual(field(comment, "comment"), "<script>alert('x')</script> & <b>bold</b>")
        XCTAssertEqual(DashboardCSV.escape("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"", "formulas are neutralised")
        XCTAssertEqual(DashboardCSV.escape("-12"), "-12")
    }

    func testCommentsWithHTMLOrScriptAreEscapedInThePage() throws {
        let report = try november()
        let html = DashboardHTML.render(report)
        XCTAssertFalse(html.contains("<script"), "no script element at all, and the comment's is escaped")
        XCTAssertFalse(html.contains("<b>bold</b>"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"))
        XCTAssertTrue(html.contains("Content-Security-Policy"))
        XCTAssertFalse(html.contains("src=\"http"), "no external resources")
        XCTAssertFalse(html.contains("href=\"http"))
    }

    /// Splits one CSV line with RFC 4180 quotes.
    static func split(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var chars = Array(line)
        var index = 0
        while index < chars.count {
            let c = chars[index]
            if quoted {
                if c == "\"" {
                    if index + 1 < chars.count && chars[index + 1] == "\"" { current.append("\""); index += 1 } else { quoted = false }
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(current); current = ""
            } else {
                current.append(c)
            }
            index += 1
        }
        fields.append(current)
        chars.removeAll()
        return fields
    }
}
