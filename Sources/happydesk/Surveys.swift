import ArgumentParser
import Foundation
import HappyDesk

struct Surveys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with survey definitions.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate every survey YAML file; prints file:line: field: problem on the first error."
        )

        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let settings = storage.settings()
            do {
                let catalog = try SurveyCatalog.load(directory: settings.surveysDirectory)
                for survey in catalog.surveys.values.sorted(by: { $0.id < $1.id }) {
                    let factorCount = survey.positive.count + survey.neutral.count + survey.negative.count
                    print(
                        "ok  \(survey.id) (\(survey.kind.rawValue)): \(factorCount) factors, locales \(survey.locales.joined(separator: ", ")), \(survey.lostTime?.buckets.count ?? 0) lost-time answers"
                    )
                }
            } catch {
                fail("\(error)")
            }
        }
    }
}
