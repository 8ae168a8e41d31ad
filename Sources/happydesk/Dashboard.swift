import ArgumentParser
import Foundation
import HappyDesk

/// `happydesk dashboard`: writes the happiness dashboard as one HTML file, or its figures as JSON or CSV.
struct Dashboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the happiness dashboard: one self-contained HTML file (or its figures as JSON or CSV).",
        discussion: """
            Reads the database without changing it. Examples:
              happydesk dashboard --out dashboard.html
              happydesk dashboard --from 2026-06-01 --to 2026-11-30 --period week --by group --kind incident --out q.html
              happydesk dashboard --format csv --out figures.csv
            """
    )

    @OptionGroup var storage: StorageOptions
    @Option(help: ArgumentHelp("File to write; '-' for standard output. (default: dashboard.html, .json or .csv)", valueName: "file")) var out:
        String?
    @Option(help: ArgumentHelp("First day included, YYYY-MM-DD (default: about six months before --to).", valueName: "date")) var from: String?
    @Option(help: ArgumentHelp("Last day included, YYYY-MM-DD (default: the last day with responses).", valueName: "date")) var to: String?
    @Option(help: "Trend period: day, week or month.") var period: String = "month"
    @Option(help: "Breakdown dimension: service, group, channel, country, assignee, kind or source.") var by: String = "service"
    @Option(help: "Only incident or request tickets.") var kind: String?
    @Option(help: "Only this assignment group (a closure's group, ignoring case): the report a lead of it sees.") var group: String?
    @Option(help: "Only this service (a closure's service, ignoring case): the report an owner of it sees.") var service: String?
    @Option(help: "html, json or csv.") var format: String = "html"
    @Option(name: .customLong("min-responses"), help: "Groups with fewer responses show 'too few responses'.") var minResponses: Int = 5

    func run() async throws {
        let format = self.format.lowercased()
        guard ["html", "json", "csv"].contains(format) else { fail("unknown format '\(self.format)': use html, json or csv") }
        var filters: DashboardFilters
        do {
            filters = try DashboardFilters(from: from, to: to, period: period, by: by, kind: kind, minimum: String(minResponses))
            filters.scope = try DashboardScope.resolve(.everything, group: group, service: service)
        } catch let error as DashboardInputError {
            fail(error.description)
        } catch let error as AppError {
            fail(error.message)
        } catch {
            fail("\(error)")
        }
        let settings = storage.settings()
        let bar = ProgressBar(title: "dashboard")
        let report: DashboardReport
        do {
            let pool: any AppStorage =
                if let url = settings.databaseURL {
                    try DashboardDatabase.openForReading(url: url, migrations: settings.migrationsDirectory)
                } else {
                    try DashboardDatabase.openForReading(path: settings.databasePath, migrations: settings.migrationsDirectory)
                }
            let catalog = try SurveyCatalog.load(directory: settings.surveysDirectory)
            let retention = try Settings.parseRetentionDays(env("HAPPYDESK_RETENTION_DAYS"))
            report = try DashboardBuilder(store: DashboardStore(reader: pool), catalog: catalog, retentionDays: retention)
                .build(filters) { fraction, step in bar.update(fraction, note: step) }
            bar.finish()
        } catch {
            bar.finish()
            fail("\(error)")
        }
        let body: Data
        switch format {
        case "json": body = (try? report.json()) ?? Data()
        case "csv": body = Data(DashboardCSV.render(report).utf8)
        default: body = Data(DashboardHTML.render(report).utf8)
        }
        let path = out ?? "dashboard.\(format)"
        if path == "-" {
            FileHandle.standardOutput.write(body)
            if !report.hasData { fail(report.noDataMessage) }
            return
        }
        do {
            try body.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            fail("cannot write \(path): \(error.localizedDescription)")
        }
        // An empty range is an error (non-zero exit), but the page saying so is still written.
        guard report.hasData else { fail("\(report.noDataMessage) (wrote \(path) saying so)") }
        FileHandle.standardError.write(
            Data("wrote \(path) (\(report.overall.figures.responses) responses, \(report.range.from) to \(report.range.to))\n".utf8))
    }
}
