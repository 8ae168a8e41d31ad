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

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, format: Format = .json) {
        self.status = status
        self.code = code
        self.message = message
        self.format = format
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
            let data = try JSONEncoder().encode(ErrorBody(error: .init(code: code, message: message)))
            return Response(
                status: status,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: data))
            )
        case .html:
            let page = Templates.errorPage(title: status.reasonPhrase, message: message)
            var headers = Templates.pageHeaders
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
        }
    }
}

/// The JSON shape of every API error.
struct ErrorBody: Encodable {
    struct Detail: Encodable {
        let code: String
        let message: String
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
