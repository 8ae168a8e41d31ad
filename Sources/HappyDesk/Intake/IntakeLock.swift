import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Intake is locked by default: a server reachable from the network must not take unsigned closures,
/// since anyone who can reach it could then send surveys in the service desk's name. On loopback only
/// local processes can post, which is how the quick start and tests run.
public enum IntakeLock {
    /// The one-line reason `serve` refuses to start, or nil when it may.
    public static func refusal(host: String, webhookSecret: String?, allowUnsigned: Bool) -> String? {
        if allowUnsigned || webhookSecret?.isEmpty == false || isLoopback(host) { return nil }
        return
            "refusing to take unsigned closures on \(host): set HAPPYDESK_WEBHOOK_SECRET (or --webhook-secret), or pass --allow-unsigned-intake (HAPPYDESK_ALLOW_UNSIGNED_INTAKE=1) if integration tokens or a proxy guard intake"
    }

    /// `localhost`, 127.0.0.0/8 and `::1`; anything else (0.0.0.0, ::, a name, an interface address) is the network.
    public static func isLoopback(_ host: String) -> Bool {
        var text = host.trimmingCharacters(in: .whitespaces).lowercased()
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }
}
