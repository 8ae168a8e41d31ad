import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP server's child channel with a deadline on the first request.
///
/// Hummingbird's idle timeout (`HTTPConnectionStateHandler`) only joins the pipeline once the WebSocket
/// upgrade handler has seen a whole request head, so a socket that sends nothing, or half a request line,
/// would otherwise be held open for ever. This adds a handler in front that closes such a connection after
/// `timeout`; once the first head has arrived it steps aside and the idle timeout takes over.
struct FirstRequestDeadlineChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let base: HTTP1WebSocketUpgradeChannel
    let timeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(FirstRequestDeadlineHandler(timeout: timeout), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(MalformedRequestHandler(), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Closes the connection when, `timeout` after it opened, the upgrade handler is still waiting for the
/// first request head; otherwise removes itself.
final class FirstRequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.deadline = nil
            let waiting = try? context.pipeline.syncOperations.handler(
                type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            if waiting != nil {
                // As if the client had half-closed: the upgrade handler then ends the connection as a quiet
                // non-event (a plain close would be logged as an error for every idle socket).
                context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
                context.close(promise: nil)
            } else {
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension FirstRequestDeadlineHandler: Sendable {}
