import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}

/// Gives every request an id: the caller's `X-Request-Id` when it is a sane token (1–128 characters of
/// letters, digits and `-._:`), else Hummingbird's own. It goes into every log line of the request
/// (`request_id`) and back to the caller in `X-Request-Id`, so a report can be matched to the logs.
public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = Self.accepted(request.headers[.requestID]) ?? context.logger[metadataKey: "hb.request.id"]?.description ?? Self.generate()
        context.logger[metadataKey: "request_id"] = .string(id)
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = id
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            response.headers[.requestID] = id
            return response
        }
    }

    /// The caller's id if it is safe to log and echo (no spaces, quotes or control characters).
    static func accepted(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count) else { return nil }
        let ok = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x2E
                || byte == 0x5F || byte == 0x3A
        }
        return ok ? value : nil
    }

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next(), radix: 16)
    }
}
