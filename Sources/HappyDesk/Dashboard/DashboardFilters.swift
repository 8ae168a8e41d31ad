import Foundation

/// What a dashboard covers: a date range, a period size, the breakdown dimension, the ticket kind and the
/// small-group minimum. The CLI flags and the HTTP query parameters parse through the same `init(raw…)`,
/// so both reject bad input with the same one-line message.
public struct DashboardFilters: Sendable, Equatable {
    public enum Period: String, Sendable, CaseIterable, Codable {
        case day, week, month
    }

    public enum Dimension: String, Sendable, CaseIterable, Codable {
        case service, group, channel, country, assignee, kind, source

        public var title: String {
            switch self {
            case .service: "Service"
            case .group: "Group"
            case .channel: "Channel"
            case .country: "Country"
            case .assignee: "Assignee"
            case .kind: "Kind"
            case .source: "Source"
            }
        }
    }

    /// First and last day included, `YYYY-MM-DD` (UTC); nil means "from the data".
    public var from: String?
    public var to: String?
    public var period: Period
    public var dimension: Dimension
    public var kind: TicketKind?
    /// Groups with fewer responses show "too few responses" instead of a score.
    public var minimumResponses: Int
    /// How many latest comments to show.
    public var commentLimit: Int
    /// The groups and services the report is restricted to: the `group`/`service` filters, within the
    /// reader's scope (`DashboardScope.resolve`). `.all` reads the roll-ups; anything else reads per response.
    public var scope: DashboardScope = .all

    public init(
        from: String? = nil, to: String? = nil, period: Period = .month, dimension: Dimension = .service, kind: TicketKind? = nil,
        minimumResponses: Int = 5, commentLimit: Int = 20
    ) {
        self.from = from
        self.to = to
        self.period = period
        self.dimension = dimension
        self.kind = kind
        self.minimumResponses = minimumResponses
        self.commentLimit = commentLimit
    }

    /// Parses raw strings (flags or query parameters); empty strings count as absent.
    public init(from: String?, to: String?, period: String?, by: String?, kind: String?, minimum: String?) throws(DashboardInputError) {
        func present(_ value: String?) -> String? {
            guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        self.init()
        if let raw = present(period) {
            guard let parsed = Period(rawValue: raw.lowercased()) else {
                throw DashboardInputError("unknown period '\(TextLimit.preview(raw, 40))': use day, week or month")
            }
            self.period = parsed
        }
        if let raw = present(by) {
            guard let parsed = Dimension(rawValue: raw.lowercased()) else {
                throw DashboardInputError(
                    "unknown dimension '\(TextLimit.preview(raw, 40))': use \(Dimension.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.dimension = parsed
        }
        if let raw = present(kind) {
            guard let parsed = TicketKind(rawValue: raw.lowercased()) else {
                throw DashboardInputError("unknown kind '\(TextLimit.preview(raw, 40))': use incident or request")
            }
            self.kind = parsed
        }
        if let raw = present(minimum) {
            guard let parsed = Int(raw), parsed >= 1, parsed <= 1_000_000 else {
                throw DashboardInputError("minimum responses must be a whole number from 1 to 1000000, not '\(TextLimit.preview(raw, 40))'")
            }
            self.minimumResponses = parsed
        }
        self.from = try present(from).map { value throws(DashboardInputError) in try DashboardDay.validate(value, name: "from") }
        self.to = try present(to).map { value throws(DashboardInputError) in try DashboardDay.validate(value, name: "to") }
        if let start = self.from, let end = self.to, start > end {
            throw DashboardInputError("--from \(start) is after --to \(end)")
        }
        try Self.checkRange(from: self.from, to: self.to)
    }
}

extension DashboardFilters {
    /// The first and last day a dashboard may ask for, and its longest span: a report walks every day of its
    /// range, so a range from year 1 to 9999 would be millions of days of work for one request.
    public static let earliestDay = "2000-01-01"
    public static let latestDay = "2100-12-31"
    public static let maximumSpanDays = 3660

    static func checkRange(from: String?, to: String?) throws(DashboardInputError) {
        for (name, day) in [("from", from), ("to", to)] {
            guard let day else { continue }
            guard day >= earliestDay && day <= latestDay else {
                throw DashboardInputError("--\(name) must be a day from \(earliestDay) to \(latestDay), not '\(day)'")
            }
        }
        if let from, let to, let first = DashboardDay.dayNumber(from), let last = DashboardDay.dayNumber(to), last - first + 1 > maximumSpanDays {
            throw DashboardInputError(
                "--from \(from) to --to \(to) is \(last - first + 1) days: a dashboard covers at most \(maximumSpanDays) days (about 10 years)")
        }
    }
}

/// Which assignment groups and services a report counts; nil means any. Names match closures' `group` and
/// `service` ignoring ASCII case (`Scope.fold`).
public struct DashboardScope: Sendable, Equatable {
    public var groups: [String]?
    public var services: [String]?

    public init(groups: [String]? = nil, services: [String]? = nil) {
        self.groups = groups
        self.services = services
    }

    public static let all = DashboardScope()
    public var isAll: Bool { groups == nil && services == nil }

    /// The scope of a report for a reader with `scope` who asked for `group` and/or `service` (nil: not asked).
    /// No filter means the reader's whole scope; a filter outside it is refused (403), never answered with data.
    public static func resolve(_ scope: Scope, group: String?, service: String?) throws -> DashboardScope {
        func present(_ value: String?) -> String? {
            guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        let group = present(group)
        let service = present(service)
        for (name, value) in [("group", group), ("service", service)] {
            if let value, !TextLimit.fits(value, max: ScopeNames.maxLength) {
                throw AppError.badRequest("\(name) must be at most \(ScopeNames.maxLength) characters")
            }
        }
        var result = DashboardScope(groups: group.map { [$0] }, services: service.map { [$0] })
        switch scope {
        case .everything:
            break
        case .groups(let mine):
            if let group, !Scope.contains(mine, group) {
                throw AppError(.forbidden, code: "out_of_scope", "group '\(TextLimit.preview(group, 60))' is \(scope.outsideDescription)")
            }
            if group == nil { result.groups = mine }
        case .services(let mine):
            if let service, !Scope.contains(mine, service) {
                throw AppError(.forbidden, code: "out_of_scope", "service '\(TextLimit.preview(service, 60))' is \(scope.outsideDescription)")
            }
            if service == nil { result.services = mine }
        case .ownAssignee, .nothing:
            throw AppError(.forbidden, code: "forbidden", "the dashboard needs the role manager, admin, lead or owner")
        }
        return result
    }
}

/// A dashboard request the user can fix: bad flag or parameter, or an unusable database.
public struct DashboardInputError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Calendar arithmetic on `YYYY-MM-DD` day strings in UTC, the unit of the roll-ups.
public enum DashboardDay {
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        calendar.firstWeekday = 2
        return calendar
    }()

    /// Accepts `YYYY-MM-DD` (or a longer timestamp starting with one and a `T` or a space) and returns the day.
    ///
    /// Reads the first ten UTF-8 bytes, not characters: a combining mark after the last digit would
    /// otherwise ride along inside the tenth "character".
    static func validate(_ raw: String, name: String) throws(DashboardInputError) -> String {
        let bytes = raw.utf8
        let rest = bytes.dropFirst(10)
        let day = String(decoding: bytes.prefix(10), as: UTF8.self)
        guard bytes.count >= 10, rest.first.map({ $0 == UInt8(ascii: "T") || $0 == UInt8(ascii: " ") }) ?? true,
            dayNumber(day) != nil, let parsed = date(day), string(parsed) == day
        else {
            throw DashboardInputError("--\(name) must be a date like 2026-11-01, not '\(TextLimit.preview(raw, 40))'")
        }
        return day
    }

    public static func date(_ day: String) -> Date? {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }

    public static func string(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// Moves a day by whole days. Integer date arithmetic (no Calendar): reports call this thousands of times.
    public static func adding(_ days: Int, to day: String) -> String {
        guard let number = dayNumber(day) else { return day }
        return string(dayNumber: number + days)
    }

    /// Days since 1970-01-01 for a `YYYY-MM-DD` string (Howard Hinnant's days-from-civil).
    static func dayNumber(_ day: String) -> Int? {
        let bytes = Array(day.utf8)
        guard bytes.count >= 10, bytes[4] == 45, bytes[7] == 45 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let b = bytes[index]
                guard b >= 48 && b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            return value
        }
        guard var y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        y -= m <= 2 ? 1 : 0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `YYYY-MM-DD` for days since 1970-01-01 (civil-from-days).
    static func string(dayNumber: Int) -> String {
        let (y, m, d) = CivilDate.fromDays(dayNumber)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Every day from `first` to `last` inclusive.
    public static func range(_ first: String, _ last: String) -> [String] {
        var days: [String] = []
        var day = first
        while day <= last && days.count < 100_000 {
            days.append(day)
            day = adding(1, to: day)
        }
        return days
    }

    /// The first day of the period holding `day`: itself, its ISO week's Monday, or the 1st of its month.
    public static func periodStart(_ day: String, _ period: DashboardFilters.Period) -> String {
        switch period {
        case .day: return day
        case .month: return String(day.prefix(8)) + "01"
        case .week:
            guard let number = dayNumber(day) else { return day }
            // 1970-01-01 was a Thursday: (n + 3) mod 7 counts days since Monday.
            return string(dayNumber: number - ((number + 3) % 7 + 7) % 7)
        }
    }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let fullMonthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    /// "Nov 2026", "w/c 16 Nov", "16 Nov".
    public static func label(_ start: String, _ period: DashboardFilters.Period, long: Bool = false) -> String {
        let parts = start.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]) else { return start }
        let month = (long ? fullMonthNames : monthNames)[parts[1] - 1]
        switch period {
        case .month: return long ? "\(month) \(parts[0])" : "\(month) \(parts[0])"
        case .week: return long ? "the week of \(parts[2]) \(month)" : "w/c \(parts[2]) \(month)"
        case .day: return "\(parts[2]) \(month)"
        }
    }
}
