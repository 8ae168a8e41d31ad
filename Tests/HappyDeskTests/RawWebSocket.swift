import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A bare WebSocket client over a blocking socket, for handshakes WSClient cannot make: it always sends
/// its own `Origin: ws://host`, while a browser sends the page's origin with its cookie. Blocking reads
/// run on their own thread, never on the concurrency pool.
final class RawWebSocket: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Sends the upgrade request; returns the HTTP status and, on 101, the open socket.
    static func connect(port: Int, path: String = "/api/v1/stream", headers: [(String, String)]) async throws -> (Int, RawWebSocket?) {
        try await onThread {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw POSIXError(.EMFILE) }
            let socket = RawWebSocket(fd: fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else { throw POSIXError(.ECONNREFUSED) }
            var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            for (name, value) in headers { request += "\(name): \(value)\r\n" }
            request += "\r\n"
            _ = request.withCString { send(fd, $0, strlen($0), 0) }
            socket.setTimeout(5)
            guard let end = socket.read(until: Array("\r\n\r\n".utf8)) else { throw POSIXError(.ETIMEDOUT) }
            let head = String(decoding: socket.buffer[..<end], as: UTF8.self)
            socket.buffer.removeSubrange(..<(end + 4))
            let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            return (status, status == 101 ? socket : nil)
        }
    }

    /// Reads frames until the server's close frame and returns its code, or nil if none came within `timeout`.
    func closeCode(within timeout: TimeInterval) async throws -> UInt16? {
        try await Self.onThread { [self] in
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                setTimeout(max(0.01, deadline.timeIntervalSinceNow))
                guard let (opcode, payload) = nextFrame() else { return nil }
                if opcode == 8 { return payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : 1005 }
            }
            return nil
        }
    }

    private func nextFrame() -> (UInt8, [UInt8])? {
        guard fill(2) else { return nil }
        let opcode = buffer[0] & 0x0F
        var length = Int(buffer[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard fill(4) else { return nil }
            length = Int(buffer[2]) << 8 | Int(buffer[3])
            offset = 4
        } else if length == 127 {
            guard fill(10) else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(buffer[$1]) }
            offset = 10
        }
        guard fill(offset + length) else { return nil }
        let payload = Array(buffer[offset..<(offset + length)])
        buffer.removeSubrange(..<(offset + length))
        return (opcode, payload)
    }

    private func fill(_ count: Int) -> Bool {
        while buffer.count < count {
            guard receiveMore() else { return false }
        }
        return true
    }

    private func read(until marker: [UInt8]) -> Int? {
        while true {
            if buffer.count >= marker.count {
                for start in 0...(buffer.count - marker.count) where Array(buffer[start..<(start + marker.count)]) == marker { return start }
            }
            guard receiveMore() else { return nil }
        }
    }

    private func receiveMore() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &chunk, chunk.count, 0)
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    private func setTimeout(_ seconds: TimeInterval) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
