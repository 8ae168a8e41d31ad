import Foundation

/// A frame a stream client sends: `{"type":"reply"|"ack"|"kudos","response_id":…,"text":…,"ref":…}`.
/// `ref` is optional and echoed back so a client can match answers to requests.
struct ClientFrame: Decodable, Sendable {
    var type: String
    var response_id: Int64?
    var text: String?
    var ref: String?

    /// The largest frame a client may send; replies are capped at 5,000 characters, so 64 KB is ample.
    static let maxBytes = 64 * 1024

    static func parse(_ text: String) throws -> ClientFrame {
        guard text.utf8.count <= maxBytes else {
            throw AppError(.contentTooLarge, code: "frame_too_large", "frames are limited to \(maxBytes / 1024) KB")
        }
        return try JSONInput.decode(ClientFrame.self, from: .init(string: text))
    }

    /// `type` and `ref` of a frame that failed strict decoding, when it is at least a JSON object.
    static func loose(_ text: String) -> (String?, String?) {
        guard text.utf8.count <= maxBytes,
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        else { return (nil, nil) }
        return ((object["type"] as? String).map { TextLimit.prefix($0, 40) }, (object["ref"] as? String).map { TextLimit.prefix($0, 200) })
    }

    func responseID() throws -> Int64 {
        guard let response_id else { throw AppError.badRequest("missing field 'response_id'", code: "invalid_field") }
        return response_id
    }
}

/// What the server answers to a client frame.
struct ServerReply: Encodable {
    var type: String
    var request: String?
    var ref: String?
    var response_id: Int64?
    var message_id: Int64?
    var kudos_id: Int64?
    var event_id: Int64?
    var handled_at: Date?
    var status: Int?
    var code: String?
    var message: String?

    static func ok(_ frame: ClientFrame, _ result: ActionResult) -> ServerReply {
        ServerReply(
            type: "ok", request: frame.type, ref: frame.ref, response_id: result.response_id, message_id: result.message_id,
            kudos_id: result.kudos_id, event_id: result.event_id, handled_at: result.handled_at
        )
    }

    static func error(_ error: AppError, request: String? = nil, ref: String? = nil) -> ServerReply {
        ServerReply(type: "error", request: request, ref: ref, status: Int(error.status.code), code: error.code, message: error.message)
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? #"{"type":"error","code":"internal"}"#
    }
}
