import Foundation

/// An RFC 5322 `multipart/alternative` email with a plain-text and an HTML part.
///
/// Bodies are sent as UTF-8 with `8bit` transfer encoding (7bit when pure ASCII) so links stay
/// readable and greppable in `.eml` files; lines are CRLF and kept under 998 bytes.
public struct MailMessage: Sendable {
    public var from: MailAddress
    public var to: MailAddress
    public var subject: String
    /// Without angle brackets, e.g. `invitation-42.survey@desk.example.com`.
    public var messageID: String
    /// The survey email a reminder or reply follows up, so mail clients thread them.
    public var inReplyTo: String?
    public var date: Date
    public var text: String
    public var html: String

    public init(
        from: MailAddress, to: MailAddress, subject: String, messageID: String, inReplyTo: String? = nil, date: Date, text: String, html: String
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.date = date
        self.text = text
        self.html = html
    }

    /// The complete message, ready for SMTP `DATA` or a `.eml` file.
    public func render() -> [UInt8] {
        let boundary = "happydesk-" + UUID().uuidString.lowercased()
        var headers = [
            "Date: \(MIMEEncoding.date(date))",
            "From: \(from.headerValue)",
            "To: \(to.headerValue)",
            "Subject: \(MIMEEncoding.unstructured(subject, headerName: "Subject"))",
            "Message-ID: <\(MIMEEncoding.singleLine(messageID))>",
        ]
        if let inReplyTo {
            let id = MIMEEncoding.singleLine(inReplyTo)
            headers.append("In-Reply-To: <\(id)>")
            headers.append("References: <\(id)>")
        }
        headers += [
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
        ]
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + html.utf8.count + 1024)
        out.append(contentsOf: (headers.joined(separator: "\r\n") + "\r\n\r\nThis is a multipart message in MIME format.\r\n").utf8)
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            let encoding = body.utf8.allSatisfy { $0 < 0x80 } ? "7bit" : "8bit"
            out.append(contentsOf: "\r\n--\(boundary)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: \(encoding)\r\n\r\n".utf8)
            MIMEEncoding.appendCRLFLines(body, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "\r\n--\(boundary)--\r\n".utf8)
        return out
    }

    /// A stable Message-ID for a delivery: the same invitation and purpose always give the same id, so
    /// a resend after a crash is recognisable as the same message.
    public static func messageID(invitationID: Int64, purpose: String, deliveryID: Int64, domain: String) -> String {
        let local =
            ["survey", "reminder"].contains(purpose) ? "invitation-\(invitationID).\(purpose)" : "invitation-\(invitationID).\(purpose)-\(deliveryID)"
        return "\(local)@\(domain)"
    }
}
