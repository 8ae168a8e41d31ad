import Hummingbird
import NIOCore

/// Counts every request of the main listener in `happydesk_http_requests_total{route,status}` and
/// `happydesk_http_request_duration_seconds{route}`, by the route template Hummingbird matched
/// (`/s/{token}`), never by the raw path; a request no route matched counts as `unmatched`.
public struct RequestMetrics<Context: RequestContext>: RouterMiddleware {
    public let metrics: HappyDeskMetrics

    public init(_ metrics: HappyDeskMetrics) { self.metrics = metrics }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = NIODeadline.now()
        do {
            let response = try await next(request, context)
            record(context, status: Int(response.status.code), start: start)
            return response
        } catch {
            record(context, status: Int((error as? any HTTPResponseError)?.status.code ?? 500), start: start)
            throw error
        }
    }

    private func record(_ context: Context, status: Int, start: NIODeadline) {
        metrics.httpRequest(route: Self.route(context.endpointPath), status: status, nanoseconds: (NIODeadline.now() - start).nanoseconds)
    }

    /// The label for a matched endpoint: its template, or `unmatched` (Hummingbird says `NotFound`).
    static func route(_ endpoint: String?) -> String {
        guard let endpoint, endpoint != "NotFound", endpoint.hasPrefix("/") else { return "unmatched" }
        return endpoint
    }
}
