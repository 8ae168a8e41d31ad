import Foundation

/// The report as one CSV table in long form: one row per figure set, the `section` column says which
/// (overall, period, day, factor, breakdown, reassignments, lost_time, comment). Empty cells mean "no value"
/// (too few responses, question not answered); a score or a figure of 0 is always written as 0.
public enum DashboardCSV {
    static let header = [
        "section", "period", "dimension", "value", "responses", "positive", "neutral", "negative", "happiness", "margin_of_error", "status",
        "invitations_sent", "response_rate", "lost_answered", "lost_minutes_total", "average_lost_minutes", "impact", "change_points",
        "band", "factor_id", "picks", "band_responses", "share", "score", "lost_minutes", "comment",
    ]

    public static func render(_ report: DashboardReport) -> String {
        var lines = [header.joined(separator: ",")]
        func row(_ fields: [String: String]) {
            lines.append(header.map { escape(fields[$0] ?? "") }.joined(separator: ","))
        }
        func figures(_ f: DashboardReport.Figures) -> [String: String] {
            [
                "responses": "\(f.responses)", "positive": "\(f.positive)", "neutral": "\(f.neutral)", "negative": "\(f.negative)",
                "happiness": number(f.happiness), "margin_of_error": number(f.marginOfError), "status": f.status.rawValue,
                "lost_answered": "\(f.lostAnswered)", "lost_minutes_total": "\(f.lostMinutesTotal)",
                "average_lost_minutes": number(f.averageLostMinutes),
            ]
        }
        func period(_ section: String, _ p: DashboardReport.PeriodRow) {
            row(
                figures(p.figures).merging([
                    "section": section, "period": p.period, "value": "\(p.firstDay)..\(p.lastDay)",
                    "invitations_sent": "\(p.invitationsSent)", "response_rate": number(p.responseRate),
                ]) { a, _ in a })
        }
        period("overall", report.overall)
        for p in report.periods { period("period", p) }
        for d in report.days {
            row([
                "section": "day", "period": d.day, "responses": "\(d.responses)", "happiness": number(d.movingAverage7d),
                "value": "moving_average_7d",
            ])
        }
        for f in report.factors {
            row([
                "section": "factor", "band": f.band.rawValue, "factor_id": f.factorId, "value": f.label, "picks": "\(f.picks)",
                "band_responses": "\(f.bandResponses)", "share": number(f.share), "change_points": number(f.changePoints),
            ])
            for p in f.periods {
                row([
                    "section": "factor_period", "period": p.period, "band": f.band.rawValue, "factor_id": f.factorId, "value": f.label,
                    "picks": "\(p.picks)", "band_responses": "\(p.bandResponses)", "share": number(p.share),
                ])
            }
        }
        for g in report.breakdown.rows {
            row(
                figures(g.figures).merging([
                    "section": "breakdown", "dimension": report.breakdown.dimension.rawValue, "value": g.value,
                    "impact": number(g.impact), "change_points": number(g.changePoints),
                ]) { a, _ in a })
        }
        for g in report.reassignments {
            row(
                figures(g.figures).merging(["section": "reassignments", "dimension": "reassignments", "value": g.value, "impact": number(g.impact)]) {
                    a, _ in a
                })
        }
        for b in report.lostTime.buckets {
            row([
                "section": "lost_time", "value": b.label, "lost_minutes": "\(b.minutes)", "responses": "\(b.tickets)",
                "lost_minutes_total": "\(b.minutesTotal)",
            ])
        }
        row([
            "section": "lost_time_pareto", "value": "share_of_tickets_for_80_percent", "share": number(report.lostTime.paretoShare),
            "responses": "\(report.lostTime.tickets)", "lost_minutes_total": "\(report.lostTime.minutesTotal)",
        ])
        for c in report.comments {
            row([
                "section": "comment", "period": c.answeredAt, "value": c.service ?? "", "dimension": c.kind, "score": "\(c.score)",
                "band": c.band.rawValue,
                "factor_id": c.factors.joined(separator: " "), "lost_minutes": c.lostMinutes.map(String.init) ?? "", "comment": c.comment,
            ])
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Up to three decimals, no trailing zeros; empty for nil.
    static func number(_ value: Double?) -> String {
        guard let value else { return "" }
        let rounded = DashboardReport.rounded(value)
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int(rounded)) }
        var text = String(format: "%.3f", rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    /// RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' so spreadsheets do not run it as a formula.
    static func escape(_ field: String) -> String {
        var text = field
        if let first = text.first, "=+@".contains(first) || (first == "-" && Double(text) == nil) { text = "'" + text }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }
}
