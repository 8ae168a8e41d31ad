import Foundation

/// `happydesk copy --to postgres://…`: moves a SQLite database into an empty PostgreSQL one, in one transaction
/// (all or nothing), then checks that both hold the same rows and give the same dashboard.
///
/// The base tables are copied with their ids; the derived roll-ups are not copied but rebuilt on PostgreSQL
/// by its own triggers and a full fold, so the dashboard comparison checks the roll-ups, not a copy of them.
public struct DatabaseCopy {
    /// Base tables in foreign-key order; `id` tables get their identity sequence moved past the copied ids.
    static let tables: [(name: String, hasID: Bool)] = [
        ("closures", true), ("invitations", true), ("signin_links", true), ("deliveries", true), ("delivery_attempts", true), ("responses", true),
        ("response_factors", false), ("users", true), ("user_scopes", false), ("sessions", false), ("events", true), ("messages", true),
        ("kudos", true),
        ("response_follow_ups", false), ("happydesk_settings", false), ("audit", true),
    ]

    public struct Report: Sendable {
        public var rows: [(table: String, count: Int)]
        public var responses: Int
        public var happiness: String
        public var seconds: Double
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let source: SQLiteStorage
    let target: PostgresStorage
    let catalog: SurveyCatalog

    public init(source: SQLiteStorage, target: PostgresStorage, catalog: SurveyCatalog) {
        self.source = source
        self.target = target
        self.catalog = catalog
    }

    public func run(migrations: URL, progress: ((Double, String) -> Void)? = nil) throws -> Report {
        let started = Date()
        try source.checkMigrated(directory: migrations)
        _ = try target.migrate(directory: migrations)
        // Empty means no data in any base table (the key's check value is copied from the source).
        for table in Self.tables {
            let count = try target.readSync { db in try db.scalar(Int.self, "SELECT count(*) FROM \(table.name)") } ?? 0
            guard count == 0 else {
                throw Failure(description: "\(target.displayName) is not empty: \(table.name) has \(count) rows; copy needs an empty database")
            }
        }
        // Fold first, so the source's own dashboard is up to date for the comparison.
        try Rollups.foldAll(source)
        var counts: [(String, Int)] = []
        let total = try Self.tables.reduce(0) { sum, table in
            sum + (try source.readSync { db in try db.scalar(Int.self, "SELECT count(*) FROM \(table.name)") } ?? 0)
        }
        var copied = 0
        try target.writeSync { pg in
            for table in Self.tables {
                var count = 0
                try source.readSync { db in
                    let rows = try db.fetchAll("SELECT * FROM \(table.name)" + (table.hasID ? " ORDER BY id" : ""))
                    guard let first = rows.first else { return }
                    let columns = first.columns.joined(separator: ", ")
                    let width = first.columns.count
                    let perStatement = max(1, 30_000 / width)
                    var start = 0
                    while start < rows.count {
                        let chunk = rows[start..<min(rows.count, start + perStatement)]
                        let values = Array(repeating: "(" + sqlPlaceholders(width) + ")", count: chunk.count).joined(separator: ", ")
                        try pg.executeDeferred("INSERT INTO \(table.name) (\(columns)) VALUES \(values)", chunk.flatMap(\.values))
                        start += chunk.count
                        count += chunk.count
                        copied += chunk.count
                        progress?(total == 0 ? 1 : Double(copied) / Double(total), table.name)
                    }
                }
                if table.hasID {
                    try pg.execute(
                        "SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM \(table.name)), false)")
                }
                counts.append((table.name, count))
            }
        }
        progress?(1, "folding roll-ups")
        try Rollups.foldAll(target)
        // Check: the same rows, and the same dashboard.
        for (table, count) in counts {
            let there = try target.readSync { db in try db.scalar(Int.self, "SELECT count(*) FROM \(table)") } ?? 0
            guard there == count else { throw Failure(description: "\(table): \(count) rows in SQLite but \(there) in PostgreSQL") }
        }
        let (mine, theirs) = (try dashboard(source), try dashboard(target))
        guard mine.json == theirs.json else {
            throw Failure(
                description:
                    "the dashboards differ after the copy (SQLite: \(mine.headline); PostgreSQL: \(theirs.headline)); the copy is left in place for inspection"
            )
        }
        return Report(rows: counts, responses: mine.responses, happiness: mine.headline, seconds: Date().timeIntervalSince(started))
    }

    /// The whole-history report of a database, with the generation time taken out.
    func dashboard(_ storage: any AppStorage) throws -> (json: Data, headline: String, responses: Int) {
        let store = DashboardStore(reader: storage)
        guard let (first, last) = try store.bounds(kind: nil) else { return (Data(), "no responses", 0) }
        var report = try DashboardBuilder(store: store, catalog: catalog).build(DashboardFilters(from: first, to: last))
        report.generatedAt = ""
        let figures = report.overall.figures
        let happiness = figures.happiness.map { String(format: "%+.1f", $0) } ?? "n/a"
        return (try report.json(), "\(figures.responses) responses, happiness \(happiness)", figures.responses)
    }
}
