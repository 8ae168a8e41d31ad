import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Sends bytes exactly as given over a real TCP socket and reads the answer until the server closes.
///
/// The HTTP clients of the test kit validate what they send; a hostile client does not, so bad-input
/// tests that need invalid UTF-8 or odd framing in the request line or headers go through this.
enum RawHTTP {
    struct Answer {
        var status: Int?
        var head: String
        var body: String
        var raw: [UInt8]
    }

    /// One request on a fresh connection. `request` should carry `Connection: close`; the socket waits at most `timeout`.
    static func send(port: Int, _ request: [UInt8], timeout: Int = 10) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try sendBlocking(port: port, request, timeout: timeout) })
            }
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func sendBlocking(port: Int, _ request: [UInt8], timeout: Int) throws -> Answer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to 127.0.0.1:\(port) failed (errno \(errno)): is the server down?") }
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The server may answer (400) and close before reading everything: that is an answer, not a failure.
            if written <= 0 { break }
            sent += written
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let statusLine = head.split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        return Answer(status: status, head: head, body: parts.dropFirst().joined(separator: "\r\n\r\n"), raw: received)
    }

    /// A request with the given pieces; `Content-Length` is computed unless `headers` already frame the body.
    static func request(method: String = "POST", target: [UInt8], headers: [[UInt8]], body: [UInt8]) -> [UInt8] {
        var out = Array(method.utf8) + [0x20] + target + Array(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".utf8)
        for header in headers { out += header + [0x0D, 0x0A] }
        out += Array("Content-Length: \(body.count)\r\n\r\n".utf8)
        out += body
        return out
    }
}
