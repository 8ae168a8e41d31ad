import ArgumentParser
import Foundation
import HappyDesk

/// `happydesk demo`: fills a database with realistic synthetic feedback, to try the dashboard or benchmark it.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill the database with realistic synthetic closures and responses (for trying the dashboard).",
        discussion: "Adds to whatever the database holds; use a fresh --database for a clean demo."
    )

    @OptionGroup var storage: StorageOptions
    @Option(help: "How many responses to create.") var responses: Int = 20_000
    @Option(help: "Spread over this many days, ending today.") var days: Int = 180
    @Option(name: .customLong("response-rate"), help: "Responses ÷ invitations sent, 0.05–1.") var responseRate: Double = 0.4
    @Option(help: "Random seed: the same seed gives the same data.") var seed: UInt64 = 42

    func run() async throws {
        guard responses >= 1, responses <= 50_000_000 else { fail("--responses must be from 1 to 50,000,000") }
        guard days >= 1, days <= 3650 else { fail("--days must be from 1 to 3650") }
        guard responseRate >= 0.05, responseRate <= 1 else { fail("--response-rate must be from 0.05 to 1") }
        let settings = storage.settings()
        let pool = try openMigrated(storage)
        let catalog: SurveyCatalog
        do { catalog = try SurveyCatalog.load(directory: settings.surveysDirectory) } catch { fail("\(error)") }
        var generator = DemoGenerator(responses: responses, days: days)
        generator.responseRate = responseRate
        generator.seed = seed
        let bar = ProgressBar(title: "demo")
        let started = Date()
        do {
            try generator.run(writer: pool, catalog: catalog) { done, total in
                bar.update(Double(done) / Double(max(total, 1)), note: "\(done)/\(total) responses")
            }
        } catch {
            bar.finish()
            fail("\(error)")
        }
        bar.finish()
        print(
            "added \(responses) responses over \(days) days to \(settings.databaseDisplayName) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s"
        )
    }
}
