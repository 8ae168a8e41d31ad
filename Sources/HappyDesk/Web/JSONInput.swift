import Foundation
import Hummingbird

/// Reads a JSON request body with a size cap and turns decoding failures into 400s that name the field.
public enum JSONInput {
    public static let maxBody = 64 * 1024

    public static func body(_ request: Request, limit: Int = maxBody) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw AppError(.contentTooLarge, code: "body_too_large", "request body is over the \(limit / 1024) KB limit")
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw AppError(.contentTooLarge, code: "body_too_large", "request body is over the \(limit / 1024) KB limit")
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        let data = Data(buffer: buffer)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as ClosureValidationError {
            throw AppError.badRequest(error.description, code: "invalid_field")
        } catch let error as DecodingError {
            throw AppError.badRequest(describe(error), code: error.isSyntax ? "malformed_json" : "invalid_field")
        } catch let error as AppError {
            throw error
        } catch {
            // Whatever else a decoder may throw is still the client's body, never a 500.
            throw AppError.badRequest("body is not valid JSON", code: "malformed_json")
        }
    }

    /// The field's path as a client wrote it, cut to a readable length (keys are client text too).
    static func path(_ codingPath: [any CodingKey]) -> String {
        TextLimit.preview(fieldPath(codingPath), 200)
    }

    static func fieldPath(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "missing field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty { return "body must be a JSON object" }
            return "field '\(path(context.codingPath))' must be \(describe(type))"
        case .valueNotFound(let type, let context):
            if context.codingPath.isEmpty { return "body must be a JSON object, not null" }
            return "field '\(path(context.codingPath))' must be \(describe(type)), not null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "body is not valid JSON" }
            return "field '\(path(context.codingPath))' is invalid: \(TextLimit.preview(context.debugDescription, 200))"
        @unknown default:
            return "body could not be read"
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "an object"
        }
    }
}

extension DecodingError {
    var isSyntax: Bool {
        if case .dataCorrupted(let context) = self, context.codingPath.isEmpty { return true }
        return false
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self = Data(buffer.readableBytesView)
    }
}
