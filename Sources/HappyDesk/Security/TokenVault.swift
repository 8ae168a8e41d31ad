import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Seals survey tokens for the outbox with AES-GCM, so a copy of the database alone yields no working link.
///
/// The key comes from `HAPPYDESK_SECRET_KEY` (base64, 32 bytes) or a key file created on first start
/// with mode 0600 next to the database.
///
/// A box is bound to its invitation: the invitation id is AES-GCM's authenticated data, so a sealed token
/// copied onto another invitation's outbox row (to mail someone else's link to an attacker's address)
/// fails to open. The binding is per invitation, not per row, because a reminder and a reply carry the
/// very same token as the survey row they are copied from.
public struct TokenVault: Sendable {
    let key: SymmetricKey

    /// Marks a bound box; boxes sealed before binding existed start with a random nonce instead.
    static let boundPrefix = Data("hdv2".utf8)

    public init(key: SymmetricKey) { self.key = key }

    static func authenticatedData(invitationID: Int64) -> Data {
        Data("happydesk.survey-token.v2 invitation=\(invitationID)".utf8)
    }

    /// `hdv2` + AES-GCM(nonce, ciphertext, tag) with the invitation id as authenticated data.
    public func seal(_ token: SurveyToken, invitationID: Int64) throws -> Data {
        let box = try AES.GCM.seal(Data(token.value.utf8), using: key, authenticating: Self.authenticatedData(invitationID: invitationID))
        guard let combined = box.combined else { throw StartupError("AES-GCM produced no combined box") }
        return Self.boundPrefix + combined
    }

    /// Seals an emailed sign-in link's token, bound to its `signin_links` id (a different context than any invitation).
    public func seal(_ token: SurveyToken, signInLinkID: Int64) throws -> Data {
        let box = try AES.GCM.seal(Data(token.value.utf8), using: key, authenticating: Self.signInData(linkID: signInLinkID))
        guard let combined = box.combined else { throw StartupError("AES-GCM produced no combined box") }
        return Self.boundPrefix + combined
    }

    public func open(_ sealed: Data, signInLinkID: Int64) throws -> SurveyToken {
        guard sealed.starts(with: Self.boundPrefix) else { throw StartupError("sign-in token box is not bound") }
        let box = try AES.GCM.SealedBox(combined: sealed.dropFirst(Self.boundPrefix.count))
        let plain = try AES.GCM.open(box, using: key, authenticating: Self.signInData(linkID: signInLinkID))
        return SurveyToken(value: String(decoding: plain, as: UTF8.self))
    }

    static func signInData(linkID: Int64) -> Data {
        Data("happydesk.signin-link.v1 link=\(linkID)".utf8)
    }

    /// Opens a box sealed for this invitation. A box from before binding (no `hdv2` prefix) still opens,
    /// so rows queued by an older version are delivered; `Outbox.rebindLegacyTokens` rewrites them bound.
    /// Stripping the prefix off a bound box does not help an attacker: its tag covers the authenticated
    /// data, so it fails the unbound open.
    public func open(_ sealed: Data, invitationID: Int64) throws -> SurveyToken {
        if sealed.starts(with: Self.boundPrefix) {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst(Self.boundPrefix.count))
            let plain = try AES.GCM.open(box, using: key, authenticating: Self.authenticatedData(invitationID: invitationID))
            return SurveyToken(value: String(decoding: plain, as: UTF8.self))
        }
        return try openLegacy(sealed)
    }

    /// A box sealed without authenticated data (before boxes were bound to their invitation).
    func openLegacy(_ sealed: Data) throws -> SurveyToken {
        let box = try AES.GCM.SealedBox(combined: sealed)
        let plain = try AES.GCM.open(box, using: key)
        return SurveyToken(value: String(decoding: plain, as: UTF8.self))
    }

    static func isBound(_ sealed: Data) -> Bool { sealed.starts(with: boundPrefix) }

    /// Loads the key from base64 text, or from (creating if needed) a key file.
    ///
    /// A key file that exists but cannot be used (unreadable, a directory, not 32 bytes or their base64)
    /// stops start-up and is left exactly as it is: replacing it would make every sealed outbox row
    /// unreadable. Only a missing file is created, atomically, so two processes starting at once agree on one key.
    public static func load(base64: String?, keyFile: String) throws -> TokenVault {
        if let base64, !base64.isEmpty {
            guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
                throw StartupError("HAPPYDESK_SECRET_KEY must be 32 bytes in base64 (try: head -c32 /dev/urandom | base64)")
            }
            return TokenVault(key: SymmetricKey(data: data))
        }
        if let existing = try readKeyFile(keyFile) { return TokenVault(key: SymmetricKey(data: existing)) }
        return TokenVault(key: SymmetricKey(data: try createKeyFile(keyFile)))
    }

    /// The key in an existing file, nil when there is no file; throws for a file that is there but unusable.
    static func readKeyFile(_ path: String) throws -> Data? {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw StartupError("secret key file \(path) cannot be read: \(String(cString: strerror(code)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw StartupError("secret key file \(path) is a directory, not a key file; move it away or set HAPPYDESK_SECRET_KEY_FILE")
        }
        let fd = openFile(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StartupError(
                "secret key file \(path) cannot be read: \(String(cString: strerror(errno))); fix its permissions, it is never replaced")
        }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 256)
        while data.count <= 4096 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StartupError("secret key file \(path) cannot be read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        if data.count == 32 { return data }
        if let text = String(data: data, encoding: .utf8), let decoded = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            decoded.count == 32
        {
            return decoded
        }
        throw StartupError(
            "secret key file \(path) must hold exactly 32 bytes (or their base64), not \(data.count) bytes; it is never replaced, restore it or move it away"
        )
    }

    /// Writes a fresh key to a temporary file in the same folder (mode 0600, `O_EXCL`), syncs it, and links
    /// it into place without replacing anything; if another process linked its key first, that key wins.
    static func createKeyFile(_ path: String) throws -> Data {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw StartupError("cannot create the folder of secret key file \(path): \(error.localizedDescription)")
        }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let fd = openFile(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StartupError("cannot create secret key file \(path): \(String(cString: strerror(errno)))") }
        defer { unlink(temporary) }
        var written = 0
        var failure: Int32 = 0
        // The umask can only narrow 0600; fchmod makes it exactly 0600 whatever the umask.
        if fchmod(fd, 0o600) != 0 { failure = errno }
        while failure == 0 && written < key.count {
            let count = key.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + written }, key.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                failure = errno
            } else {
                written += count
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else { throw StartupError("cannot write secret key file \(path): \(String(cString: strerror(failure)))") }
        if link(temporary, path) != 0 {
            let code = errno
            guard code == EEXIST else { throw StartupError("cannot create secret key file \(path): \(String(cString: strerror(code)))") }
            // Another process created the key between our check and our link: use its key.
            guard let theirs = try readKeyFile(path) else { throw StartupError("secret key file \(path) vanished while starting") }
            return theirs
        }
        let folderFD = openFile(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)
            close(folderFD)
        }
        return key
    }
}

/// POSIX open(2); a free function because `TokenVault.open` shadows the C name inside the type.
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    open(path, flags, mode)
}
