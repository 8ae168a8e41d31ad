import HTTPTypes
import Hummingbird
import Logging

/// Logs each request's method, redacted path and status, in place of Hummingbird's `LogRequestsMiddleware`,
/// which logs the raw URI: a survey link's path is its secret (`/s/TOKEN`), so it is logged as `/s/…`.
/// No header is logged, so neither `Authorization` nor the session cookie can leak through here.
public struct RedactedRequestLog<Context: RequestContext>: RouterMiddleware {
    public let level: Logger.Level

    public init(_ level: Logger.Level) { self.level = level }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Built only when the level is enabled (metadata is an autoclosure): this runs per request.
        func metadata(_ status: HTTPResponse.Status?) -> Logger.Metadata {
            [
                "method": .string(request.method.rawValue), "path": .string(Redaction.path(request.uri.path)),
                "status": .string(status.map { "\($0.code)" } ?? "-"),
            ]
        }
        do {
            let response = try await next(request, context)
            context.logger.log(level: level, "request", metadata: metadata(response.status))
            return response
        } catch {
            context.logger.log(level: level, "request", metadata: metadata((error as? any HTTPResponseError)?.status))
            throw error
        }
    }
}
