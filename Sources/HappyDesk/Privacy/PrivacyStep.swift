import Foundation

/// One bounded batch of a retention pass over one table: what it changed, per table, and the last id it looked
/// at (the cursor of the next batch; nil when the table has no more rows to look at).
public struct PrivacyStep: Sendable {
    public var counts: [String: Int]
    public var lastID: Int64?

    public init(counts: [String: Int] = [:], lastID: Int64?) {
        self.counts = counts
        self.lastID = lastID
    }
}

/// Counts per table, merged over batches.
public struct PrivacyCounts: Sendable, Equatable {
    public private(set) var tables: [String: Int] = [:]

    public init() {}

    public mutating func add(_ table: String, _ count: Int) {
        tables[table, default: 0] += count
    }

    public mutating func add(_ other: [String: Int]) {
        for (table, count) in other { add(table, count) }
    }

    public var total: Int { tables.values.reduce(0, +) }

    /// "closures 2, invitations 2, …" in a fixed order, for logs and the CLI.
    public var lines: [(String, Int)] { tables.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
}
