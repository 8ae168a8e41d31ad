import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the SMTP relay offers, read from its EHLO answer before anything is sent: whether it takes SMTPUTF8
/// (RFC 6531), so intake knows whether an address like `jörg@example.test` can be delivered.
public enum SMTPCapabilities {
    /// Asks `smtp://host:port` for its EHLO keywords over a plain connection (the keywords before STARTTLS);
    /// `smtps://` and unreachable relays answer false, so such addresses are refused rather than dead-lettered.
    public static func offersSMTPUTF8(url: String, timeout: Double = 3) -> Bool {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "smtp", let host = components.host else {
            return false
        }
        return (try? keywords(host: host, port: components.port ?? 25, timeout: timeout))?.contains("SMTPUTF8") ?? false
    }

    static func keywords(host: String, port: Int, timeout: Double) throws -> Set<String> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { throw SMTPProbeError() }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw SMTPProbeError() }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { throw SMTPProbeError() }
        var buffer = [UInt8]()
        func readReply() throws -> [String] {
            var lines: [String] = []
            while true {
                while let newline = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    buffer.removeSubrange(...newline)
                    lines.append(line)
                    if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return lines }
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = recv(fd, &chunk, chunk.count, 0)
                guard count > 0, buffer.count < 65_536 else { throw SMTPProbeError() }
                buffer += chunk[..<count]
            }
        }
        guard try readReply().last?.hasPrefix("220") == true else { throw SMTPProbeError() }
        let hello = Array("EHLO happydesk.probe\r\n".utf8)
        guard send(fd, hello, hello.count, Int32(MSG_NOSIGNAL)) == hello.count else { throw SMTPProbeError() }
        let reply = try readReply()
        let quit = Array("QUIT\r\n".utf8)
        _ = send(fd, quit, quit.count, Int32(MSG_NOSIGNAL))
        return Set(reply.filter { $0.hasPrefix("250") }.map { String($0.dropFirst(4)).split(separator: " ").first.map { $0.uppercased() } ?? "" })
    }

    struct SMTPProbeError: Error {}
}
