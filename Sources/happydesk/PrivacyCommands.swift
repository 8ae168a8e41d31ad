import ArgumentParser
import Foundation
import HappyDesk

/// Where personal data lives besides the database: the `.eml` files, and the key behind the audit trail's address hash.
struct PersonalDataFiles: ParsableArguments {
    @Option(help: ArgumentHelp("Folder of .eml files. [env: HAPPYDESK_OUTBOX_DIR] (default: ./data/outbox)", valueName: "dir"))
    var outboxDir: String?

    @Option(help: ArgumentHelp("Secret key file. [env: HAPPYDESK_SECRET_KEY_FILE] (default: beside the database)", valueName: "path"))
    var secretKeyFile: String?
}

/// Opens what retention and erasure need from the CLI: the migrated database, a batcher over it, the outbox folder
/// and the secret key (for the audit trail's address hash).
func openPersonalData(_ storage: StorageOptions, _ files: PersonalDataFiles) -> (PersonalData, any AppStorage) {
    var settings = storage.settings()
    if let dir = files.outboxDir ?? env("HAPPYDESK_OUTBOX_DIR") { settings.outboxDirectory = dir }
    settings.secretKey = env("HAPPYDESK_SECRET_KEY")
    settings.secretKeyFile = files.secretKeyFile ?? env("HAPPYDESK_SECRET_KEY_FILE")
    do {
        let database = try StorageOpener.open(settings: settings, poolSize: 2)
        try database.checkMigrated(directory: settings.migrationsDirectory)
        let vault = try TokenVault.load(base64: settings.secretKey, keyFile: settings.resolvedSecretKeyFile)
        try vault.verifyAgainst(database)
        let personal = PersonalData(
            storage: database, batcher: WriteBatcher(storage: database), outboxDirectory: URL(fileURLWithPath: settings.outboxDirectory), vault: vault
        )
        return (personal, database)
    } catch {
        fail("\(error)")
    }
}

func printReport(_ report: PersonalDataReport, json: Bool, extra: [String: any Sendable] = [:]) {
    if json {
        print(report.json(extra))
        return
    }
    for (table, count) in report.removed.lines { print("\(table.padding(toLength: 22, withPad: " ", startingAt: 0)) \(count)") }
    if let note = report.storageNote { print(note) }
}

/// `happydesk erase --requester EMAIL`: GDPR Art. 17 erasure of one requester.
struct Erase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase one requester's personal data everywhere it is kept, and print what was removed, table by table.",
        discussion: """
            Removes the address, name and locale from their closures and invitations, the comments of their responses,
            their whole conversations (the analysts' replies included), the personal fields of their events, their
            outbox rows and attempts, their .eml files, and their user and sessions if they have one. Their scores,
            factors and lost time stay as anonymous figures unless --with-answers, which deletes the answers too (the
            dashboard's figures then drop them). On SQLite the file is then vacuumed and its WAL truncated, so the
            address and the texts are gone from the bytes on disk; the server may keep running (writes wait meanwhile).
            The audit trail records the erasure with an HMAC of the address, never the address.
            Example:
              happydesk erase --requester ann@example.com --dry-run
            """
    )

    @OptionGroup var storage: StorageOptions

    @Option(help: ArgumentHelp("The requester's email (matched case-insensitively, as intake stored it).", valueName: "email"))
    var requester: String

    @Flag(help: "Only report what would be removed; change nothing.")
    var dryRun = false

    @Flag(help: "Also delete their answers (scores, factors, lost time); the dashboard's figures drop them.")
    var withAnswers = false

    @Flag(help: "Print the report as one JSON object.")
    var json = false

    @OptionGroup var files: PersonalDataFiles

    func run() async throws {
        let (personal, _) = openPersonalData(storage, files)
        do {
            let report = try await personal.erase(requester: requester, withAnswers: withAnswers, dryRun: dryRun, actor: .cli)
            if !json { print(dryRun ? "would remove (dry run, nothing changed):" : "removed:") }
            printReport(report, json: json, extra: ["with_answers": withAnswers])
        } catch let error as AppError {
            fail(error.message)
        } catch {
            fail("\(error)")
        }
    }
}

/// `happydesk retention run`: applies HAPPYDESK_RETENTION_DAYS now.
struct Retention: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the retention policy (HAPPYDESK_RETENTION_DAYS); `serve` also does it daily.",
        subcommands: [Run.self]
    )

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove personal data recorded more than N days ago, and print what was removed per table.",
            discussion: """
                Removes comments, messages, requesters' names and addresses, outbox rows (sealed links, bodies, attempts),
                the personal fields of events and .eml files recorded more than N days ago. Scores, factors, lost time
                and dimensions stay, so trends and the dashboard keep their figures. Works in batches of 200 rows, so a
                running server's writes wait at most one batch.
                """
        )

        @OptionGroup var storage: StorageOptions

        @Option(help: ArgumentHelp("Days to keep personal data. [env: HAPPYDESK_RETENTION_DAYS]", valueName: "days"))
        var retentionDays: String?

        @Flag(help: "Only report what would be removed; change nothing.")
        var dryRun = false

        @Flag(help: "Print the report as one JSON object.")
        var json = false

        @OptionGroup var files: PersonalDataFiles

        func run() async throws {
            let days: Int
            do {
                guard let parsed = try Settings.parseRetentionDays(retentionDays ?? env("HAPPYDESK_RETENTION_DAYS")) else {
                    fail("no retention policy: set HAPPYDESK_RETENTION_DAYS (or --retention-days) to the number of days to keep personal data")
                }
                days = parsed
            } catch {
                fail("\(error)")
            }
            let (personal, _) = openPersonalData(storage, files)
            do {
                let report = try await personal.applyRetention(days: days, dryRun: dryRun, actor: .cli)
                if !json { print(dryRun ? "would remove (dry run, nothing changed), older than \(days) days:" : "removed, older than \(days) days:") }
                printReport(report, json: json, extra: ["days": days])
            } catch {
                fail("\(error)")
            }
        }
    }
}
