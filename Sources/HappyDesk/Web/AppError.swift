import Foundation
import Hummingbird

/// Every failure a client can cause, with a status and a message the client can act on.
///
/// API routes answer `{"error":{"code":…,"message":…}}`; survey pages answer a small HTML page.
public struct AppError: Error, HTTPResponseError, CustomStringConvertible {
    public enum Format: Sendable { case json, html }

    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var format: Format
    /// Extra response headers, such as `Retry-After` on a 429 or 503.
    public var headers: HTTPFields = [:]
    /// The rate limit that refused the request (`signin`, `survey`, `closures`), sent as `error.limit`.
    public var limit: String?

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, format: Format = .json) {
        self.status = status
        self.code = code
        self.message = message
        self.format = format
    }

    /// The write queue is full: the client should retry shortly rather than wait in an unbounded queue.
    public static func overloaded(retryAfter seconds: Int = 1) -> AppError {
        var error = AppError(.serviceUnavailable, code: "overloaded", "the server is busy saving other requests; retry in \(seconds) s")
        error.headers[.retryAfter] = String(seconds)
        return error
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public static func badRequest(_ message: String, code: String = "invalid_request") -> AppError {
        AppError(.badRequest, code: code, message)
    }

    public static func notFound(_ message: String) -> AppError { AppError(.notFound, code: "not_found", message) }

    public func html() -> AppError {
        var copy = self
        copy.format = .html
        return copy
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        switch format {
        case .json:
            let data = try JSONEncoder().encode(ErrorBody(error: .init(code: code, message: message, limit: limit)))
            var fields: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
            fields.append(contentsOf: headers)
            return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        case .html:
            let page = Templates.errorPage(title: status.reasonPhrase, message: message)
            var headers = Templates.pageHeaders
            headers[.contentType] = "text/html; charset=utf-8"
            headers.append(contentsOf: self.headers)
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
        }
    }
}

/// The JSON shape of every API error.
struct ErrorBody: Encodable {
    struct Detail: Encodable {
        let code: String
        let message: String
        let limit: String?
    }
    let error: Detail
}

/// Turns anything unexpected into a logged 500 with no internals, and framework errors into JSON.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AppError {
            throw error
        } catch let error as HTTPError {
            let wantsHTML = request.uri.path.hasPrefix("/s/") || request.uri.path == "/analyst" || request.uri.path == "/dashboard"
            throw AppError(
                error.status, code: error.status == .contentTooLarge ? "body_too_large" : "http_\(error.status.code)",
                error.body ?? Self.describe(error.status), format: wantsHTML ? .html : .json)
        } catch let error as HTTPResponseError {
            throw error
        } catch let error as StorageUnavailable {
            // The database is unreachable (PostgreSQL restarting, a network cut): the client may retry; the pool
            // reconnects on the next request. The reason names the host, never the password.
            context.logger.warning(
                "database unavailable", metadata: ["reason": "\(error.description)", "path": "\(Redaction.path(request.uri.path))"])
            var unavailable = AppError(.serviceUnavailable, code: "database_unavailable", "the database is unavailable; retry in a few seconds")
            unavailable.headers[.retryAfter] = "2"
            throw unavailable
        } catch {
            context.logger.error(
                "unhandled error", metadata: ["error": "\(Redaction.text(String(reflecting: error)))", "path": "\(Redaction.path(request.uri.path))"])
            throw AppError(.internalServerError, code: "internal", "something went wrong on our side; it has been logged")
        }
    }

    static func describe(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "no such page or endpoint"
        case .contentTooLarge: "request body is over the 64 KB limit"
        case .methodNotAllowed: "method not allowed here"
        default: status.reasonPhrase
        }
    }
}
