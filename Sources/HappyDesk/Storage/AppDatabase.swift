import Foundation
import GRDB

/// Opens the SQLite database (WAL, foreign keys on) and applies the numbered SQL files of `Migrations/`.
public enum AppDatabase {
    /// Opens or creates the database file, creating its folder when needed.
    public static func open(path: String, readOnly: Bool = false) throws -> DatabasePool {
        let url = URL(fileURLWithPath: path)
        if !readOnly {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.readonly = readOnly
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // WAL + NORMAL survives a process crash with every committed transaction; FULL adds power loss,
            // and group commit (WriteBatcher) keeps its fsync cost per batch, not per request.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return try DatabasePool(path: path, configuration: config)
    }

    /// One GRDB migration per file `NNNN_name.sql`, registered in file-name order.
    public static func migrator(directory: URL) throws -> DatabaseMigrator {
        let files = try migrationFiles(in: directory)
        var migrator = DatabaseMigrator()
        for file in files {
            let sql = try String(contentsOf: file, encoding: .utf8)
            let name = file.deletingPathExtension().lastPathComponent
            migrator.registerMigration(name) { db in
                try db.execute(sql: sql)
            }
        }
        return migrator
    }

    static func migrationFiles(in directory: URL) throws -> [URL] {
        let urls: [URL]
        do {
            urls = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        } catch {
            throw StartupError("migrations folder \(directory.path) cannot be read")
        }
        let files = urls.filter { $0.pathExtension == "sql" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        for file in files where file.lastPathComponent.prefix(while: \.isNumber).count != 4 {
            throw StartupError("migration file \(file.lastPathComponent) must be named NNNN_name.sql")
        }
        guard !files.isEmpty else { throw StartupError("no migration files in \(directory.path)") }
        return files
    }

    /// Applies pending migrations and returns the names of those applied now.
    @discardableResult
    public static func migrate(_ writer: any DatabaseWriter, directory: URL) throws -> [String] {
        let migrator = try migrator(directory: directory)
        let before = try writer.read { try migrator.appliedIdentifiers($0) }
        try migrator.migrate(writer)
        let after = try writer.read { try migrator.appliedIdentifiers($0) }
        return after.subtracting(before).sorted()
    }

    /// Refuses to run against a database that is missing migrations this build knows about.
    public static func checkMigrated(_ reader: any DatabaseReader, directory: URL) throws {
        let migrator = try migrator(directory: directory)
        let complete = try reader.read { try migrator.hasCompletedMigrations($0) }
        guard complete else {
            throw StartupError("database is not migrated: run `happydesk migrate` first")
        }
    }
}

/// A failure at start-up with a message fit for a one-line CLI error.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Lets the CLI hold a pool without importing GRDB itself.
public typealias DatabasePoolHandle = DatabasePool

/// Opens the storage the settings name: PostgreSQL when `databaseURL` is set, else the SQLite file.
public enum StorageOpener {
    public static func open(settings: Settings, poolSize: Int = 8) throws -> any AppStorage {
        if let url = settings.databaseURL {
            do {
                return try PostgresStorage(url: url, poolSize: poolSize)
            } catch let error as StorageUnavailable {
                throw StartupError(error.description)
            }
        }
        do {
            return try SQLiteStorage.open(path: settings.databasePath)
        } catch {
            throw StartupError("cannot open database \(settings.databasePath): \(error)")
        }
    }

    /// Opens and applies pending migrations; returns the storage and the names applied now.
    public static func openMigrated(settings: Settings, poolSize: Int = 8) throws -> (any AppStorage, [String]) {
        let storage = try open(settings: settings, poolSize: poolSize)
        do {
            return (storage, try storage.migrate(directory: settings.migrationsDirectory))
        } catch let error as StorageUnavailable {
            throw StartupError(error.description)
        }
    }
}
