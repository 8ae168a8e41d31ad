import Foundation

/// Keeps secrets out of log lines and stored replies: survey links, API tokens, session ids.
///
/// Every secret happydesk hands out is 32 CSPRNG bytes in base64url (43 characters, API tokens with an
/// `hd_` prefix), so "token-shaped" means a run of 32 or more base64url characters. Such runs are
/// replaced whole; a false positive only shortens a log line.
public enum Redaction {
    /// What a redacted secret reads as.
    public static let mark = "…"

    /// A request path for the log: the survey token after `/s/`, any token-shaped segment and any address become `…`;
    /// the query is dropped (it may carry a token and says nothing about the route).
    public static func path(_ path: String) -> String {
        let withoutQuery = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        // An address in the path (`DELETE /api/v1/requesters/{email}`) is personal data: the whole segment goes.
        var segments = withoutQuery.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.contains("@") || segment.lowercased().contains("%40") ? mark : text(String(segment))
        }
        // `/s/:token`: the survey token, whatever its shape (a mistyped link may still be someone's link).
        if segments.count >= 3, segments[0].isEmpty, segments[1] == "s", !segments[2].isEmpty { segments[2] = mark }
        return segments.joined(separator: "/")
    }

    /// Replaces every token-shaped run (32+ base64url characters) in free text, such as a webhook
    /// receiver's reply that echoes the survey link back.
    public static func text(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var run = ""
        func flush() {
            output += run.unicodeScalars.count >= 32 ? mark : run
            run = ""
        }
        for scalar in text.unicodeScalars {
            if isTokenScalar(scalar) {
                run.unicodeScalars.append(scalar)
            } else {
                flush()
                output.unicodeScalars.append(scalar)
            }
        }
        flush()
        return output
    }

    static func isTokenScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F: return true
        default: return false
        }
    }
}
