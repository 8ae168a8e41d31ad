import Crypto
import Foundation

/// Seals survey tokens for the outbox with AES-GCM, so a copy of the database alone yields no working link.
///
/// The key comes from `HAPPYDESK_SECRET_KEY` (base64, 32 bytes) or a key file created on first start
/// with mode 0600 next to the database.
public struct TokenVault: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    public func seal(_ token: SurveyToken) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(token.value.utf8), using: key).combined else {
            throw StartupError("AES-GCM produced no combined box")
        }
        return combined
    }

    public func open(_ sealed: Data) throws -> SurveyToken {
        let box = try AES.GCM.SealedBox(combined: sealed)
        let plain = try AES.GCM.open(box, using: key)
        return SurveyToken(value: String(decoding: plain, as: UTF8.self))
    }

    /// Loads the key from base64 text, or from (creating if needed) a key file.
    public static func load(base64: String?, keyFile: String) throws -> TokenVault {
        if let base64, !base64.isEmpty {
            guard let data = Data(base64Encoded: base64), data.count == 32 else {
                throw StartupError("HAPPYDESK_SECRET_KEY must be 32 bytes in base64 (try: head -c32 /dev/urandom | base64)")
            }
            return TokenVault(key: SymmetricKey(data: data))
        }
        let url = URL(fileURLWithPath: keyFile)
        if let data = try? Data(contentsOf: url) {
            guard data.count == 32 else { throw StartupError("secret key file \(keyFile) must hold exactly 32 bytes") }
            return TokenVault(key: SymmetricKey(data: data))
        }
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: keyFile, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw StartupError("cannot create secret key file \(keyFile)")
        }
        return TokenVault(key: key)
    }
}
