import ArgumentParser
import Foundation
import HappyDesk

/// `happydesk copy --to postgres://…`: moves the SQLite database to PostgreSQL (see README, "Running several instances").
struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite database into an empty PostgreSQL database, then check both match.",
        discussion: """
            Stop `happydesk serve` first, so nothing is written during the copy. The copy runs in one PostgreSQL
            transaction (all or nothing), rebuilds the dashboard roll-ups there, and reports success only when
            every table has the same number of rows and the dashboard gives the same figures on both.
            Example:
              happydesk copy --database data/happydesk.sqlite --to postgres://happydesk:secret@db.example.com:5432/happydesk
            Then serve with HAPPYDESK_DATABASE_URL set to the same URL and the same HAPPYDESK_SECRET_KEY.
            """
    )

    @OptionGroup var storage: StorageOptions

    @Option(name: .long, help: ArgumentHelp("The empty PostgreSQL database to copy into: postgres://user:password@host:5432/name", valueName: "url"))
    var to: String

    func run() throws {
        let settings = storage.settings()
        guard PostgresLocation.isPostgresURL(to) else { fail("--to must be a postgres:// URL") }
        let source: SQLiteStorage
        do {
            source = try DashboardDatabase.openForReading(path: settings.databasePath, migrations: settings.migrationsDirectory)
        } catch {
            fail("\(error)")
        }
        let target: PostgresStorage
        do {
            target = try PostgresStorage(url: to, poolSize: 2)
        } catch {
            fail("\(error)")
        }
        let catalog: SurveyCatalog
        do {
            catalog = try SurveyCatalog.load(directory: settings.surveysDirectory)
        } catch {
            fail("\(error)")
        }
        let bar = ProgressBar(title: "copying")
        do {
            let report = try DatabaseCopy(source: source, target: target, catalog: catalog).run(migrations: settings.migrationsDirectory) {
                fraction, table in bar.update(fraction, note: table)
            }
            bar.finish()
            for (table, count) in report.rows { print("\(table.padding(toLength: 22, withPad: " ", startingAt: 0)) \(count) rows") }
            print(
                "copied \(settings.databasePath) to \(target.displayName) in \(String(format: "%.1f", report.seconds)) s; verified: same row counts, same dashboard (\(report.happiness))"
            )
        } catch {
            bar.finish()
            fail("\(error)")
        }
    }
}
