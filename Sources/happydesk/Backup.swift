import ArgumentParser
import Foundation
import HappyDesk

/// `happydesk backup --out FILE`: a consistent, checked copy of the SQLite database while the server keeps writing.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the SQLite database (safe while `serve` runs), check it and print its row counts.",
        discussion: """
            Uses SQLite's online backup: the copy is the database as it was when the backup started, copied a few
            hundred pages at a time so the running server keeps writing. The copy is written beside FILE, checked
            (PRAGMA integrity_check, every migration applied), then renamed to FILE. An existing FILE is kept unless
            --force. To restore: stop the server, replace the database file with the copy (and delete any
            happydesk.sqlite-wal and -shm files beside it), start the server. See README, "Backup and restore".
            On PostgreSQL use pg_dump instead (README shows the commands).
            Example:
              happydesk backup --database data/happydesk.sqlite --out backups/happydesk-$(date +%F).sqlite
            """
    )

    @OptionGroup var storage: StorageOptions

    @Option(help: ArgumentHelp("The copy to write (a new file, unless --force).", valueName: "file"))
    var out: String

    @Flag(help: "Replace FILE when it exists.")
    var force = false

    func run() throws {
        let settings = storage.settings()
        if settings.databaseURL != nil {
            fail(
                "happydesk backup copies the SQLite file; for PostgreSQL use pg_dump (pg_dump --format=custom --file=happydesk.dump \"$HAPPYDESK_DATABASE_URL\"), see README \"Backup and restore\""
            )
        }
        guard FileManager.default.fileExists(atPath: settings.databasePath) else {
            fail("no database at \(settings.databasePath): give --database or set HAPPYDESK_DATABASE")
        }
        let source: SQLiteStorage
        do {
            source = try SQLiteStorage.open(path: settings.databasePath)
        } catch {
            fail("cannot open database \(settings.databasePath): \(error)")
        }
        let bar = ProgressBar(title: "backup")
        do {
            let report = try DatabaseBackup(source: source, migrations: settings.migrationsDirectory).run(to: out, force: force) { fraction, note in
                bar.update(fraction, note: note)
            }
            bar.finish()
            for (table, count) in report.rows { print("\(table.padding(toLength: 24, withPad: " ", startingAt: 0)) \(count) rows") }
            print(
                "backed up \(settings.databasePath) to \(report.path): \(report.bytes) bytes (\(String(format: "%.1f", Double(report.bytes) / 1_000_000)) MB) in \(String(format: "%.1f", report.seconds)) s; integrity ok, migrations complete"
            )
        } catch {
            bar.finish()
            fail("\(error)")
        }
    }
}
