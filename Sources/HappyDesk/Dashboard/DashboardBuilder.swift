import Foundation

/// Computes a `DashboardReport` from the roll-ups: the CLI generator and the live routes share it, so the
/// file and the page always show the same figures for the same filters.
public struct DashboardBuilder: Sendable {
    public let store: DashboardStore
    public let catalog: SurveyCatalog
    /// `HAPPYDESK_RETENTION_DAYS`: the report says that older comments are removed.
    public var retentionDays: Int?

    public init(store: DashboardStore, catalog: SurveyCatalog, retentionDays: Int? = nil) {
        self.store = store
        self.catalog = catalog
        self.retentionDays = retentionDays
    }

    /// Builds the report. `progress` receives a fraction and a step name, for a terminal progress bar.
    public func build(_ filters: DashboardFilters, now: Date = Date(), progress: (@Sendable (Double, String) -> Void)? = nil) throws
        -> DashboardReport
    {
        let period = filters.period
        let minimum = filters.minimumResponses
        progress?(0.02, "roll-ups")
        try store.refresh()
        progress?(0.05, "range")
        let bounds = try store.bounds(kind: filters.kind, scope: filters.scope)
        // Default end: the last day with data (or --from when that is later, an empty range rather than an error).
        let to = filters.to ?? max(bounds?.1 ?? DashboardDay.string(now), filters.from ?? "")
        // Default start: about six months back to a period boundary, not before the first period with data.
        let from =
            filters.from
            ?? min(
                max(DashboardDay.periodStart(DashboardDay.adding(-179, to: to), period), bounds.map { DashboardDay.periodStart($0.0, period) } ?? ""),
                DashboardDay.periodStart(to, period))
        if from > to { throw DashboardInputError("--from \(from) is after --to \(to)") }
        let firstPeriod = DashboardDay.periodStart(from, period)
        let previousStart = DashboardDay.periodStart(DashboardDay.adding(-1, to: firstPeriod), period)
        let fetchFirst = min(previousStart, DashboardDay.adding(-6, to: from))

        // Daily totals per kind: the trend, the periods and the factor denominators come from these.
        progress?(0.15, "daily totals")
        let daily = try store.dailyTallies(dim: "all", first: fetchFirst, last: to, kind: filters.kind, keyByKind: true, scope: filters.scope)
        var dayTotals: [String: Tally] = [:]
        var bandBase: [String: [String: Tally]] = [:]  // period start → kind → tally
        for row in daily {
            dayTotals[row.day, default: Tally()] += row.tally
            let key = row.day >= from ? DashboardDay.periodStart(row.day, period) : (row.day >= previousStart && row.day < firstPeriod ? "pre" : "")
            if !key.isEmpty { bandBase[key, default: [:]][row.key, default: Tally()] += row.tally }
        }
        progress?(0.3, "invitations sent")
        let sent = try store.sentPerDay(first: fetchFirst, last: to, kind: filters.kind, scope: filters.scope)

        let rangeDays = DashboardDay.range(from, to)
        var periodStarts: [String] = []
        for day in rangeDays where periodStarts.last != DashboardDay.periodStart(day, period) {
            periodStarts.append(DashboardDay.periodStart(day, period))
        }
        func periodRow(start: String, first: String, last: String, label: String) -> DashboardReport.PeriodRow {
            var tally = Tally()
            var sentCount = 0
            for day in DashboardDay.range(first, last) {
                if let value = dayTotals[day] { tally += value }
                sentCount += sent[day] ?? 0
            }
            return DashboardReport.PeriodRow(
                period: start, label: label, firstDay: first, lastDay: last, figures: .init(tally, minimum: minimum), invitationsSent: sentCount,
                responseRate: sentCount > 0 ? Double(tally.responses) / Double(sentCount) : nil
            )
        }
        let periods = periodStarts.map { start in
            let end = DashboardDay.adding(-1, to: nextPeriod(after: start, period))
            return periodRow(start: start, first: max(start, from), last: min(end, to), label: DashboardDay.label(start, period))
        }
        let overall = periodRow(start: from, first: from, last: to, label: "\(from) to \(to)")
        let current = periods.last
        let previous: DashboardReport.PeriodRow? =
            periods.count >= 2
            ? periods[periods.count - 2]
            : periodRow(
                start: previousStart, first: previousStart, last: DashboardDay.adding(-1, to: firstPeriod),
                label: DashboardDay.label(previousStart, period))
        let previousKey = periods.count >= 2 ? periods[periods.count - 2].period : "pre"

        // Volume-weighted 7-day moving average: pooled counts of the day and the six before.
        let days = rangeDays.map { day -> DashboardReport.DayRow in
            var window = Tally()
            for offset in 0..<7 { window += dayTotals[DashboardDay.adding(-offset, to: day)] ?? Tally() }
            return .init(
                day: day, responses: dayTotals[day]?.responses ?? 0, movingAverage7d: window.happiness(minimum: minimum),
                movingAverageResponses: window.responses)
        }

        progress?(0.45, "factors")
        let factors = try factorRows(
            filters: filters, from: from, to: to, previousStart: previousStart, firstPeriod: firstPeriod,
            periodStarts: periodStarts, bandBase: bandBase, previousKey: previousKey)

        progress?(0.6, "breakdown")
        let overallHappiness = overall.figures.happiness
        let breakdownRows = try groupRows(
            dim: filters.dimension.rawValue, filters: filters, from: from, to: to, previousStart: previousStart, firstPeriod: firstPeriod,
            currentStart: current?.period, previousPeriodStart: periods.count >= 2 ? previousKey : nil, overallHappiness: overallHappiness,
            totalLost: overall.figures.lostMinutesTotal)

        progress?(0.7, "reassignments")
        let reassignments = try store.rangeTallies(dim: "reassignments", first: from, last: to, kind: filters.kind, scope: filters.scope)
            .sorted { Self.reassignmentOrder($0.0) < Self.reassignmentOrder($1.0) }
            .map { value, tally in
                DashboardReport.GroupRow(
                    value: value, figures: .init(tally, minimum: minimum),
                    impact: Self.impact(tally, minimum: minimum, overall: overallHappiness), shareOfLostTime: nil,
                    currentHappiness: nil, previousHappiness: nil, changePoints: nil)
            }

        progress?(0.8, "lost time")
        let lostRows = try store.rangeTallies(dim: "lost", first: from, last: to, kind: filters.kind, scope: filters.scope)
        let lostTime = Self.lostTime(
            histogram: lostRows.compactMap { value, tally in Int(value).map { (minutes: $0, tickets: tally.responses) } },
            labels: lostLabels(kind: filters.kind))

        progress?(0.9, "comments")
        let comments = try store.latestComments(first: from, last: to, kind: filters.kind, limit: filters.commentLimit, scope: filters.scope).map {
            row in
            DashboardReport.Comment(
                responseId: row.id, answeredAt: row.answeredAt, kind: row.kind, score: row.score, band: ScoreBand(score: row.score),
                factors: row.factors, factorLabels: row.factors.map { factorLabel($0, kind: TicketKind(rawValue: row.kind)) },
                lostMinutes: row.lostMinutes, comment: row.comment, service: row.service, assignee: row.assignee)
        }

        var report = DashboardReport(
            generatedAt: ISO8601DateFormatter().string(from: now),
            range: .init(
                from: from, to: to, period: period, by: filters.dimension, kind: filters.kind, minimumResponses: minimum,
                groups: filters.scope.groups,
                services: filters.scope.services),
            hasData: overall.figures.responses > 0, summary: [], overall: overall, current: current, previous: previous,
            periods: periods, days: days, factors: factors, breakdown: .init(dimension: filters.dimension, rows: breakdownRows),
            reassignments: reassignments, lostTime: lostTime, comments: comments)
        if let days = retentionDays {
            report.commentsRetentionDays = days
            report.commentsNotice = DashboardReport.retentionNotice(days: days)
        }
        progress?(0.95, "summary")
        report.summary = try DashboardSummary(builder: self, filters: filters).sentences(
            for: report, previousStart: previousStart, firstPeriod: firstPeriod)
        progress?(1, "done")
        return report
    }

    func nextPeriod(after start: String, _ period: DashboardFilters.Period) -> String {
        switch period {
        case .day: return DashboardDay.adding(1, to: start)
        case .week: return DashboardDay.adding(7, to: start)
        case .month: return DashboardDay.periodStart(DashboardDay.adding(32, to: start), .month)
        }
    }

    static func reassignmentOrder(_ value: String) -> Int { Int(value.prefix { $0.isNumber }) ?? 99 }

    static func impact(_ tally: Tally, minimum: Int, overall: Double?) -> Double? {
        guard let happiness = tally.happiness(minimum: minimum), let overall else { return nil }
        return Double(tally.responses) * (happiness - overall)
    }

    /// Breakdown rows for a dimension over the range, with the last two periods' happiness; worst impact first.
    func groupRows(
        dim: String, filters: DashboardFilters, from: String, to: String, previousStart: String, firstPeriod: String,
        currentStart: String?, previousPeriodStart: String?, overallHappiness: Double?, totalLost: Int
    ) throws -> [DashboardReport.GroupRow] {
        let minimum = filters.minimumResponses
        let rows = try store.dailyTallies(dim: dim, first: previousStart, last: to, kind: filters.kind, scope: filters.scope)
        var total: [String: Tally] = [:]
        var currentTally: [String: Tally] = [:]
        var previousTally: [String: Tally] = [:]
        for row in rows {
            let start = DashboardDay.periodStart(row.day, filters.period)
            if row.day >= from { total[row.key, default: Tally()] += row.tally }
            if row.day >= from, start == currentStart { currentTally[row.key, default: Tally()] += row.tally }
            let isPrevious = previousPeriodStart.map { row.day >= from && start == $0 } ?? (row.day < firstPeriod)
            if isPrevious { previousTally[row.key, default: Tally()] += row.tally }
        }
        let result = total.map { value, tally -> DashboardReport.GroupRow in
            let now = currentTally[value]?.happiness(minimum: minimum)
            let before = previousTally[value]?.happiness(minimum: minimum)
            return DashboardReport.GroupRow(
                value: value, figures: .init(tally, minimum: minimum), impact: Self.impact(tally, minimum: minimum, overall: overallHappiness),
                shareOfLostTime: totalLost > 0 ? Double(tally.lostMinutes) / Double(totalLost) : nil,
                currentHappiness: now, previousHappiness: before, changePoints: now.flatMap { n in before.map { n - $0 } })
        }
        return result.sorted { a, b in
            switch (a.impact, b.impact) {
            case let (x?, y?): return x != y ? x < y : a.value < b.value
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.figures.responses != b.figures.responses ? a.figures.responses > b.figures.responses : a.value < b.value
            }
        }
    }

    /// Factor shares per band over the range and per period. A factor's denominator counts only respondents of the
    /// kinds whose survey offers it, so a request-only factor is not diluted by incident respondents.
    func factorRows(
        filters: DashboardFilters, from: String, to: String, previousStart: String, firstPeriod: String, periodStarts: [String],
        bandBase: [String: [String: Tally]], previousKey: String
    ) throws -> [DashboardReport.FactorRow] {
        let picks = try store.factorPicks(dim: "all", value: "", first: previousStart, last: to, kind: filters.kind, scope: filters.scope)
        struct Key: Hashable { var band: String; var factor: String }
        var perPeriod: [Key: [String: [String: Int]]] = [:]  // key → period → kind → picks
        for row in picks {
            let period = row.day >= from ? DashboardDay.periodStart(row.day, filters.period) : (row.day < firstPeriod ? "pre" : "")
            if period.isEmpty { continue }
            perPeriod[Key(band: row.band, factor: row.factorID), default: [:]][period, default: [:]][row.kind, default: 0] += row.picks
        }
        // Every factor the surveys offer appears, even unpicked, so a factor that vanished shows 0%, not nothing.
        for kind in offeredKinds(filters.kind) {
            guard let survey = catalog.survey(for: kind) else { continue }
            for band in ScoreBand.allCases {
                for factor in survey.factors(for: band) where perPeriod[Key(band: band.rawValue, factor: factor.id)] == nil {
                    perPeriod[Key(band: band.rawValue, factor: factor.id)] = [:]
                }
            }
        }
        func base(_ band: ScoreBand, factor: String, period: String) -> Int {
            let kinds = kindsOffering(factor, band: band, filter: filters.kind)
            return (bandBase[period] ?? [:]).reduce(0) { sum, entry in
                kinds.contains(entry.key) ? sum + entry.value.count(in: band) : sum
            }
        }
        var rows: [DashboardReport.FactorRow] = []
        for (key, periods) in perPeriod {
            guard let band = ScoreBand(rawValue: key.band) else { continue }
            let series = periodStarts.map { start -> DashboardReport.FactorPeriod in
                let count = periods[start]?.values.reduce(0, +) ?? 0
                let denominator = base(band, factor: key.factor, period: start)
                return .init(
                    period: start, picks: count, bandResponses: denominator, share: denominator > 0 ? Double(count) / Double(denominator) : nil)
            }
            let picksTotal = series.reduce(0) { $0 + $1.picks }
            let baseTotal = series.reduce(0) { $0 + $1.bandResponses }
            let last = series.last?.share
            let before: Double? = {
                if previousKey == "pre" {
                    let d = base(band, factor: key.factor, period: "pre")
                    return d > 0 ? Double(periods["pre"]?.values.reduce(0, +) ?? 0) / Double(d) : nil
                }
                return series.count >= 2 ? series[series.count - 2].share : nil
            }()
            rows.append(
                .init(
                    band: band, factorId: key.factor, label: factorLabel(key.factor, kind: filters.kind), picks: picksTotal, bandResponses: baseTotal,
                    share: baseTotal > 0 ? Double(picksTotal) / Double(baseTotal) : nil, periods: series,
                    changePoints: last.flatMap { l in before.map { (l - $0) * 100 } }, flagged: false))
        }
        let bandOrder: [ScoreBand: Int] = [.positive: 0, .neutral: 1, .negative: 2]
        rows.sort { a, b in
            a.band != b.band
                ? (bandOrder[a.band] ?? 0) < (bandOrder[b.band] ?? 0)
                : ((a.share ?? -1) != (b.share ?? -1) ? (a.share ?? -1) > (b.share ?? -1) : a.factorId < b.factorId)
        }
        // Flag the three biggest moves of at least 3 points, when both periods had enough respondents.
        let movers = rows.indices.filter {
            abs(rows[$0].changePoints ?? 0) >= 3 && (rows[$0].periods.last?.bandResponses ?? 0) >= filters.minimumResponses
        }
        .sorted { abs(rows[$0].changePoints ?? 0) > abs(rows[$1].changePoints ?? 0) }.prefix(3)
        for index in movers { rows[index].flagged = true }
        return rows
    }

    func offeredKinds(_ filter: TicketKind?) -> [TicketKind] { filter.map { [$0] } ?? TicketKind.allCases }

    func kindsOffering(_ factor: String, band: ScoreBand, filter: TicketKind?) -> Set<String> {
        let kinds = offeredKinds(filter).filter { kind in
            catalog.survey(for: kind)?.factors(for: band).contains { $0.id == factor } ?? false
        }
        // A factor no survey offers any more (renamed or removed) is shared over every respondent of the band.
        return Set((kinds.isEmpty ? offeredKinds(filter) : kinds).map(\.rawValue))
    }

    /// The English label of a factor, from the survey of the given kind first.
    func factorLabel(_ id: String, kind: TicketKind?) -> String {
        let order = kind.map { first in [first] + TicketKind.allCases.filter { $0 != first } } ?? TicketKind.allCases
        for kind in order {
            if let survey = catalog.survey(for: kind), let (factor, _) = survey.factor(id: id) {
                return factor.label.text(survey.defaultLocale)
            }
        }
        return id
    }

    func lostLabels(kind: TicketKind?) -> [Int: String] {
        var labels: [Int: String] = [:]
        for kind in offeredKinds(kind).reversed() {
            guard let survey = catalog.survey(for: kind), let question = survey.lostTime else { continue }
            for bucket in question.buckets { labels[bucket.minutes] = bucket.label.text(survey.defaultLocale) }
        }
        return labels
    }

    /// Lost-time histogram and Pareto share: tickets sorted by lost minutes, worst first; the smallest share of
    /// tickets whose minutes reach 80% of the total, interpolating inside the bucket that crosses 80%.
    public static func lostTime(histogram: [(minutes: Int, tickets: Int)], labels: [Int: String] = [:]) -> DashboardReport.LostTime {
        let sorted = histogram.filter { $0.tickets > 0 }.sorted { $0.minutes > $1.minutes }
        let tickets = sorted.reduce(0) { $0 + $1.tickets }
        let total = sorted.reduce(0) { $0 + $1.minutes * $1.tickets }
        var curve: [[Double]] = [[0, 0]]
        var pareto: Double?
        var cumulativeTickets = 0.0
        var cumulativeMinutes = 0.0
        if tickets > 0 && total > 0 {
            let target = 0.8 * Double(total)
            for bucket in sorted {
                let bucketMinutes = Double(bucket.minutes * bucket.tickets)
                if pareto == nil, bucket.minutes > 0, cumulativeMinutes + bucketMinutes >= target {
                    let needed = (target - cumulativeMinutes) / Double(bucket.minutes)
                    pareto = (cumulativeTickets + needed) / Double(tickets)
                }
                cumulativeTickets += Double(bucket.tickets)
                cumulativeMinutes += bucketMinutes
                curve.append([cumulativeTickets / Double(tickets), cumulativeMinutes / Double(total)])
            }
        }
        let buckets = sorted.sorted { $0.minutes < $1.minutes }.map {
            DashboardReport.LostBucket(
                minutes: $0.minutes, label: labels[$0.minutes] ?? DashboardFormat.duration(minutes: Double($0.minutes)), tickets: $0.tickets,
                minutesTotal: $0.minutes * $0.tickets)
        }
        return .init(buckets: buckets, tickets: tickets, minutesTotal: total, paretoShare: pareto, curve: curve)
    }
}
