import GRDB

extension Database {
    /// `execute(sql:arguments:)` through GRDB's statement cache: repeated statements on hot paths (the
    /// outbox, intake) skip SQLite's compile and GRDB's authorizer, which profiling showed dominating them.
    func executeCached(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
