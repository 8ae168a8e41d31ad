/// Text for chat tools' incoming webhooks (Slack, Microsoft Teams), where `<…>` is markup: `<!channel>`
/// pings a whole channel and `<https://evil|Reset password>` shows a link under words of the sender's
/// choosing. Anything a requester or an ITSM supplied goes through `escape` before it joins such a text.
public enum ChatText {
    /// `&`, `<` and `>` as the entities Slack documents (and Teams renders as the plain characters).
    public static func escape(_ text: some StringProtocol) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) else {
            return String(text)
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
