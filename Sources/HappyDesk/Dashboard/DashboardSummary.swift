import Foundation

/// Writes the few sentences at the top of the dashboard from its figures, like the summary of a monthly
/// service report: the overall move, the group that moved most and the factors behind it, the biggest
/// hotspot, and where lost time concentrates. Every number in it comes from the report.
struct DashboardSummary {
    let builder: DashboardBuilder
    let filters: DashboardFilters

    func sentences(for report: DashboardReport, previousStart: String, firstPeriod: String) throws -> [String] {
        guard report.hasData else {
            return ["There are no responses from \(report.range.from) to \(report.range.to)\(kindPhrase), so there is nothing to report yet."]
        }
        var out: [String] = []
        let minimum = filters.minimumResponses
        let overall = report.overall.figures
        if let current = report.current {
            let label = DashboardDay.label(current.period, filters.period, long: true)
            if let now = current.figures.happiness {
                var sentence =
                    "Happiness\(kindPhrase) was \(DashboardFormat.happiness(now)) in \(label) (\(DashboardFormat.count(current.figures.responses)) responses, ±\(Int((current.figures.marginOfError ?? 0).rounded())))"
                if let previous = report.previous, let before = previous.figures.happiness {
                    let delta = now - before
                    sentence +=
                        delta.rounded() == 0
                        ? ", unchanged from \(DashboardDay.label(previous.period, filters.period, long: true))"
                        : ", \(DashboardFormat.change(delta)) from \(DashboardFormat.happiness(before)) in \(DashboardDay.label(previous.period, filters.period, long: true))"
                }
                out.append(sentence + ".")
            } else {
                out.append(
                    "\(label.prefix(1).uppercased() + label.dropFirst()) has too few responses (\(current.figures.responses)) for a happiness score.")
            }
        }
        if let overallHappiness = overall.happiness {
            out.append(
                "Over the whole range (\(report.range.from) to \(report.range.to)), happiness is \(DashboardFormat.happiness(overallHappiness)) from \(DashboardFormat.count(overall.responses)) responses."
            )
        }
        if let mover = try moverSentence(report: report, previousStart: previousStart, firstPeriod: firstPeriod, minimum: minimum) {
            out.append(mover)
        }
        if let worst = report.breakdown.rows.first, let impact = worst.impact, impact < 0, let happiness = worst.figures.happiness,
            let overallHappiness = overall.happiness
        {
            out.append(
                "The biggest hotspot by \(filters.dimension.rawValue) is \(worst.value): happiness \(DashboardFormat.happiness(happiness)) against \(DashboardFormat.happiness(overallHappiness)) overall over \(DashboardFormat.count(worst.figures.responses)) responses (impact \(Int(impact.rounded())))."
            )
        }
        if let average = overall.averageLostMinutes {
            var sentence = "Requesters lost \(DashboardFormat.duration(minutes: average)) of work time per ticket on average"
            if let now = report.current?.figures.averageLostMinutes, let before = report.previous?.figures.averageLostMinutes {
                sentence +=
                    " (\(DashboardFormat.duration(minutes: now)) in the last \(filters.period.rawValue), against \(DashboardFormat.duration(minutes: before)) the \(filters.period.rawValue) before)"
            }
            if let share = report.lostTime.paretoShare {
                sentence += "; \(DashboardFormat.percent(share)) of tickets cause 80% of the lost time"
            }
            out.append(sentence + ".")
            if let top = report.breakdown.rows.filter({ $0.figures.responses >= minimum }).max(by: {
                ($0.shareOfLostTime ?? 0) < ($1.shareOfLostTime ?? 0)
            }),
                let share = top.shareOfLostTime, share > 0, overall.responses > 0
            {
                let volume = Double(top.figures.responses) / Double(overall.responses)
                out.append(
                    "Lost time concentrates in \(top.value): \(DashboardFormat.percent(share)) of all lost time from \(DashboardFormat.percent(volume)) of responses."
                )
            }
        }
        if let zero = report.reassignments.first(where: { $0.value == "0" })?.figures.happiness,
            let many = report.reassignments.last(where: { $0.figures.happiness != nil }), many.value != "0",
            let manyHappiness = many.figures.happiness
        {
            out.append(
                "Tickets never reassigned score \(DashboardFormat.happiness(zero)); with \(many.value) reassignments, \(DashboardFormat.happiness(manyHappiness))."
            )
        }
        return out
    }

    private var kindPhrase: String {
        filters.kind.map { " for \($0.rawValue)s" } ?? ""
    }

    /// The group whose happiness moved most between the last two periods, and the factor whose share in the
    /// band that explains the move (unhappy for a fall, happy for a rise) grew most.
    private func moverSentence(report: DashboardReport, previousStart: String, firstPeriod: String, minimum: Int) throws -> String? {
        guard let current = report.current, let previous = report.previous else { return nil }
        let candidates = report.breakdown.rows.filter { $0.changePoints != nil }
        let solid = candidates.filter { ($0.figures.responses) >= max(minimum, 30) * 2 }
        guard let mover = (solid.isEmpty ? candidates : solid).max(by: { abs($0.changePoints ?? 0) < abs($1.changePoints ?? 0) }),
            let change = mover.changePoints, abs(change) >= 1
        else { return nil }
        let label = DashboardDay.label(current.period, filters.period, long: true)
        var sentence = "Happiness for \(mover.value) \(change < 0 ? "fell" : "rose") \(Int(abs(change).rounded())) points in \(label)"
        if let now = mover.currentHappiness { sentence += ", to \(DashboardFormat.happiness(now))" }
        let band: ScoreBand = change < 0 ? .negative : .positive
        let picks = try builder.store.factorPicks(
            dim: filters.dimension.rawValue, value: mover.value, first: previous.firstDay, last: current.lastDay, kind: filters.kind,
            scope: filters.scope)
        let bands = try builder.store.dailyTallies(
            dim: filters.dimension.rawValue, first: previous.firstDay, last: current.lastDay, kind: filters.kind, scope: filters.scope
        )
        .filter { $0.key == mover.value }
        func respondents(_ first: String, _ last: String) -> Int {
            bands.filter { $0.day >= first && $0.day <= last }.reduce(0) { $0 + $1.tally.count(in: band) }
        }
        let nowBase = respondents(current.firstDay, current.lastDay)
        let beforeBase = respondents(previous.firstDay, previous.lastDay)
        guard nowBase >= minimum, beforeBase >= minimum else { return sentence + "." }
        var shares: [String: (Double, Double)] = [:]
        for row in picks where row.band == band.rawValue {
            var entry = shares[row.factorID] ?? (0, 0)
            if row.day >= current.firstDay && row.day <= current.lastDay { entry.0 += Double(row.picks) / Double(nowBase) }
            if row.day >= previous.firstDay && row.day <= previous.lastDay { entry.1 += Double(row.picks) / Double(beforeBase) }
            shares[row.factorID] = entry
        }
        guard let driver = shares.max(by: { ($0.value.0 - $0.value.1, $1.key) < ($1.value.0 - $1.value.1, $0.key) }), driver.value.0 > driver.value.1
        else {
            return sentence + "."
        }
        let who = band == .negative ? "unhappy" : "happy"
        return sentence
            + "; ‘\(builder.factorLabel(driver.key, kind: filters.kind))’ was picked by \(DashboardFormat.percent(driver.value.0)) of \(who) respondents, up from \(DashboardFormat.percent(driver.value.1))."
    }
}
