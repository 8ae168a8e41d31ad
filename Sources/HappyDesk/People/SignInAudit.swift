import Foundation
import Logging

/// The one place every sign-in outcome goes: success and failure, by OpenID Connect, email link or API token.
///
/// It logs the outcome and appends a `signin.success` / `signin.failure` row to the audit trail. Nothing personal
/// beyond the user id is logged or audited: no address, no token, no name. `reason` is a short fixed code
/// (`signed_in`, `wrong_nonce`, `unknown_address`, …).
public enum SignInAudit {
    public enum Method: String, Sendable {
        case oidc, email, token
    }

    public static func record(
        method: Method, success: Bool, reason: String, userID: Int64?, remoteAddress: String?, audit: AuditTrail?, logger: Logger
    ) async {
        var metadata: Logger.Metadata = ["method": "\(method.rawValue)", "outcome": "\(success ? "success" : "failure")", "reason": "\(reason)"]
        if let userID { metadata["user"] = "\(userID)" }
        if let remoteAddress { metadata["remote"] = "\(remoteAddress)" }
        if success {
            logger.info("sign-in", metadata: metadata)
        } else {
            logger.notice("sign-in refused", metadata: metadata)
        }
        guard let audit else { return }
        let remote = remoteAddress ?? "unknown"
        let actor = userID.map { AuditActor(kind: .user, userID: $0, remote: remote) } ?? .anonymous(remote: remote)
        do {
            try await audit.record(
                success ? .signinSuccess : .signinFailure, actor: actor, target: userID.map { "user:\($0)" } ?? method.rawValue,
                details: ["method": method.rawValue, "reason": reason])
        } catch {
            // The sign-in's own outcome stands; a trail that cannot be written is an operator's alarm.
            logger.error("sign-in not recorded in the audit trail", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }
}
