import Foundation
import GRDB

/// Dates as GRDB stores them (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), written without `DateFormatter`, whose
/// ICU formatting was a measurable share of every write on the submission path. GRDB reads the text back
/// into the same `Date` (to the millisecond).
enum SQLiteDate {
    static func string(_ date: Date) -> String {
        // Milliseconds rounded to nearest, as GRDB's formatter does.
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let time = UTCTime(seconds: seconds)
        guard (0...9999).contains(time.year) else { return String.fromDatabaseValue(date.databaseValue) ?? "" }
        return time.dateTime(separator: " ") + "." + UTCTime.padded(milliseconds - seconds * 1000, 3)
    }
}
