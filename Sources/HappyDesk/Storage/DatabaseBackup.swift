import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `happydesk backup --out FILE`: a consistent copy of the SQLite database while the server keeps writing.
///
/// SQLite's online backup (`sqlite3_backup`) copies the pages of one read snapshot, a few hundred at a time, so
/// writers are never blocked (WAL): the copy is the database as of the moment the backup started. It is written
/// to a temporary file in the destination's folder, switched to a single-file journal (no `-wal` beside it),
/// checked (`PRAGMA integrity_check`, every migration this build knows applied), and only then renamed into
/// place, so a failed or interrupted backup never leaves a half-written FILE. An existing FILE is replaced only
/// with `force`.
public struct DatabaseBackup: Sendable {
    public let source: SQLiteStorage
    public let migrations: URL
    /// Pages copied per step; between steps writers get the database (and progress is reported).
    public var pagesPerStep: Int32 = 256

    public init(source: SQLiteStorage, migrations: URL) {
        self.source = source
        self.migrations = migrations
    }

    public struct Report: Sendable {
        public var path: String
        public var bytes: Int64
        /// Table name → rows, sorted by name.
        public var rows: [(table: String, count: Int64)]
        public var seconds: Double
    }

    public func run(to destination: String, force: Bool, progress: (@Sendable (Double, String) -> Void)? = nil) throws -> Report {
        let started = Date()
        let target = URL(fileURLWithPath: destination)
        let sourcePath = URL(fileURLWithPath: source.path).standardizedFileURL.path
        guard target.standardizedFileURL.path != sourcePath else {
            throw StartupError("--out \(destination) is the database itself: name another file")
        }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: destination, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw StartupError("--out \(destination) is a folder: name a file in it") }
            if !force { throw StartupError("\(destination) exists: choose another name, or pass --force to replace it") }
        }
        let folder = target.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw StartupError("cannot create the folder of \(destination): \(error.localizedDescription)")
        }
        let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).tmp").path
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) }
        }
        let rows: [(table: String, count: Int64)]
        do {
            let copy = try DatabaseQueue(path: temporary)
            try source.pool.backup(to: copy, pagesPerStep: pagesPerStep) { step in
                let total = max(step.totalPageCount, 1)
                progress?(0.9 * Double(total - step.remainingPageCount) / Double(total), "\(total - step.remainingPageCount)/\(total) pages")
            }
            progress?(0.9, "checking")
            rows = try copy.writeWithoutTransaction { db -> [(table: String, count: Int64)] in
                // One self-contained file: no -wal beside the copy.
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
                let check = try String.fetchAll(db, sql: "PRAGMA integrity_check")
                guard check == ["ok"] else {
                    throw StartupError("the copy failed its integrity check: \(check.prefix(3).joined(separator: "; "))")
                }
                let tables = try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                return try tables.map { table in
                    (table, try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(table.quotedDatabaseIdentifier)") ?? 0)
                }
            }
            do {
                try AppDatabase.checkMigrated(copy, directory: migrations)
            } catch {
                throw StartupError("the copy is missing migrations this build knows about: run `happydesk migrate` on the database first")
            }
            try copy.close()
        } catch let error as StartupError {
            throw error
        } catch {
            throw StartupError("backup of \(source.path) failed: \(error)")
        }
        let fd = open(temporary, O_RDONLY)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
        if force {
            guard rename(temporary, destination) == 0 else {
                throw StartupError("cannot move the copy to \(destination): \(String(cString: strerror(errno)))")
            }
        } else if link(temporary, destination) != 0 {
            // link(2) never replaces: a FILE created meanwhile is left alone.
            let code = errno
            throw StartupError(
                code == EEXIST
                    ? "\(destination) exists: choose another name, or pass --force to replace it"
                    : "cannot write \(destination): \(String(cString: strerror(code)))")
        }
        let bytes = (try? fm.attributesOfItem(atPath: destination)[.size] as? NSNumber)?.int64Value ?? 0
        progress?(1, "done")
        return Report(path: destination, bytes: bytes, rows: rows, seconds: Date().timeIntervalSince(started))
    }
}
