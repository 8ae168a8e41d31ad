import Foundation
import XCTest

@testable import HappyDesk

final class SurveyFileTests: XCTestCase {
    func testShippedSurveysLoad() throws {
        let catalog = try SurveyCatalog.load(directory: repositoryRoot.appendingPathComponent("Surveys"))
        let incident = try XCTUnwrap(catalog.survey(for: .incident))
        XCTAssertEqual(incident.locales, ["en", "de"])
        XCTAssertEqual(incident.lostTime?.buckets.map(\.minutes), [0, 15, 45, 90, 180, 360, 600])
        XCTAssertTrue(incident.negative.contains { $0.id == "not_solved" && $0.reopens })
        XCTAssertNotNil(catalog.survey(for: .request))
        XCTAssertEqual(incident.resolveLocale("de-AT"), "de")
        XCTAssertEqual(incident.resolveLocale("sv"), "en")
    }

    func testMalformedSurveyNamesFileLineAndField() throws {
        let valid = try String(contentsOf: repositoryRoot.appendingPathComponent("Surveys/incident.yml"), encoding: .utf8)
        let cases: [(String, String, Int?)] = [
            (valid.replacingOccurrences(of: "kind: incident", with: "kind: outage"), "kind", 4),
            (
                valid.replacingOccurrences(
                    of: "      label: { en: \"Fast resolution\", de: \"Schnelle Lösung\" }", with: "      label: { en: \"Fast resolution\" }"),
                "factors.positive[0].label.de", 23
            ),
            (valid.replacingOccurrences(of: "minutes: 45,", with: "minutes: soon,"), "lost_time.buckets[2].minutes", nil),
            (valid.replacingOccurrences(of: "    - id: slow", with: "    - id: speed"), "factors.negative[1].id", nil),
            (valid + "\n  broken: [", "(syntax)", nil),
        ]
        for (text, field, line) in cases {
            XCTAssertThrowsError(try SurveyLoader.parse(text, file: "incident.yml")) { error in
                guard let error = error as? SurveyFileError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.field, field, error.description)
                XCTAssertEqual(error.file, "incident.yml")
                XCTAssertNotNil(error.line, error.description)
                if let line { XCTAssertEqual(error.line, line, error.description) }
                XCTAssertTrue(error.description.hasPrefix("incident.yml:"), error.description)
            }
        }
    }

    func testMalformedSurveyFileStopsStartup() throws {
        let dir = try makeTemporaryDirectory()
        let surveys = dir.appendingPathComponent("Surveys")
        try FileManager.default.createDirectory(at: surveys, withIntermediateDirectories: true)
        for name in ["incident.yml", "request.yml"] {
            try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("Surveys/\(name)"), to: surveys.appendingPathComponent(name))
        }
        try "id: request\nkind: request\nlocales: [en]\nquestion: 5\n".write(
            to: surveys.appendingPathComponent("request.yml"), atomically: true, encoding: .utf8)
        var settings = makeSettings(directory: dir)
        settings.surveysDirectory = surveys
        XCTAssertThrowsError(try HappyDeskServer.open(settings: settings, logger: .init(label: "t"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("request.yml:4: question:"), "\(error)")
        }
    }
}
