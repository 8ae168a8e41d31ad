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
            let pool = try AppDatabase.open(path: settings.databasePath)
            let applied = try AppDatabase.migrate(pool, directory: settings.migrationsDirectory)
            print(
                applied.isEmpty
                    ? "database \(settings.databasePath) is up to date" : "applied \(applied.joined(separator: ", ")) to \(settings.databasePath)")
        } catch {
            fail("\(error)")
        }
    }
}
