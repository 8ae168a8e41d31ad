import Foundation

/// Renders a report as one self-contained HTML page: inline CSS and SVG, no script, and a Content-Security-Policy
/// that forbids every external load, so the file opens offline, can be mailed or archived, and prints.
/// Every user-supplied text (comments, group names, labels) goes through `SVGChart.escape`.
public enum DashboardHTML {
    public static func render(_ report: DashboardReport) -> String {
        let e = SVGChart.escape
        let r = report.range
        func scopeText(_ r: DashboardReport.Range) -> String {
            (r.groups.map { " · groups: \(e($0.joined(separator: ", ")))" } ?? "")
                + (r.services.map { " · services: \(e($0.joined(separator: ", ")))" } ?? "")
        }
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <title>Happiness dashboard · \(e(r.from)) to \(e(r.to))</title>
            <style>\(css)</style></head><body>
            <header><h1>Happiness dashboard</h1>
            <p class="meta">\(e(r.from)) to \(e(r.to)) · per \(r.period.rawValue) · by \(r.by.rawValue) · \(r.kind.map { "\($0.rawValue)s only" } ?? "incidents and requests")\(scopeText(r)) · groups under \(r.minimumResponses) responses show “too few responses” · generated \(e(report.generatedAt))</p></header>
            <main>
            <section class="summary" aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>
            """
        html += "<ul>" + report.summary.map { "<li>\(e($0))</li>" }.joined() + "</ul></section>"
        guard report.hasData else {
            html +=
                "<section class=\"empty\"><h2>No data</h2><p>No responses were answered in this range. Widen the range with <code>--from</code> and <code>--to</code>, or check the kind filter.</p></section>"
            return html + footer + "</main></body></html>\n"
        }
        html += headline(report)
        html += trend(report)
        html += lostTrend(report)
        html += factors(report)
        html += breakdown(report)
        html += pareto(report)
        html += reassignments(report)
        html += comments(report)
        return html + "</main>" + footer + "</body></html>\n"
    }

    static func happinessText(_ figures: DashboardReport.Figures) -> String {
        switch figures.status {
        case .ok: return figures.happiness.map(DashboardFormat.happiness) ?? "—"
        case .tooFewResponses: return "too few responses"
        case .noData: return "no data"
        }
    }

    static func headline(_ report: DashboardReport) -> String {
        guard let current = report.current else { return "" }
        let previous = report.previous
        func card(_ title: String, _ value: String, _ delta: String?, good: Bool?) -> String {
            let cls = good.map { $0 ? "up" : "down" } ?? "flat"
            return
                "<div class=\"card\"><div class=\"card-title\">\(SVGChart.escape(title))</div><div class=\"card-value\">\(SVGChart.escape(value))</div>"
                + "<div class=\"card-delta \(cls)\">\(SVGChart.escape(delta ?? "no previous figure"))</div></div>"
        }
        let prevLabel = previous.map { "vs \($0.label)" } ?? ""
        var cards = ""
        let h = current.figures.happiness, ph = previous?.figures.happiness
        cards += card(
            "Happiness · \(current.label)", happinessText(current.figures) + (current.figures.marginOfError.map { " ±\(Int($0.rounded()))" } ?? ""),
            h.flatMap { a in ph.map { b in "\(DashboardFormat.change(a - b)) \(prevLabel)" } }, good: h.flatMap { a in ph.map { b in a >= b } })
        let n = current.figures.responses, pn = previous?.figures.responses
        cards += card(
            "Responses", DashboardFormat.count(n), pn.map { "\(n - $0 >= 0 ? "+" : "")\(DashboardFormat.count(n - $0)) \(prevLabel)" }, good: nil)
        let rate = current.responseRate, prate = previous?.responseRate
        cards += card(
            "Response rate", rate.map(DashboardFormat.percent) ?? "no invitations sent",
            rate.flatMap { a in prate.map { b in "\(DashboardFormat.change((a - b) * 100)) \(prevLabel)" } },
            good: rate.flatMap { a in prate.map { b in a >= b } })
        let lost = current.figures.averageLostMinutes, plost = previous?.figures.averageLostMinutes
        cards += card(
            "Average lost time", lost.map { DashboardFormat.duration(minutes: $0) } ?? "not answered",
            lost.flatMap { a in plost.map { b in "\(a >= b ? "+" : "−")\(DashboardFormat.duration(minutes: abs(a - b))) \(prevLabel)" } },
            good: lost.flatMap { a in plost.map { b in a <= b } })
        cards += card(
            "Whole range", happinessText(report.overall.figures), "\(DashboardFormat.count(report.overall.figures.responses)) responses", good: nil)
        return "<section aria-labelledby=\"head-h\"><h2 id=\"head-h\">Headline figures</h2><div class=\"cards\">\(cards)</div></section>"
    }

    static func trend(_ report: DashboardReport) -> String {
        let text = report.periods.map { "\($0.label): \(happinessText($0.figures)) from \($0.figures.responses) responses" }.joined(separator: "; ")
        let chart = SVGChart.happinessTrend(report, id: "trend", description: "Happiness per \(report.range.period.rawValue): \(text).")
        var table =
            "<table><thead><tr><th>\(report.range.period.rawValue.capitalized)</th><th>Happiness</th><th>±</th><th>Responses</th><th>Invitations sent</th><th>Response rate</th><th>Avg lost time</th></tr></thead><tbody>"
        for row in report.periods {
            table +=
                "<tr><td>\(SVGChart.escape(row.label))</td><td class=\"num\">\(happinessText(row.figures))</td><td class=\"num\">\(row.figures.marginOfError.map { String(Int($0.rounded())) } ?? "—")</td>"
                + "<td class=\"num\">\(DashboardFormat.count(row.figures.responses))</td><td class=\"num\">\(DashboardFormat.count(row.invitationsSent))</td>"
                + "<td class=\"num\">\(row.responseRate.map(DashboardFormat.percent) ?? "—")</td><td class=\"num\">\(row.figures.averageLostTime ?? "—")</td></tr>"
        }
        table += "</tbody></table>"
        return figure(
            id: "trend-h", title: "Happiness trend", chart: chart,
            caption:
                "Happiness per \(report.range.period.rawValue) (dots), response volume (bars) and the 7-day moving average weighted by volume (line). \(text).",
            table: table)
    }

    static func lostTrend(_ report: DashboardReport) -> String {
        let items = report.periods.map { ($0.label, $0.figures.averageLostMinutes, $0.figures.averageLostTime ?? "n/a") }
        let text = report.periods.map { "\($0.label): \($0.figures.averageLostTime ?? "not answered")" }.joined(separator: "; ")
        let chart = SVGChart.bars(
            items.map { (label: $0.0, value: $0.1, text: $0.2) }, id: "lost", title: "Average lost time per \(report.range.period.rawValue)",
            description: text, barClass: { _ in "bar-lost" })
        var table =
            "<table><thead><tr><th>\(report.range.period.rawValue.capitalized)</th><th>Avg lost time</th><th>Answered</th><th>Total lost</th></tr></thead><tbody>"
        for row in report.periods {
            table +=
                "<tr><td>\(SVGChart.escape(row.label))</td><td class=\"num\">\(row.figures.averageLostTime ?? "—")</td><td class=\"num\">\(DashboardFormat.count(row.figures.lostAnswered))</td><td class=\"num\">\(DashboardFormat.duration(minutes: Double(row.figures.lostMinutesTotal)))</td></tr>"
        }
        table += "</tbody></table>"
        return figure(
            id: "lost-h", title: "Lost work time per ticket", chart: chart,
            caption: "Average work time lost per ticket, over the responses that answered the question. \(text).", table: table)
    }

    static func factors(_ report: DashboardReport) -> String {
        var html =
            "<section aria-labelledby=\"factors-h\"><h2 id=\"factors-h\">Why: factors per band</h2><p class=\"note\">Share of respondents in each band who picked a factor (several may be picked). ⚑ marks the factors whose share moved most between the last two \(report.range.period.rawValue)s.</p><div class=\"bands\">"
        for band in ScoreBand.allCases {
            let rows = report.factors.filter { $0.band == band }
            guard !rows.isEmpty else { continue }
            let text = rows.map { "\($0.label) \($0.share.map(DashboardFormat.percent) ?? "n/a")" }.joined(separator: ", ")
            let title = band == .positive ? "Happy (9–10)" : band == .neutral ? "Neutral (7–8)" : "Unhappy (0–6)"
            html +=
                "<figure class=\"band\"><figcaption><strong>\(title)</strong></figcaption>"
                + SVGChart.factorBars(rows, band: band, id: "f-\(band.rawValue)", description: text) + "</figure>"
        }
        html += "</div><h3>Each factor's share per \(report.range.period.rawValue)</h3><div class=\"multiples\">"
        var index = 0
        for band in ScoreBand.allCases {
            let rows = report.factors.filter { $0.band == band }
            let scale = rows.flatMap { $0.periods.compactMap(\.share) }.max() ?? 1
            for row in rows {
                index += 1
                let change = row.changePoints.map { "\(DashboardFormat.change($0)) in the last \(report.range.period.rawValue)" } ?? "no comparison"
                html +=
                    "<div class=\"multiple\(row.flagged ? " flagged" : "")\"><div class=\"m-title\">\(row.flagged ? "⚑ " : "")\(SVGChart.escape(row.label)) <span class=\"muted\">\(band.rawValue)</span></div>"
                    + SVGChart.sparkline(row, scale: scale, id: "m\(index)")
                    + "<div class=\"m-foot\">\(row.periods.last?.share.map(DashboardFormat.percent) ?? "n/a") · \(change)</div></div>"
            }
        }
        html += "</div>"
        var table =
            "<table><thead><tr><th>Band</th><th>Factor</th><th>Share</th><th>Picks</th><th>Band respondents</th>"
            + report.periods.map { "<th>\(SVGChart.escape($0.label))</th>" }.joined() + "<th>Change (pts)</th></tr></thead><tbody>"
        for row in report.factors {
            table +=
                "<tr><td>\(row.band.rawValue)</td><td>\(row.flagged ? "⚑ " : "")\(SVGChart.escape(row.label))</td><td class=\"num\">\(row.share.map(DashboardFormat.percent) ?? "—")</td><td class=\"num\">\(DashboardFormat.count(row.picks))</td><td class=\"num\">\(DashboardFormat.count(row.bandResponses))</td>"
                + row.periods.map { "<td class=\"num\">\($0.share.map(DashboardFormat.percent) ?? "—")</td>" }.joined()
                + "<td class=\"num\">\(row.changePoints.map { String(format: "%+.0f", $0) } ?? "—")</td></tr>"
        }
        html += "<details><summary>Factor numbers</summary>\(table)</tbody></table></details></section>"
        return html
    }

    static func breakdown(_ report: DashboardReport) -> String {
        let dim = report.breakdown.dimension
        let maxImpact = report.breakdown.rows.compactMap { $0.impact.map(abs) }.max() ?? 1
        var table =
            "<table class=\"breakdown\"><thead><tr><th>\(dim.title)</th><th>Responses</th><th>Happiness</th><th>±</th><th>Last \(report.range.period.rawValue)</th><th>Change</th><th>Avg lost time</th><th>Share of lost time</th><th>Hotspot impact</th></tr></thead><tbody>"
        for row in report.breakdown.rows {
            let bar =
                row.impact.map { v in
                    "<span class=\"impact-bar \(v < 0 ? "neg" : "pos")\" style=\"width:\(Int((abs(v) / max(maxImpact, 1) * 80).rounded()))px\"></span>"
                } ?? ""
            table +=
                "<tr\(row.figures.status == .tooFewResponses ? " class=\"small\"" : "")><td>\(SVGChart.escape(row.value))</td><td class=\"num\">\(DashboardFormat.count(row.figures.responses))</td>"
                + "<td class=\"num\">\(happinessText(row.figures))</td><td class=\"num\">\(row.figures.marginOfError.map { String(Int($0.rounded())) } ?? "—")</td>"
                + "<td class=\"num\">\(row.currentHappiness.map(DashboardFormat.happiness) ?? "—")</td><td class=\"num\">\(row.changePoints.map { String(format: "%+.0f", $0) } ?? "—")</td>"
                + "<td class=\"num\">\(row.figures.averageLostTime ?? "—")</td><td class=\"num\">\(row.shareOfLostTime.map(DashboardFormat.percent) ?? "—")</td>"
                + "<td class=\"num impact\">\(row.impact.map { String(Int($0.rounded())) } ?? "—") \(bar)</td></tr>"
        }
        table += "</tbody></table>"
        return
            "<section aria-labelledby=\"bd-h\"><h2 id=\"bd-h\">Hotspots by \(dim.rawValue)</h2><p class=\"note\">Hotspot impact = responses × (group happiness − overall happiness): how many points of overall happiness the group costs. Worst first; groups under \(report.range.minimumResponses) responses show “too few responses” and come last.</p>\(table)</section>"
    }

    static func pareto(_ report: DashboardReport) -> String {
        let lost = report.lostTime
        let text =
            lost.paretoShare.map {
                "\(DashboardFormat.percent($0)) of tickets cause 80% of the lost time (\(DashboardFormat.count(lost.tickets)) tickets answered the question, \(DashboardFormat.duration(minutes: Double(lost.minutesTotal))) lost in total)."
            }
            ?? "No lost time was reported in this range."
        let chart = SVGChart.pareto(lost, id: "pareto", description: text)
        var table =
            "<table><thead><tr><th>Lost time answered</th><th>Tickets</th><th>Share of tickets</th><th>Lost time</th><th>Share of lost time</th></tr></thead><tbody>"
        for bucket in lost.buckets.reversed() {
            table +=
                "<tr><td>\(SVGChart.escape(bucket.label))</td><td class=\"num\">\(DashboardFormat.count(bucket.tickets))</td><td class=\"num\">\(lost.tickets > 0 ? DashboardFormat.percent(Double(bucket.tickets) / Double(lost.tickets)) : "—")</td>"
                + "<td class=\"num\">\(DashboardFormat.duration(minutes: Double(bucket.minutesTotal)))</td><td class=\"num\">\(lost.minutesTotal > 0 ? DashboardFormat.percent(Double(bucket.minutesTotal) / Double(lost.minutesTotal)) : "—")</td></tr>"
        }
        table += "</tbody></table>"
        return
            "<section aria-labelledby=\"pareto-h\"><h2 id=\"pareto-h\">Where lost time concentrates</h2><div class=\"split\"><figure>\(chart)<figcaption>\(SVGChart.escape(text))</figcaption></figure><div>\(table)</div></div></section>"
    }

    static func reassignments(_ report: DashboardReport) -> String {
        let items = report.reassignments.map {
            (label: "\($0.value) reassignment\($0.value == "1" ? "" : "s")", value: $0.figures.happiness, text: happinessText($0.figures))
        }
        let text = items.map { "\($0.label): \($0.text)" }.joined(separator: "; ")
        let chart = SVGChart.bars(
            items, id: "reassign", title: "Happiness by number of reassignments", description: text, height: 200,
            barClass: { $0 >= 0 ? "bar" : "bar-neg" })
        var table = "<table><thead><tr><th>Reassignments</th><th>Responses</th><th>Happiness</th><th>Avg lost time</th></tr></thead><tbody>"
        for row in report.reassignments {
            table +=
                "<tr><td>\(SVGChart.escape(row.value))</td><td class=\"num\">\(DashboardFormat.count(row.figures.responses))</td><td class=\"num\">\(happinessText(row.figures))</td><td class=\"num\">\(row.figures.averageLostTime ?? "—")</td></tr>"
        }
        table += "</tbody></table>"
        return figure(
            id: "re-h", title: "Happiness by number of reassignments", chart: chart,
            caption: "Each time a ticket is passed to another group, happiness drops. \(text).", table: table)
    }

    static func comments(_ report: DashboardReport) -> String {
        let notice = report.commentsNotice.map { "<p class=\"note retention\">\(SVGChart.escape($0))</p>" } ?? ""
        guard !report.comments.isEmpty else {
            return "<section><h2>Latest comments</h2>\(notice)<p class=\"note\">No comments in this range.</p></section>"
        }
        var html = "<section aria-labelledby=\"c-h\"><h2 id=\"c-h\">Latest comments</h2>\(notice)<ol class=\"comments\">"
        for c in report.comments {
            let lost = c.lostMinutes.map { "lost \(DashboardFormat.duration(minutes: Double($0)))" } ?? "lost time not answered"
            html +=
                "<li class=\"comment band-\(c.band.rawValue)-edge\"><div class=\"c-head\"><span class=\"score band-\(c.band.rawValue)\">\(c.score)</span> "
                + "<span class=\"muted\">\(SVGChart.escape(c.answeredAt)) · \(SVGChart.escape(c.kind)) · \(SVGChart.escape(c.service ?? "no service")) · \(SVGChart.escape(c.assignee ?? "unassigned")) · \(lost)</span></div>"
                + "<p>\(SVGChart.escape(c.comment))</p>"
                + (c.factorLabels.isEmpty
                    ? "" : "<div class=\"tags\">" + c.factorLabels.map { "<span class=\"tag\">\(SVGChart.escape($0))</span>" }.joined() + "</div>")
                + "</li>"
        }
        return html + "</ol></section>"
    }

    static func figure(id: String, title: String, chart: String, caption: String, table: String) -> String {
        "<section aria-labelledby=\"\(id)\"><h2 id=\"\(id)\">\(SVGChart.escape(title))</h2><figure>\(chart)<figcaption>\(SVGChart.escape(caption))</figcaption></figure><details><summary>Numbers</summary>\(table)</details></section>"
    }

    static let footer = """
        <footer><p>Happiness = % of 9–10 answers − % of 0–6 answers (−100 to +100), ± its 95% margin of error. Response rate = responses ÷ invitations sent. \
        Lost time = mean over the responses that answered the lost-time question. Generated by happydesk.</p></footer>
        """

    static let css = """
        :root{--pos:#1a7f5a;--neu:#c08a00;--neg:#c0392b;--ink:#1d2433;--muted:#667085;--line:#e4e7ec;--accent:#2e6bd6;--bg:#f6f7f9}
        *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
        header{background:#1d2433;color:#fff;padding:20px 32px}header h1{margin:0 0 4px;font-size:24px}.meta{margin:0;color:#c9d1e0;font-size:13px}
        main{max-width:1040px;margin:0 auto;padding:16px 24px 32px}section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin:16px 0}
        h2{font-size:18px;margin:0 0 10px}h3{font-size:15px;margin:18px 0 8px}.note,.muted{color:var(--muted);font-size:13px}
        .summary{border-left:5px solid var(--accent)}.summary ul{margin:0;padding-left:20px}.summary li{margin:4px 0}
        .cards{display:grid;grid-template-columns:repeat(5,1fr);gap:12px}.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px}
        .card-title{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}.card-value{font-size:26px;font-weight:650;margin:2px 0}
        .card-delta{font-size:12px}.card-delta.up{color:var(--pos)}.card-delta.down{color:var(--neg)}.card-delta.flat{color:var(--muted)}
        figure{margin:0}figcaption{font-size:13px;color:var(--muted);margin-top:4px}svg.chart{display:block;height:auto}
        .grid{stroke:var(--line);stroke-width:1}.zero{stroke:#98a2b3;stroke-width:1}.axis{font-size:11px;fill:var(--muted)}.label{font-size:11px;fill:var(--ink);font-weight:600}
        .volume{fill:#d0d5dd}.ma{fill:none;stroke:var(--accent);stroke-width:2}.period{fill:none;stroke:var(--ink);stroke-width:1.5;stroke-dasharray:4 3}.dot{fill:var(--ink)}
        .bar{fill:var(--pos)}.bar-neg{fill:var(--neg)}.bar-lost{fill:#7a5af8}.muted{fill:var(--muted)}
        .band-positive{fill:var(--pos);background:var(--pos)}.band-neutral{fill:var(--neu);background:var(--neu)}.band-negative{fill:var(--neg);background:var(--neg)}
        .bands{display:grid;grid-template-columns:1fr 1fr;gap:12px}.multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:8px}
        .multiple{border:1px solid var(--line);border-radius:6px;padding:6px 8px;font-size:12px}.multiple.flagged{border-color:var(--accent);background:#eef4ff}
        .m-title{font-weight:600}.m-foot{color:var(--muted)}.spark{fill:none;stroke-width:2}.band-positive-line{stroke:var(--pos)}.band-neutral-line{stroke:var(--neu)}.band-negative-line{stroke:var(--neg)}.spark-end{fill:var(--ink)}
        table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left}th{color:var(--muted);font-weight:600}
        td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}tr.small td{color:var(--muted)}
        .impact-bar{display:inline-block;height:8px;border-radius:2px;vertical-align:middle;margin-left:6px}.impact-bar.neg{background:var(--neg)}.impact-bar.pos{background:var(--pos)}
        details summary{cursor:pointer;color:var(--accent);font-size:13px;margin-top:6px}.split{display:grid;grid-template-columns:340px 1fr;gap:16px;align-items:start}
        .pareto{fill:none;stroke:#7a5af8;stroke-width:2.5}.diag{stroke:var(--line);stroke-dasharray:4 4}.marker{stroke:var(--neg);stroke-dasharray:3 3}
        .comments{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:1fr 1fr;gap:10px}.comment{border:1px solid var(--line);border-radius:8px;padding:8px 12px}
        .comment p{margin:6px 0;white-space:pre-wrap;overflow-wrap:anywhere}.score{display:inline-block;min-width:26px;text-align:center;color:#fff;border-radius:5px;font-weight:700;padding:1px 6px}
        .band-positive-edge{border-left:4px solid var(--pos)}.band-neutral-edge{border-left:4px solid var(--neu)}.band-negative-edge{border-left:4px solid var(--neg)}
        .tag{display:inline-block;background:#f2f4f7;border-radius:10px;padding:1px 8px;margin:2px 4px 0 0;font-size:12px}
        footer{max-width:1040px;margin:0 auto;padding:0 24px 24px;color:var(--muted);font-size:12px}
        @media (max-width:800px){.cards{grid-template-columns:1fr 1fr}.bands,.split,.comments{grid-template-columns:1fr}}
        @media print{body{background:#fff;font-size:12px}header{background:#fff;color:#000;border-bottom:2px solid #000}.meta{color:#333}section{break-inside:avoid;border:none;padding:8px 0}details>*{display:block}details summary{display:none}}
        """
}
