import Foundation
import HTTPTypes
import Hummingbird

/// The one rule for requests a browser sends with our cookies: they must carry an `Origin` equal to the
/// public URL's origin. Browsers attach cookies to cross-site requests (and WebSocket handshakes), so the
/// cookie alone does not prove the analyst page sent the request; the Origin header, which a page cannot
/// forge, does. A missing Origin and the opaque `null` (sandboxed frames, `file:` pages) are refused too.
public struct OriginPolicy: Sendable, Equatable {
    /// `scheme://host[:port]` of the public URL, lowercased, default port left out; nil when the URL has no host.
    public let expected: String?

    public init(publicURL: String) {
        expected = Self.origin(of: publicURL)
    }

    /// Throws a 403 naming Origin unless the request's Origin is the public URL's.
    public func check(_ request: Request) throws {
        let origins = request.headers[values: .origin]
        guard origins.count <= 1 else {
            throw AppError(.forbidden, code: "bad_origin", "send one Origin header, not \(origins.count)")
        }
        try check(origin: origins.first)
    }

    public func check(origin: String?) throws {
        guard let origin, !origin.isEmpty else {
            throw AppError(
                .forbidden, code: "bad_origin", "missing Origin header: requests signed in with the session cookie must come from \(shown)")
        }
        // Browsers serialize an origin exactly so (RFC 6454 §6.1), so a plain comparison suffices.
        guard let expected, origin.lowercased() == expected else {
            throw AppError(
                .forbidden, code: "bad_origin", "Origin '\(origin.prefix(100))' is not \(shown): open the analyst page at \(shown)/analyst"
            )
        }
    }

    /// Cookies get `Secure` when the service is reached over https (as `Settings.secureCookies`).
    public var secureCookies: Bool { expected?.hasPrefix("https://") ?? false }

    private var shown: String { expected ?? "this server's public URL" }

    /// The serialized origin of a URL (RFC 6454): lowercased scheme and host, port only when not the default.
    static func origin(of text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        if let port = components.port, port != defaultPort { return "\(scheme)://\(host):\(port)" }
        return "\(scheme)://\(host)"
    }
}
