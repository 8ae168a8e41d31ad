import Curl
import Foundation
import Logging

/// Sends one rendered email. The outbox knows nothing of SMTP or files beyond this.
public protocol Mailer: Sendable {
    func send(_ message: MailMessage) async -> AttemptResult
}

/// SMTP through libcurl on a `CurlWorkerPool`: each worker keeps its connection open between messages.
public struct SMTPMailer: Mailer {
    public let pool: CurlWorkerPool
    public let configuration: SMTPConfiguration

    public init(pool: CurlWorkerPool, configuration: SMTPConfiguration) {
        self.pool = pool
        self.configuration = configuration
    }

    public func send(_ message: MailMessage) async -> AttemptResult {
        let envelope = SMTPEnvelope(from: message.from.address, recipients: [message.to.address], message: message.render())
        let configuration = configuration
        do {
            let code = try await pool.run { curl in try curl.send(envelope, using: configuration) }
            return .sent(status: code, "SMTP \(code)")
        } catch let error as CurlError {
            return .smtpFailure(error)
        } catch {
            return AttemptResult(kind: .transient, statusCode: nil, curlCode: nil, detail: "\(error)")
        }
    }
}

/// The embedded default: each message becomes `<Message-ID>.eml` in a folder, written atomically, so
/// a resend replaces the same file instead of adding a copy.
public struct FileMailer: Mailer {
    public let directory: URL
    public let logger: Logger

    public init(directory: URL, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    public func fileURL(for message: MailMessage) -> URL {
        let safe = message.messageID.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "@" ? $0 : "_" }
        return directory.appendingPathComponent(String(safe) + ".eml")
    }

    public func send(_ message: MailMessage) async -> AttemptResult {
        let url = fileURL(for: message)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(message.render()).write(to: url, options: .atomic)
            // The file holds the survey link, a secret: readable by this account only.
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
            return .sent(status: nil, "written to \(url.path)")
        } catch {
            return AttemptResult(kind: .transient, statusCode: nil, curlCode: nil, detail: "cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}
