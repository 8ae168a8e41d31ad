import Foundation

/// Folds changed responses into the dashboard roll-ups, in bulk and off the request path (migration 0006).
///
/// A write marks a response in `rollup_dirty`. A fold takes the marked responses in id order, subtracts
/// what each counted before (`rollup_counted`), adds what it counts now (`rollup_response_state`), merges
/// the deltas in memory and applies one upsert per roll-up key that moved. The server folds every second
/// (`RollupService`); `DashboardStore.refresh` folds before every report, so reports stay exact.
public enum Rollups {
    /// Folds up to `limit` marked responses inside the caller's write transaction; returns how many.
    ///
    /// On PostgreSQL, instances sharing the database fold one at a time: the fold takes a transaction-scoped
    /// advisory lock and, when another instance holds it, returns 0 (that instance is folding the same rows).
    @discardableResult
    public static func fold(_ db: any SQLConnection, limit: Int = 5000) throws -> Int {
        let limit = min(limit, 5000)  // the ids go into one IN list
        if db.dialect == .postgres {
            guard try db.scalar(Bool.self, "SELECT pg_try_advisory_xact_lock(?)", advisoryLock) == true else { return 0 }
        }
        // On PostgreSQL the marks are locked: a submission that marks one of these responses again waits for this
        // fold to commit and then marks it anew, so no change is folded from a stale read and then unmarked.
        // Every statement below works on exactly these ids (responses committed meanwhile wait for the next fold).
        let ids = try db.column(
            Int64.self, "SELECT response_id FROM rollup_dirty ORDER BY response_id LIMIT ?" + (db.dialect == .postgres ? " FOR UPDATE" : ""), limit)
        guard !ids.isEmpty else { return 0 }
        let set = "(" + sqlPlaceholders(ids.count) + ")"
        let idValues = ids.map(\.sqlValue)
        var deltas = Deltas()
        for row in try db.fetchAll("SELECT c.* FROM rollup_counted c WHERE c.response_id IN \(set)", idValues) {
            deltas.add(Contribution(row), sign: -1)
        }
        for row in try db.fetchAll("SELECT s.* FROM rollup_response_state s WHERE s.response_id IN \(set)", idValues) {
            deltas.add(Contribution(row), sign: 1)
        }
        try deltas.apply(db)
        try db.executeDeferred("DELETE FROM rollup_counted WHERE response_id IN \(set)", idValues)
        try db.executeDeferred("INSERT INTO rollup_counted SELECT s.* FROM rollup_response_state s WHERE s.response_id IN \(set)", idValues)
        try db.execute("DELETE FROM rollup_dirty WHERE response_id IN \(set)", idValues)
        return ids.count
    }

    /// The advisory lock key of the fold ("hdrollup").
    static let advisoryLock: Int64 = 0x6864_726f_6c6c_7570

    /// Folds everything marked, in transactions of `batch` responses; `progress` gets the count so far.
    @discardableResult
    public static func foldAll(_ writer: any AppStorage, batch: Int = 5000, progress: ((Int) -> Void)? = nil) throws -> Int {
        var total = 0
        while true {
            let folded = try writer.writeSync { db in try fold(db, limit: batch) }
            if folded == 0 { return total }
            total += folded
            progress?(total)
        }
    }

    /// Responses marked and not yet folded.
    /// When the oldest response still waiting to be folded was last changed (its mark is made in the same
    /// transaction), for `happydesk_rollup_lag_seconds`; nil when nothing waits.
    public static func oldestPendingChange(_ db: any SQLConnection) throws -> Date? {
        try db.scalar(
            Date.self,
            "SELECT min(r.last_changed_at) FROM rollup_dirty d JOIN responses r ON r.id = d.response_id")
    }

    public static func pending(_ db: any SQLConnection) throws -> Int {
        try db.scalar(Int.self, "SELECT count(*) FROM rollup_dirty") ?? 0
    }

    /// What one response counts: a row of `rollup_counted` or `rollup_response_state` (same columns).
    struct Contribution {
        var day: String
        var kind: String
        var score: Int
        var lostMinutes: Int?
        var values: [(dim: String, value: String)]
        var factors: [Substring]

        /// Reads by position: `rollup_counted` and `rollup_response_state` share their column order
        /// (response_id, day, kind, score, lost_minutes, the seven dimensions, factors).
        init(_ row: SQLRow) {
            day = row[1]
            kind = row[2]
            score = row[3]
            lostMinutes = row[4]
            values = [("all", ""), ("kind", kind)]
            for (offset, dim) in Self.dimensions.enumerated() {
                if let value: String = row[5 + offset] { values.append((dim, value)) }
            }
            factors = ((row[12] as String?) ?? "").split(separator: ",")
        }

        /// Dimension names in column order, as in `dashboard_response_dims` (`lost` is added apart).
        static let dimensions = ["service", "group", "channel", "country", "assignee", "source", "reassignments"]
    }

    struct DailyKey: Hashable {
        var dim: String
        var value: String
        var day: String
        var kind: String
    }

    struct DailyDelta {
        var responses = 0
        var positive = 0
        var negative = 0
        var lostAnswered = 0
        var lostMinutes = 0
        var isZero: Bool { responses == 0 && positive == 0 && negative == 0 && lostAnswered == 0 && lostMinutes == 0 }
    }

    struct FactorKey: Hashable {
        var daily: DailyKey
        var band: String
        var factor: String
    }

    struct Deltas {
        var daily: [DailyKey: DailyDelta] = [:]
        var factors: [FactorKey: Int] = [:]

        mutating func add(_ response: Contribution, sign: Int) {
            let positive = response.score >= 9 ? sign : 0
            let negative = response.score <= 6 ? sign : 0
            let lostAnswered = response.lostMinutes == nil ? 0 : sign
            let lostMinutes = (response.lostMinutes ?? 0) * sign
            func count(_ key: DailyKey) {
                var delta = daily[key, default: DailyDelta()]
                delta.responses += sign
                delta.positive += positive
                delta.negative += negative
                delta.lostAnswered += lostAnswered
                delta.lostMinutes += lostMinutes
                daily[key] = delta
            }
            let band = ScoreBand(score: response.score).rawValue
            for (dim, value) in response.values {
                let key = DailyKey(dim: dim, value: value, day: response.day, kind: response.kind)
                count(key)
                for factor in response.factors {
                    factors[FactorKey(daily: key, band: band, factor: String(factor)), default: 0] += sign
                }
            }
            if let lost = response.lostMinutes {
                count(DailyKey(dim: "lost", value: String(lost), day: response.day, kind: response.kind))
            }
        }

        func apply(_ db: any SQLConnection) throws {
            // Columns are qualified with the table: PostgreSQL finds a bare name ambiguous beside `excluded`.
            let upsertDaily = """
                INSERT INTO dashboard_daily (dim, value, day, kind, responses, positive, negative, lost_answered, lost_minutes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (dim, day, kind, value) DO UPDATE SET
                    responses = dashboard_daily.responses + excluded.responses, positive = dashboard_daily.positive + excluded.positive,
                    negative = dashboard_daily.negative + excluded.negative,
                    lost_answered = dashboard_daily.lost_answered + excluded.lost_answered,
                    lost_minutes = dashboard_daily.lost_minutes + excluded.lost_minutes
                """
            for (key, delta) in daily where !delta.isZero {
                try db.executeDeferred(
                    upsertDaily, key.dim, key.value, key.day, key.kind, delta.responses, delta.positive, delta.negative, delta.lostAnswered,
                    delta.lostMinutes)
            }
            let upsertFactor = """
                INSERT INTO dashboard_factor_daily (dim, value, day, kind, band, factor_id, picks) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (dim, day, kind, value, band, factor_id) DO UPDATE SET picks = dashboard_factor_daily.picks + excluded.picks
                """
            for (key, picks) in factors where picks != 0 {
                try db.executeDeferred(upsertFactor, key.daily.dim, key.daily.value, key.daily.day, key.daily.kind, key.band, key.factor, picks)
            }
        }
    }
}
