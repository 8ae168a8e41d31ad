import Foundation

/// Small inline-SVG chart primitives for the dashboard. Plain strings, no script, no external fonts, so the
/// page stays one self-contained file that prints. Every chart carries a `<title>` and `<desc>` for screen
/// readers; the page puts the same numbers in a table beside it.
enum SVGChart {
    static func escape(_ text: String) -> String { HTML.escape(text) }

    static func n(_ value: Double) -> String { String(format: "%.1f", value) }

    static func open(width: Int, height: Int, id: String, title: String, description: String) -> String {
        """
        <svg class="chart" viewBox="0 0 \(width) \(height)" width="100%" role="img" aria-labelledby="\(id)-t \(id)-d" xmlns="http://www.w3.org/2000/svg">\
        <title id="\(id)-t">\(escape(title))</title><desc id="\(id)-d">\(escape(description))</desc>
        """
    }

    /// Happiness trend: response volume as grey bars per period (right scale), period happiness as dots with
    /// labels, and the volume-weighted 7-day moving average as a line over days.
    static func happinessTrend(_ report: DashboardReport, id: String, description: String) -> String {
        let width = 960.0, height = 300.0, left = 44.0, right = 50.0, top = 20.0, bottom = 36.0
        let plotW = width - left - right, plotH = height - top - bottom
        let days = report.days
        guard !days.isEmpty else { return "" }
        let dayIndex = Dictionary(uniqueKeysWithValues: days.enumerated().map { ($1.day, $0) })
        let step = plotW / Double(days.count)
        func x(_ day: String) -> Double { left + (Double(dayIndex[day] ?? 0) + 0.5) * step }
        let values = report.periods.compactMap(\.figures.happiness) + days.compactMap(\.movingAverage7d)
        let lowRounded = max(-100, (((values.min() ?? 0) - 10) / 10).rounded(.down) * 10)
        let high = min(100, (((values.max() ?? 100) + 10) / 10).rounded(.up) * 10)
        let span = max(high - lowRounded, 10)
        func y(_ v: Double) -> Double { top + (high - v) / span * plotH }
        let maxVolume = Double(report.periods.map(\.figures.responses).max() ?? 1)
        var svg = open(width: Int(width), height: Int(height), id: id, title: "Happiness trend", description: description)
        // Grid and left axis.
        var tick = lowRounded
        while tick <= high {
            svg +=
                "<line x1=\"\(n(left))\" x2=\"\(n(width - right))\" y1=\"\(n(y(tick)))\" y2=\"\(n(y(tick)))\" class=\"\(tick == 0 ? "zero" : "grid")\"/>"
            svg += "<text x=\"\(n(left - 6))\" y=\"\(n(y(tick) + 4))\" class=\"axis\" text-anchor=\"end\">\(DashboardFormat.happiness(tick))</text>"
            tick += span > 60 ? 20 : 10
        }
        // Volume bars.
        for row in report.periods {
            let x0 = x(row.firstDay) - step / 2, x1 = x(row.lastDay) + step / 2
            let h = Double(row.figures.responses) / max(maxVolume, 1) * plotH * 0.25
            svg +=
                "<rect class=\"volume\" x=\"\(n(x0 + 1))\" y=\"\(n(top + plotH - h))\" width=\"\(n(max(x1 - x0 - 2, 1)))\" height=\"\(n(h))\"><title>\(escape(row.label)): \(row.figures.responses) responses</title></rect>"
        }
        svg += "<text x=\"\(n(width - right + 6))\" y=\"\(n(top + plotH))\" class=\"axis\">0</text>"
        svg += "<text x=\"\(n(width - right + 6))\" y=\"\(n(top + plotH * 0.75 + 4))\" class=\"axis\">\(DashboardFormat.count(Int(maxVolume)))</text>"
        // Moving average line, broken where it has too few responses.
        var path = ""
        var pen = false
        for row in days {
            if let v = row.movingAverage7d {
                path += "\(pen ? "L" : "M")\(n(x(row.day))),\(n(y(v))) "
                pen = true
            } else {
                pen = false
            }
        }
        if !path.isEmpty { svg += "<path class=\"ma\" d=\"\(path)\"/>" }
        // Period happiness dots.
        var points: [String] = []
        for row in report.periods {
            guard let v = row.figures.happiness else { continue }
            let cx = (x(row.firstDay) + x(row.lastDay)) / 2
            points.append("\(n(cx)),\(n(y(v)))")
            svg +=
                "<circle class=\"dot\" cx=\"\(n(cx))\" cy=\"\(n(y(v)))\" r=\"5\"><title>\(escape(row.label)): \(DashboardFormat.happiness(v))</title></circle>"
            if report.periods.count <= 16 {
                svg += "<text class=\"label\" x=\"\(n(cx))\" y=\"\(n(y(v) - 10))\" text-anchor=\"middle\">\(DashboardFormat.happiness(v))</text>"
            }
        }
        if points.count > 1 { svg += "<polyline class=\"period\" points=\"\(points.joined(separator: " "))\"/>" }
        // Period labels on the x axis.
        let labelEvery = max(1, report.periods.count / 12)
        for (index, row) in report.periods.enumerated() where index % labelEvery == 0 {
            svg +=
                "<text class=\"axis\" x=\"\(n((x(row.firstDay) + x(row.lastDay)) / 2))\" y=\"\(n(height - 14))\" text-anchor=\"middle\">\(escape(row.label))</text>"
        }
        svg +=
            "<g class=\"legend\"><rect x=\"\(n(left))\" y=\"\(n(height - 10))\" width=\"10\" height=\"8\" class=\"volume\"/><text x=\"\(n(left + 14))\" y=\"\(n(height - 2))\" class=\"axis\">responses</text>"
        svg +=
            "<circle cx=\"\(n(left + 95))\" cy=\"\(n(height - 6))\" r=\"4\" class=\"dot\"/><text x=\"\(n(left + 103))\" y=\"\(n(height - 2))\" class=\"axis\">happiness per \(report.range.period.rawValue)</text>"
        svg +=
            "<line x1=\"\(n(left + 230))\" x2=\"\(n(left + 250))\" y1=\"\(n(height - 6))\" y2=\"\(n(height - 6))\" class=\"ma\"/><text x=\"\(n(left + 255))\" y=\"\(n(height - 2))\" class=\"axis\">7-day moving average (volume-weighted)</text></g>"
        return svg + "</svg>"
    }

    /// Vertical bars, one per label; values may be negative (bars grow from the zero line).
    static func bars(
        _ items: [(label: String, value: Double?, text: String)], id: String, title: String, description: String, height: Double = 220,
        barClass: (Double) -> String = { _ in "bar" }
    ) -> String {
        let width = 960.0, left = 16.0, right = 16.0, top = 22.0, bottom = 30.0
        let plotW = width - left - right, plotH = height - top - bottom
        let values = items.compactMap(\.value)
        let high = max(values.max() ?? 1, 0), low = min(values.min() ?? 0, 0)
        let span = max(high - low, 1)
        func y(_ v: Double) -> Double { top + (high - v) / span * plotH }
        let slot = plotW / Double(max(items.count, 1))
        var svg = open(width: Int(width), height: Int(height), id: id, title: title, description: description)
        svg += "<line x1=\"\(n(left))\" x2=\"\(n(width - right))\" y1=\"\(n(y(0)))\" y2=\"\(n(y(0)))\" class=\"zero\"/>"
        let labelEvery = max(1, items.count / 14)
        for (index, item) in items.enumerated() {
            let x0 = left + Double(index) * slot
            if let v = item.value {
                let y0 = min(y(v), y(0)), h = max(abs(y(v) - y(0)), 1)
                svg +=
                    "<rect class=\"\(barClass(v))\" x=\"\(n(x0 + slot * 0.15))\" y=\"\(n(y0))\" width=\"\(n(slot * 0.7))\" height=\"\(n(h))\"><title>\(escape(item.label)): \(escape(item.text))</title></rect>"
                if items.count <= 16 {
                    svg +=
                        "<text class=\"label\" x=\"\(n(x0 + slot / 2))\" y=\"\(n(v >= 0 ? y0 - 5 : y0 + h + 13))\" text-anchor=\"middle\">\(escape(item.text))</text>"
                }
            } else {
                svg += "<text class=\"axis muted\" x=\"\(n(x0 + slot / 2))\" y=\"\(n(y(0) - 5))\" text-anchor=\"middle\">n/a</text>"
            }
            if index % labelEvery == 0 {
                svg += "<text class=\"axis\" x=\"\(n(x0 + slot / 2))\" y=\"\(n(height - 10))\" text-anchor=\"middle\">\(escape(item.label))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// Horizontal share bars for one band's factors (0–100%).
    static func factorBars(_ rows: [DashboardReport.FactorRow], band: ScoreBand, id: String, description: String) -> String {
        let width = 460.0, rowH = 26.0, labelW = 220.0
        let height = Double(rows.count) * rowH + 10
        var svg = open(
            width: Int(width), height: Int(height), id: id, title: "Factors chosen by \(band.rawValue) respondents", description: description)
        let maxShare = max(rows.compactMap(\.share).max() ?? 0, 0.01)
        for (index, row) in rows.enumerated() {
            let y = 5 + Double(index) * rowH
            let share = row.share ?? 0
            let w = share / maxShare * (width - labelW - 50)
            svg +=
                "<text class=\"axis\" x=\"\(n(labelW - 8))\" y=\"\(n(y + 16))\" text-anchor=\"end\">\(escape(row.label))\(row.flagged ? " ⚑" : "")</text>"
            svg +=
                "<rect class=\"band-\(band.rawValue)\" x=\"\(n(labelW))\" y=\"\(n(y + 4))\" width=\"\(n(max(w, 1)))\" height=\"\(n(rowH - 9))\" rx=\"2\"/>"
            svg += "<text class=\"label\" x=\"\(n(labelW + w + 6))\" y=\"\(n(y + 16))\">\(row.share.map(DashboardFormat.percent) ?? "n/a")</text>"
        }
        return svg + "</svg>"
    }

    /// A small multiple: one factor's share per period, on a 0–max scale shared by its band.
    static func sparkline(_ row: DashboardReport.FactorRow, scale: Double, id: String) -> String {
        let width = 200.0, height = 56.0, pad = 6.0
        let points = row.periods.enumerated().compactMap { index, p -> String? in
            guard let share = p.share else { return nil }
            let x = pad + Double(index) / Double(max(row.periods.count - 1, 1)) * (width - 2 * pad)
            let y = height - pad - share / max(scale, 0.01) * (height - 2 * pad)
            return "\(n(x)),\(n(y))"
        }
        let shares = row.periods.map { $0.share.map(DashboardFormat.percent) ?? "n/a" }.joined(separator: ", ")
        var svg = open(
            width: Int(width), height: Int(height), id: id, title: "\(row.label): share per period",
            description: "Share of \(row.band.rawValue) respondents per period: \(shares)")
        svg += "<line x1=\"\(n(pad))\" x2=\"\(n(width - pad))\" y1=\"\(n(height - pad))\" y2=\"\(n(height - pad))\" class=\"grid\"/>"
        if points.count > 1 { svg += "<polyline class=\"spark band-\(row.band.rawValue)-line\" points=\"\(points.joined(separator: " "))\"/>" }
        if let last = points.last {
            svg += "<circle class=\"spark-end\" cx=\"\(last.split(separator: ",")[0])\" cy=\"\(last.split(separator: ",")[1])\" r=\"3\"/>"
        }
        return svg + "</svg>"
    }

    /// The Pareto curve: cumulative share of lost time against cumulative share of tickets, worst first.
    static func pareto(_ lost: DashboardReport.LostTime, id: String, description: String) -> String {
        let size = 320.0, pad = 40.0
        let plot = size - 2 * pad
        func px(_ v: Double) -> Double { pad + v * plot }
        func py(_ v: Double) -> Double { size - pad - v * plot }
        var svg = open(width: Int(size), height: Int(size), id: id, title: "Lost-time concentration", description: description)
        for t in stride(from: 0.0, through: 1.0, by: 0.2) {
            svg += "<line class=\"grid\" x1=\"\(n(px(0)))\" x2=\"\(n(px(1)))\" y1=\"\(n(py(t)))\" y2=\"\(n(py(t)))\"/>"
            svg += "<text class=\"axis\" x=\"\(n(px(0) - 6))\" y=\"\(n(py(t) + 4))\" text-anchor=\"end\">\(Int(t * 100))%</text>"
            svg += "<text class=\"axis\" x=\"\(n(px(t)))\" y=\"\(n(size - pad + 16))\" text-anchor=\"middle\">\(Int(t * 100))%</text>"
        }
        svg += "<line class=\"diag\" x1=\"\(n(px(0)))\" y1=\"\(n(py(0)))\" x2=\"\(n(px(1)))\" y2=\"\(n(py(1)))\"/>"
        let points = lost.curve.map { "\(n(px($0[0]))),\(n(py($0[1])))" }.joined(separator: " ")
        svg += "<polyline class=\"pareto\" points=\"\(points)\"/>"
        if let share = lost.paretoShare {
            svg += "<line class=\"marker\" x1=\"\(n(px(0)))\" x2=\"\(n(px(share)))\" y1=\"\(n(py(0.8)))\" y2=\"\(n(py(0.8)))\"/>"
            svg += "<line class=\"marker\" x1=\"\(n(px(share)))\" x2=\"\(n(px(share)))\" y1=\"\(n(py(0.8)))\" y2=\"\(n(py(0)))\"/>"
            svg +=
                "<text class=\"label\" x=\"\(n(px(share) + 6))\" y=\"\(n(py(0.8) + 16))\">\(DashboardFormat.percent(share)) of tickets → 80% of lost time</text>"
        }
        svg += "<text class=\"axis\" x=\"\(n(size / 2))\" y=\"\(n(size - 6))\" text-anchor=\"middle\">share of tickets (worst first)</text>"
        return svg + "</svg>"
    }
}
