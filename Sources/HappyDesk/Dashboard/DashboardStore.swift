import Foundation

/// Reads the dashboard roll-ups of migrations 0005 and 0006. Every query is an indexed range scan over daily rows
/// (a few thousand rows for a year of data), aggregated in SQL; no query reads individual responses
/// except the latest comments, which use their own partial index.
public struct DashboardStore: Sendable {
    public let reader: any AppStorage

    public init(reader: any AppStorage) {
        self.reader = reader
    }

    /// Folds responses changed since the last fold into the roll-ups (`Rollups`), so the report that
    /// follows is exact. Only derived roll-up rows are written; a read-only handle skips this.
    func refresh() throws {
        if try reader.readSync({ db in try Rollups.pending(db) }) == 0 { return }
        do {
            try Rollups.foldAll(reader)
        } catch is StorageReadOnly {
            throw DashboardInputError(
                "the database is read-only, but answers changed since the last roll-up fold: the report needs write access to bring its figures up to date"
            )
        }
    }

    /// A tally for one day and key (a dimension value, or a kind).
    struct DayTally: Sendable {
        var day: String
        var key: String
        var tally: Tally
    }

    struct FactorPicks: Sendable {
        var day: String
        var kind: String
        var band: String
        var factorID: String
        var picks: Int
    }

    struct CommentRow: Sendable {
        var id: Int64
        var answeredAt: String
        var kind: String
        var score: Int
        var factors: [String]
        var lostMinutes: Int?
        var comment: String
        var service: String?
        var assignee: String?
    }

    private static func kindClause(_ kind: TicketKind?, column: String = "kind") -> String {
        kind == nil ? "" : " AND \(column) = ?"
    }

    private static func arguments(_ values: [any SQLBindable], kind: TicketKind?) -> [SQLValue] {
        var all = values.map(\.sqlValue)
        if let kind { all.append(kind.rawValue.sqlValue) }
        return all
    }

    /// First and last day with responses, for the default range.
    func bounds(kind: TicketKind?, scope: DashboardScope = .all) throws -> (String, String)? {
        let scoped = scopeSQL(scope, groupColumn: "group_name", serviceColumn: "service")
        return try reader.readSync { db in
            let row =
                scope.isAll
                ? try db.fetchOne(
                    "SELECT min(day), max(day) FROM dashboard_daily WHERE dim = 'all' AND responses > 0" + Self.kindClause(kind),
                    Self.arguments([], kind: kind))
                : try db.fetchOne(
                    "SELECT min(day), max(day) FROM rollup_counted WHERE 1 = 1\(scoped.sql)" + Self.kindClause(kind),
                    Self.arguments(scoped.arguments, kind: kind))
            guard let row, let first: String = row[0], let last: String = row[1] else { return nil }
            return (first, last)
        }
    }

    /// Daily tallies of one dimension from `first` to `last`, keyed by value (or by kind for `groupByKind`).
    func dailyTallies(dim: String, first: String, last: String, kind: TicketKind?, keyByKind: Bool = false, scope: DashboardScope = .all) throws
        -> [DayTally]
    {
        let key = keyByKind ? "kind" : "value"
        if !scope.isAll { return try scopedTallies(dim: dim, first: first, last: last, kind: kind, keyByKind: keyByKind, perDay: true, scope: scope) }
        let sql = """
            SELECT day, \(key), sum(responses), sum(positive), sum(negative), sum(lost_answered), sum(lost_minutes)
            FROM dashboard_daily WHERE dim = ? AND day BETWEEN ? AND ?\(Self.kindClause(kind))
            GROUP BY day, \(key) HAVING sum(responses) <> 0
            """
        return try reader.readSync { db in
            var rows: [DayTally] = []
            for row in try db.fetchAll(sql, Self.arguments([dim, first, last], kind: kind)) {
                rows.append(
                    DayTally(
                        day: row[0], key: row[1],
                        tally: Tally(responses: row[2], positive: row[3], negative: row[4], lostAnswered: row[5], lostMinutes: row[6])))
            }
            return rows
        }
    }

    /// Tallies of one dimension over a whole range, per value: one row per value.
    func rangeTallies(dim: String, first: String, last: String, kind: TicketKind?, scope: DashboardScope = .all) throws -> [(String, Tally)] {
        if !scope.isAll {
            return try scopedTallies(dim: dim, first: first, last: last, kind: kind, keyByKind: false, perDay: false, scope: scope).map {
                ($0.key, $0.tally)
            }
        }
        let sql = """
            SELECT value, sum(responses), sum(positive), sum(negative), sum(lost_answered), sum(lost_minutes)
            FROM dashboard_daily WHERE dim = ? AND day BETWEEN ? AND ?\(Self.kindClause(kind))
            GROUP BY value HAVING sum(responses) <> 0
            """
        return try reader.readSync { db in
            try db.fetchAll(sql, Self.arguments([dim, first, last], kind: kind)).map { row in
                (row[0], Tally(responses: row[1], positive: row[2], negative: row[3], lostAnswered: row[4], lostMinutes: row[5]))
            }
        }
    }

    /// Invitations sent per day.
    func sentPerDay(first: String, last: String, kind: TicketKind?, scope: DashboardScope = .all) throws -> [String: Int] {
        let scoped = scopeSQL(scope, groupColumn: "i.group_name", serviceColumn: "i.service")
        // Scoped: counted from the invitations of the scope, by the rule of dashboard_sent_daily's triggers.
        let sql =
            scope.isAll
            ? "SELECT day, sum(sent) FROM dashboard_sent_daily WHERE day BETWEEN ? AND ?\(Self.kindClause(kind)) GROUP BY day"
            : """
            SELECT substr(COALESCE(i.sent_at, i.created_at), 1, 10), count(*) FROM invitations i
            WHERE (i.sent_at IS NOT NULL OR i.status IN ('sent', 'answered', 'expired'))
              AND COALESCE(i.sent_at, i.created_at) >= ? AND COALESCE(i.sent_at, i.created_at) < ?\(Self.kindClause(kind, column: "i.kind"))\(scoped.sql)
            GROUP BY substr(COALESCE(i.sent_at, i.created_at), 1, 10)
            """
        var arguments = Self.arguments([first, scope.isAll ? last : DashboardDay.adding(1, to: last)], kind: kind)
        arguments += scoped.arguments
        return try reader.readSync { db in
            var result: [String: Int] = [:]
            for row in try db.fetchAll(sql, arguments) {
                result[row[0]] = row[1]
            }
            return result
        }
    }

    /// Factor picks per day, kind, band and factor for one dimension value (`all`/'' for everyone).
    func factorPicks(dim: String, value: String, first: String, last: String, kind: TicketKind?, scope: DashboardScope = .all) throws
        -> [FactorPicks]
    {
        if !scope.isAll { return try scopedFactorPicks(dim: dim, value: value, first: first, last: last, kind: kind, scope: scope) }
        let sql = """
            SELECT day, kind, band, factor_id, sum(picks) FROM dashboard_factor_daily
            WHERE dim = ? AND day BETWEEN ? AND ? AND value = ?\(Self.kindClause(kind))
            GROUP BY day, kind, band, factor_id HAVING sum(picks) <> 0
            """
        return try reader.readSync { db in
            var rows: [FactorPicks] = []
            for row in try db.fetchAll(sql, Self.arguments([dim, first, last, value], kind: kind)) {
                rows.append(FactorPicks(day: row[0], kind: row[1], band: row[2], factorID: row[3], picks: row[4]))
            }
            return rows
        }
    }

    /// The latest non-empty comments answered in the range, newest first.
    func latestComments(first: String, last: String, kind: TicketKind?, limit: Int, scope: DashboardScope = .all) throws -> [CommentRow] {
        let dialect = reader.dialect
        let scoped = scopeSQL(scope, groupColumn: "i.group_name", serviceColumn: "i.service")
        let sql = """
            SELECT r.id, r.first_answered_at, i.kind, r.score, r.lost_minutes, r.comment, i.service,
                   COALESCE(NULLIF(i.assignee_name, ''), i.assignee_id),
                   (SELECT \(dialect.stringAggregate("factor_id", separator: " ")) FROM response_factors f WHERE f.response_id = r.id)
            FROM responses r\(dialect.indexedBy("responses_commented"))
            JOIN invitations i ON i.id = r.invitation_id
            WHERE r.comment IS NOT NULL AND r.comment <> '' AND r.first_answered_at >= ? AND r.first_answered_at < ?\(Self.kindClause(kind, column: "i.kind"))\(scoped.sql)
            ORDER BY r.first_answered_at DESC, r.id DESC LIMIT ?
            """
        var args: [SQLValue] = [first.sqlValue, DashboardDay.adding(1, to: last).sqlValue]
        if let kind { args.append(kind.rawValue.sqlValue) }
        args += scoped.arguments
        args.append(limit.sqlValue)
        return try reader.readSync { db in
            try db.fetchAll(sql, args).map { row in
                let factors: String = row[8] ?? ""
                return CommentRow(
                    id: row[0], answeredAt: String((row[1] as String).prefix(16)), kind: row[2], score: row[3],
                    factors: factors.split(separator: " ").map(String.init).sorted(), lostMinutes: row[4], comment: row[5],
                    service: row[6], assignee: row[7]
                )
            }
        }
    }

    // MARK: Scoped reports

    /// The roll-ups are per dimension, so they cannot say how Network's answers split by service. A scoped
    /// report (a lead's groups, an owner's services, or a `group`/`service` filter) reads `rollup_counted`
    /// instead: one row per response with every dimension, exact after `refresh()`, indexed by group and service.
    func scopeSQL(_ scope: DashboardScope, groupColumn: String, serviceColumn: String) -> (sql: String, arguments: [SQLValue]) {
        var sql = ""
        var arguments: [SQLValue] = []
        for (column, names) in [(groupColumn, scope.groups), (serviceColumn, scope.services)] {
            guard let names else { continue }
            let clause = reader.dialect.inFolded(column, names)
            sql += " AND " + clause.sql
            arguments += clause.arguments
        }
        return (sql, arguments)
    }

    /// The column of `rollup_counted` holding a dimension's value (nil for `all`, which has one value, '').
    static func countedColumn(_ dim: String) -> String? {
        switch dim {
        case "all": return nil
        case "group": return "group_name"
        case "lost": return "CAST(lost_minutes AS TEXT)"
        default: return Rollups.Contribution.dimensions.contains(dim) || dim == "kind" ? dim : nil
        }
    }

    func scopedTallies(dim: String, first: String, last: String, kind: TicketKind?, keyByKind: Bool, perDay: Bool, scope: DashboardScope) throws
        -> [DayTally]
    {
        let scoped = scopeSQL(scope, groupColumn: "group_name", serviceColumn: "service")
        let column = keyByKind ? "kind" : Self.countedColumn(dim)
        let groupBy = ([perDay ? "day" : nil, column].compactMap { $0 }).joined(separator: ", ")
        let sql = """
            SELECT \(perDay ? "day" : "''"), \(column ?? "''"), count(*), sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END),
                   sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END), count(lost_minutes), COALESCE(sum(lost_minutes), 0)
            FROM rollup_counted WHERE day BETWEEN ? AND ?\(Self.kindClause(kind))\(scoped.sql)\(dim == "lost" ? " AND lost_minutes IS NOT NULL" : "")
            \(groupBy.isEmpty ? "" : "GROUP BY " + groupBy)
            """
        return try reader.readSync { db in
            try db.fetchAll(sql, Self.arguments([first, last], kind: kind) + scoped.arguments).compactMap { row in
                let tally = Tally(responses: row[2], positive: row[3], negative: row[4], lostAnswered: row[5], lostMinutes: row[6])
                return tally.responses == 0 ? nil : DayTally(day: row[0], key: row[1], tally: tally)
            }
        }
    }

    func scopedFactorPicks(dim: String, value: String, first: String, last: String, kind: TicketKind?, scope: DashboardScope) throws
        -> [FactorPicks]
    {
        let scoped = scopeSQL(scope, groupColumn: "c.group_name", serviceColumn: "c.service")
        let band = "CASE WHEN c.score >= 9 THEN 'positive' WHEN c.score >= 7 THEN 'neutral' ELSE 'negative' END"
        var arguments = Self.arguments([first, last], kind: kind) + scoped.arguments
        var valueClause = ""
        if let column = Self.countedColumn(dim), dim != "lost" {
            valueClause = " AND c.\(column) = ?"
            arguments.append(value.sqlValue)
        }
        let sql = """
            SELECT c.day, c.kind, \(band), f.factor_id, count(*)
            FROM rollup_counted c JOIN response_factors f ON f.response_id = c.response_id
            WHERE c.day BETWEEN ? AND ?\(Self.kindClause(kind, column: "c.kind"))\(scoped.sql)\(valueClause)
            GROUP BY c.day, c.kind, \(band), f.factor_id
            """
        return try reader.readSync { db in
            try db.fetchAll(sql, arguments).map { row in
                FactorPicks(day: row[0], kind: row[1], band: row[2], factorID: row[3], picks: row[4])
            }
        }
    }
}
