import ArgumentParser
import Foundation
import HappyDesk

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the database if needed and apply pending migrations from the Migrations folder."
    )

    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let settings = storage.settings()
        do {
            let (_, applied) = try StorageOpener.openMigrated(settings: settings, poolSize: 2)
            print(
                applied.isEmpty
                    ? "database \(settings.databaseDisplayName) is up to date"
                    : "applied \(applied.joined(separator: ", ")) to \(settings.databaseDisplayName)")
        } catch {
            fail("\(error)")
        }
    }
}
