import Foundation

/// Calendar arithmetic for UTC dates without `Calendar` or `DateFormatter`, which cost more than the work
/// around them on hot paths (email headers, dashboard days, demo data).
enum CivilDate {
    /// Year, month (1–12) and day (1–31) for a count of days since 1970-01-01
    /// (Howard Hinnant's civil_from_days).
    static func fromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970-01-01 for a civil date (Howard Hinnant's days_from_civil).
    static func toDays(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// Calendar fields of a UTC instant by plain arithmetic: creating a Foundation `Calendar` or
/// `DateFormatter` per email, per event or per stored timestamp costs more than the work around it.
struct UTCTime {
    var year: Int
    /// 1–12.
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    /// 0 = Sunday.
    var weekday: Int

    init(_ date: Date) {
        self.init(seconds: Int(date.timeIntervalSince1970.rounded(.down)))
    }

    /// From whole seconds since 1970-01-01T00:00:00Z.
    init(seconds: Int) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        hour = rest / 3600
        minute = rest % 3600 / 60
        second = rest % 60
        weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday
        (year, month, day) = CivilDate.fromDays(days)
    }

    /// `value` in decimal with leading zeros to `width` digits.
    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count < width ? String(repeating: "0", count: width - digits.count) + digits : digits
    }

    /// `2026-11-22<separator>09:30:00`.
    func dateTime(separator: String) -> String {
        let p = Self.padded
        return "\(p(year, 4))-\(p(month, 2))-\(p(day, 2))\(separator)\(p(hour, 2)):\(p(minute, 2)):\(p(second, 2))"
    }
}
