import Foundation
import Hummingbird
import NIOCore

/// Applies one `RateLimiter` to the routes it wraps. `key` picks the bucket (nil: the request is not limited).
///
/// `.requests` spends a token before the handler runs, and gives it back when the request failed
/// authentication (those are counted by the failure limit instead, so a forger cannot drain a real
/// integration's allowance). `.failures` only checks before and spends a token when the answer is 401.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    enum Counting: Sendable { case requests, failures }

    let limiter: RateLimiter
    let counting: Counting
    let key: @Sendable (Request, AppRequestContext) -> String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = key(request, context) else { return try await next(request, context) }
        let format = Self.format(request)
        switch counting {
        case .requests: try limiter.acquire(key, format: format)
        case .failures: try limiter.check(key, format: format)
        }
        do {
            let response = try await next(request, context)
            settle(key, unauthorized: response.status == .unauthorized)
            return response
        } catch let error as any HTTPResponseError {
            settle(key, unauthorized: error.status == .unauthorized)
            throw error
        }
    }

    private func settle(_ key: String, unauthorized: Bool) {
        guard unauthorized else { return }
        switch counting {
        case .requests: limiter.refund(key)
        case .failures: limiter.record(key)
        }
    }

    /// Survey pages and the sign-in form are read by people: their 429 is a page, unless the client posted JSON.
    static func format(_ request: Request) -> AppError.Format {
        let path = request.uri.path
        let isJSON = request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true
        return !isJSON && (path.hasPrefix("/s/") || path.hasPrefix("/analyst") || path.hasPrefix("/signin")) ? .html : .json
    }
}

/// Who is asking, for per-address limits.
enum ClientAddress {
    /// The socket's peer address, or with `trustProxy` the last `X-Forwarded-For` hop (the one our own proxy
    /// added; earlier hops are whatever the client wrote). "unknown" when neither is known.
    static func of(_ request: Request, _ context: AppRequestContext, trustProxy: Bool) -> String {
        if trustProxy, let forwarded = request.headers[values: .xForwardedFor].last {
            let hop = forwarded.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if !hop.isEmpty { return String(hop.prefix(64)) }
        }
        return context.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// The keys rate limits count by. Secrets and tokens are hashed, so no clear credential sits in memory tables.
enum RateLimitKeys {
    /// A request that presents a credential to be checked: the sign-in form, a bearer token or a signature.
    static func presentsCredential(_ request: Request) -> Bool {
        if request.method == .post && request.uri.path == "/analyst/login" { return true }
        return request.headers[.authorization] != nil || request.headers[.happydeskSignature] != nil || request.headers[.hubSignature] != nil
    }

    /// The credential behind a closure: the bearer token's hash, the shared signature secret, or the client address.
    static func closureCredential(_ request: Request, _ context: AppRequestContext, trustProxy: Bool) -> String {
        if let authorization = request.headers[.authorization] {
            return "bearer:" + SurveyToken.hash(authorization).base64EncodedString()
        }
        if request.headers[.happydeskSignature] != nil || request.headers[.hubSignature] != nil { return "signed" }
        return "address:" + ClientAddress.of(request, context, trustProxy: trustProxy)
    }

    /// A survey link's bucket: the token's SHA-256, as stored, never the clear token.
    static func surveyLink(_ request: Request, _ context: AppRequestContext) -> String? {
        guard request.method == .post, let token = context.parameters.get("token") else { return nil }
        return SurveyToken.hash(token).base64EncodedString()
    }
}
