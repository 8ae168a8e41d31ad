import Foundation
import GRDB

/// Opens an existing database for the dashboard without creating or migrating it: generating a report never
/// changes the data (it only folds pending changes into the derived roll-ups, see `Rollups`), and pointing it
/// at the wrong path must fail with one clear line.
public enum DashboardDatabase {
    public static func openForReading(path: String, migrations: URL) throws -> SQLiteStorage {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw DashboardInputError("no database at \(path): run `happydesk migrate` or `happydesk demo`, or pass --database")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw DashboardInputError("database \(path) is not readable")
        }
        let pool: DatabasePool
        do {
            pool = try AppDatabase.open(path: path)
            try pool.read { db in _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
        } catch let error as DatabaseError {
            throw DashboardInputError("cannot read database \(path): \(error.message ?? "\(error.resultCode)")")
        }
        do {
            try AppDatabase.checkMigrated(pool, directory: migrations)
        } catch let error as StartupError {
            throw DashboardInputError("\(path): \(error.description)")
        }
        return SQLiteStorage(pool: pool, path: path)
    }

    /// The same for a PostgreSQL URL: it must be reachable and migrated.
    public static func openForReading(url: String, migrations: URL) throws -> PostgresStorage {
        let storage: PostgresStorage
        do {
            storage = try PostgresStorage(url: url, poolSize: 2)
        } catch let error as StorageUnavailable {
            throw DashboardInputError(error.description)
        } catch let error as StartupError {
            throw DashboardInputError(error.description)
        }
        do {
            try storage.checkMigrated(directory: migrations)
        } catch let error as StartupError {
            throw DashboardInputError("\(storage.displayName): \(error.description)")
        }
        return storage
    }
}
