import Foundation
import GRDB

/// Dates as GRDB stores them (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), written without `DateFormatter`, whose
/// ICU formatting was a measurable share of every write on the submission path. GRDB reads the text back
/// into the same `Date` (to the millisecond).
enum SQLiteDate {
    static func string(_ date: Date) -> String {
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let (year, month, day) = CivilDate.fromDays(days)
        guard (0...9999).contains(year) else { return String.fromDatabaseValue(date.databaseValue) ?? "" }
        let time = seconds - days * 86_400
        let millis = milliseconds - seconds * 1000
        var text = ""
        text.reserveCapacity(23)
        func pad(_ value: Int, _ width: Int) {
            let digits = String(value)
            if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
            text += digits
        }
        pad(year, 4); text += "-"; pad(month, 2); text += "-"; pad(day, 2); text += " "
        pad(time / 3600, 2); text += ":"; pad(time / 60 % 60, 2); text += ":"; pad(time % 60, 2); text += "."; pad(millis, 3)
        return text
    }
}
