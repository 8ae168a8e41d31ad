import Foundation

/// A value as both backends store it: the five SQLite storage classes, which PostgreSQL's BIGINT, DOUBLE
/// PRECISION, TEXT and BYTEA columns map onto one to one (see `Migrations/postgres/`). Stores bind and read
/// only these, so one SQL text and one decoding serve SQLite and PostgreSQL alike.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift value a store may bind as a statement argument.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

/// A Swift value a store may read from a column.
public protocol SQLDecodable {
    /// `nil` when the column holds something this type cannot represent.
    static func decode(_ value: SQLValue) -> Self?
}

extension SQLValue: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { self }
    public static func decode(_ value: SQLValue) -> SQLValue? { value }
}

extension Int64: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .integer(self) }
    public static func decode(_ value: SQLValue) -> Int64? {
        switch value {
        case .integer(let v): return v
        case .real(let v): return v.isFinite && v.rounded() == v ? Int64(exactly: v) : nil
        case .text(let v): return Int64(v)
        default: return nil
        }
    }
}

extension Int: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public static func decode(_ value: SQLValue) -> Int? { Int64.decode(value).map { Int($0) } }
}

extension Double: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .real(self) }
    public static func decode(_ value: SQLValue) -> Double? {
        switch value {
        case .integer(let v): return Double(v)
        case .real(let v): return v
        case .text(let v): return Double(v)
        default: return nil
        }
    }
}

extension Bool: SQLBindable, SQLDecodable {
    /// Booleans are 0 and 1 on both backends (BIGINT columns on PostgreSQL).
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public static func decode(_ value: SQLValue) -> Bool? { Int64.decode(value).map { $0 != 0 } }
}

extension String: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .text(self) }
    public static func decode(_ value: SQLValue) -> String? {
        switch value {
        case .text(let v): return v
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .blob(let v): return String(decoding: v, as: UTF8.self)
        case .null: return nil
        }
    }
}

extension Substring: SQLBindable {
    public var sqlValue: SQLValue { .text(String(self)) }
}

extension Data: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .blob([UInt8](self)) }
    public static func decode(_ value: SQLValue) -> Data? {
        switch value {
        case .blob(let v): return Data(v)
        case .text(let v): return Data(v.utf8)
        default: return nil
        }
    }
}

extension Date: SQLBindable, SQLDecodable {
    /// The one date codec: see `SQLDate`.
    public var sqlValue: SQLValue { .text(SQLDate.string(self)) }
    public static func decode(_ value: SQLValue) -> Date? {
        guard case .text(let text) = value else { return nil }
        return SQLDate.parse(text)
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    public static func decode(_ value: SQLValue) -> Wrapped?? {
        if case .null = value { return .some(nil) }
        guard let wrapped = Wrapped.decode(value) else { return nil }
        return .some(wrapped)
    }
}

/// Enums stored as their raw text (statuses, purposes, channels, roles).
extension RawRepresentable where RawValue == String, Self: Sendable {
    public var sqlValue: SQLValue { .text(rawValue) }
    public static func decode(_ value: SQLValue) -> Self? { String.decode(value).flatMap(Self.init(rawValue:)) }
}

/// One result row: values by position, as the SELECT lists them.
public struct SQLRow: Sendable, Equatable {
    public var values: [SQLValue]
    public var columns: [String]

    public init(values: [SQLValue], columns: [String]) {
        self.values = values
        self.columns = columns
    }

    public var count: Int { values.count }

    /// The column at `index`, decoded; a value the type cannot hold is a bug in the store's SQL, as in GRDB.
    public subscript<T: SQLDecodable>(_ index: Int) -> T {
        guard index < values.count else { preconditionFailure("SQLRow has no column \(index) (\(columns))") }
        guard let decoded = T.decode(values[index]) else {
            preconditionFailure("column \(columns[index]) holds \(values[index]), not \(T.self)")
        }
        return decoded
    }

    /// The column named `name` (the first with that name), decoded.
    public subscript<T: SQLDecodable>(_ name: String) -> T {
        guard let index = columns.firstIndex(of: name) else { preconditionFailure("SQLRow has no column \(name) (\(columns))") }
        return self[index]
    }
}

/// The one date codec of both backends: UTC text `yyyy-MM-dd HH:mm:ss.SSS`, which sorts as time does, so the same
/// comparisons, `BETWEEN`s and day prefixes give the same answers on SQLite and PostgreSQL. Written and parsed
/// without `DateFormatter`, whose ICU formatting was a measurable share of every write on the submission path.
public enum SQLDate {
    public static func string(_ date: Date) -> String {
        // Beyond what the text form holds (years 0000–9999), and never a trap on an infinite or huge date.
        let interval = date.timeIntervalSince1970
        guard interval.isFinite, interval > -62_167_219_200, interval < 253_402_300_800 else {
            return interval > 0 ? "9999-12-31 23:59:59.999" : "0000-01-01 00:00:00.000"
        }
        let milliseconds = Int((interval * 1000).rounded())
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let time = UTCTime(seconds: seconds)
        guard (0...9999).contains(time.year) else { return time.year < 0 ? "0000-01-01 00:00:00.000" : "9999-12-31 23:59:59.999" }
        return time.dateTime(separator: " ") + "." + UTCTime.padded(milliseconds - seconds * 1000, 3)
    }

    /// Reads `yyyy-MM-dd`, `yyyy-MM-dd HH:mm[:ss[.SSS]]` (or with `T`, with an optional `Z`), as UTC.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + count] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 10, bytes[4] == 45, bytes[7] == 45, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var millisecond = 0
        if bytes.count > 10 {
            guard bytes[10] == 32 || bytes[10] == 84, let h = number(11, 2), bytes.count > 13, bytes[13] == 58, let m = number(14, 2) else {
                return nil
            }
            hour = h
            minute = m
            var index = 16
            if index < bytes.count, bytes[index] == 58 {
                guard let s = number(index + 1, 2) else { return nil }
                second = s
                index += 3
                if index < bytes.count, bytes[index] == 46 {
                    var digits = 0
                    var fraction = 0
                    index += 1
                    while index < bytes.count, (48...57).contains(bytes[index]) {
                        if digits < 3 {
                            fraction = fraction * 10 + Int(bytes[index] - 48)
                            digits += 1
                        }
                        index += 1
                    }
                    guard digits > 0 else { return nil }
                    while digits < 3 {
                        fraction *= 10
                        digits += 1
                    }
                    millisecond = fraction
                }
            }
            if index < bytes.count, bytes[index] == 90 { index += 1 }
            guard index == bytes.count, hour < 24, minute < 60, second < 61 else { return nil }
        }
        let days = CivilDate.toDays(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(millisecond) / 1000)
    }
}
