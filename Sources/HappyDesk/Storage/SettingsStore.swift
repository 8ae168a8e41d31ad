import Crypto
import Foundation

/// The one owner of `happydesk_settings`: values every instance sharing the database must agree on.
public enum SettingsStore {
    static func value(_ db: any SQLConnection, name: String) throws -> String? {
        try db.scalar(String.self, "SELECT value FROM happydesk_settings WHERE name = ?", name)
    }

    /// The readiness probe's write: proves the database takes writes. The caller rolls it back, so a probe
    /// (a GET) leaves nothing behind.
    static func probeWrite(_ db: any SQLConnection, now: Date) throws {
        try db.execute(
            "INSERT INTO happydesk_settings (name, value) VALUES ('readiness_probe', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            ISO8601.format(now))
    }

    /// Stores `value` unless the name is set already; returns what is stored now (the first writer wins).
    static func setIfAbsent(_ db: any SQLConnection, name: String, value: String) throws -> String {
        try db.execute("INSERT INTO happydesk_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, value)
        return try Self.value(db, name: name) ?? value
    }
}

extension TokenVault {
    /// A value that identifies the key without revealing it: HMAC-SHA256 of a fixed label under the key.
    var checkValue: String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("happydesk secret key check v1".utf8), using: key)
        return "v1:" + Data(mac).map { String(format: "%02x", $0) }.joined()
    }

    /// Records the key's check value on first start; refuses a key that differs from the one the database
    /// was set up with, before any sealed token is opened with it.
    public func verifyAgainst(_ storage: any AppStorage) throws {
        let mine = checkValue
        let stored = try storage.writeSync { db in try SettingsStore.setIfAbsent(db, name: "secret_key_check", value: mine) }
        // Not a secret (a MAC of a public label), so a plain comparison is fine.
        guard stored == mine else {
            throw StartupError(
                "HAPPYDESK_SECRET_KEY is not the key this database was set up with: every instance sharing \(storage.displayName) must use the same key"
            )
        }
    }
}
