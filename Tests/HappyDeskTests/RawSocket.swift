import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking TCP client on 127.0.0.1, for what an HTTP client library will not do: send half a request,
/// send nothing, hold a thousand connections, or keep talking while the server is killed.
final class RawSocket {
    let fd: Int32

    /// Connects; `timeout` bounds every later read so a test fails instead of hanging.
    init(port: Int, timeout: Double = 10) throws {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw RawSocketError("socket() failed: errno \(errno)") }
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw RawSocketError("connect() failed: errno \(code)")
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeMutableBytes { buffer in
                Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw RawSocketError("send() failed: errno \(errno)") }
            offset += sent
        }
    }

    /// What the server sent until it closed the connection; throws when the read timeout passed first.
    func readToEnd() throws -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return String(decoding: data, as: UTF8.self) }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { throw RawSocketError("the server did not close the connection in time") }
                if errno == ECONNRESET { return String(decoding: data, as: UTF8.self) }
                throw RawSocketError("recv() failed: errno \(errno)")
            }
            data.append(contentsOf: buffer[0..<count])
        }
    }

    /// Sends one request with `Connection: close` and returns the status code and body.
    static func request(port: Int, _ method: String, _ path: String, body: String = "", headers: [String: String] = [:]) throws -> (Int, String) {
        let socket = try RawSocket(port: port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try socket.send(head + "\r\n" + body)
        let reply = try socket.readToEnd()
        let statusLine = reply.prefix { $0 != "\r" }.split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw RawSocketError("no HTTP status in '\(reply.prefix(80))'") }
        let body = reply.range(of: "\r\n\r\n").map { String(reply[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}

struct RawSocketError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Raises this process's open-file limit so a test can hold many sockets (both ends live in the test process).
func raiseOpenFileLimit(to wanted: rlim_t) throws {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw RawSocketError("getrlimit failed") }
    if limit.rlim_cur >= wanted { return }
    guard limit.rlim_max >= wanted else {
        throw RawSocketError("the open-file hard limit is \(limit.rlim_max); this test needs \(wanted) (raise `ulimit -Hn`)")
    }
    limit.rlim_cur = wanted
    guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw RawSocketError("setrlimit failed: errno \(errno)") }
}
