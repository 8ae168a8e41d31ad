import Foundation
import Logging

/// The one place every sign-in outcome goes: success and failure, by OpenID Connect, email link or API token.
///
/// It logs now; the audit trail (issue 12) appends here too. Nothing personal beyond the user id is logged:
/// no address, no token, no name. `reason` is a short fixed code (`signed_in`, `wrong_nonce`, `unknown_address`, …).
public enum SignInAudit {
    public enum Method: String, Sendable {
        case oidc, email, token
    }

    public static func record(
        method: Method, success: Bool, reason: String, userID: Int64?, remoteAddress: String?, database: any AppStorage, logger: Logger
    ) async {
        var metadata: Logger.Metadata = ["method": "\(method.rawValue)", "outcome": "\(success ? "success" : "failure")", "reason": "\(reason)"]
        if let userID { metadata["user"] = "\(userID)" }
        if let remoteAddress { metadata["remote"] = "\(remoteAddress)" }
        if success {
            logger.info("sign-in", metadata: metadata)
        } else {
            logger.notice("sign-in refused", metadata: metadata)
        }
    }
}
