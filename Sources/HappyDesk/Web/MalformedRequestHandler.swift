import NIOCore
import NIOHTTP1

/// Answers bytes that are not HTTP/1.1 (a raw `é` in the request line, `Content-Length: abc`, a bad header
/// byte) with `400` and closes the connection.
///
/// hummingbird-websocket turns off NIO's own protocol error handler, and its upgrade handler then neither
/// answers nor closes: each such connection was held open, silent, until the idle timeout. Sits right after
/// the request decoder, so it sees the decoder's `HTTPParserError` first.
final class MalformedRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundOut = HTTPServerResponsePart

    /// Once a request has been read a response may be on the wire, so a later parse error only closes.
    private var sawRequest = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        sawRequest = true
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        // The connection ended mid-request (the client went away, or the idle deadline closed it): nobody to answer.
        guard parseError != .invalidEOFState else {
            context.close(promise: nil)
            return
        }
        guard !sawRequest else {
            // As if the client had half-closed: the answers already due are written, then the connection ends.
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            return
        }
        sawRequest = true
        let text = #"{"error":{"code":"malformed_http","message":"the request is not valid HTTP/1.1 (\#(Self.describe(parseError)))"}}"#
        var body = context.channel.allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        let head = HTTPResponseHead(
            version: .http1_1, status: .badRequest,
            headers: [
                "Content-Type": "application/json; charset=utf-8", "Content-Length": "\(body.readableBytes)", "Connection": "close",
                "Cache-Control": "no-store",
            ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        // The upgrade handler then ends quietly instead of logging an error for every malformed request.
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    /// A short, fixed description: never the client's bytes.
    static func describe(_ error: HTTPParserError) -> String {
        switch error {
        case .invalidURL, .invalidCharactersUsed: "a character that is not allowed in the request target; percent-encode it"
        case .invalidHeaderToken: "a header name or value with a byte that is not allowed"
        case .invalidContentLength: "Content-Length is not a number"
        case .unexpectedContentLength: "Content-Length where none is allowed"
        case .invalidMethod: "an unknown method"
        case .invalidVersion: "an unknown HTTP version"
        case .headerOverflow: "headers over the size limit"
        case .invalidChunkSize: "an invalid chunk size"
        default: "malformed request"
        }
    }
}

@available(*, unavailable)
extension MalformedRequestHandler: Sendable {}
