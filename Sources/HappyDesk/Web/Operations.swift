import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `/readyz`: whether this instance should get traffic. Ready when the database is migrated and takes a
/// write (a probe write in `happydesk_settings`, rolled back), and the sender is not stuck: when due mail
/// has waited longer than `readyOutboxMaxAge` while this process's sender showed no sign of life for as long.
public struct Readiness: Sendable {
    public let server: HappyDeskServer

    public init(server: HappyDeskServer) { self.server = server }

    private struct ProbeRollback: Error {}

    /// nil when ready, else the reason in words.
    public func notReadyReason(now: Date = Date()) async -> String? {
        let database = server.database
        let migrations = server.settings.migrationsDirectory
        do {
            // checkMigrated blocks (it reads the migration files and the database): keep it off the event loops.
            try await NIOThreadPool.singleton.runIfActive { try database.checkMigrated(directory: migrations) }
        } catch {
            return "database is not migrated: \(error)"
        }
        do {
            try await database.write { db in
                try SettingsStore.probeWrite(db, now: now)
                throw ProbeRollback()
            }
        } catch is ProbeRollback {
            // The write went through and was rolled back: writable.
        } catch {
            return "database does not take writes: \(error)"
        }
        let maxAge = server.settings.delivery.readyOutboxMaxAge
        if let beat = server.heartbeat.lastBeat, now.timeIntervalSince(beat) > maxAge {
            let oldest: Date?
            do {
                oldest = try await database.read { db in try Outbox.dueSummary(db, now: now).oldestDueAt }
            } catch {
                return "cannot read the outbox: \(error)"
            }
            if let oldest, now.timeIntervalSince(oldest) > maxAge {
                return "sender is stuck: the oldest due delivery has waited \(Int(now.timeIntervalSince(oldest))) s and the sender "
                    + "showed no progress for \(Int(now.timeIntervalSince(beat))) s"
            }
        }
        return nil
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("/readyz") { _, context -> Response in
            let reason = await notReadyReason()
            var body = JSONWriter()
            if let reason {
                context.logger.warning("not ready", metadata: ["reason": "\(reason)"])
                body.field("status", "not_ready")
                body.field("reason", reason)
            } else {
                body.field("status", "ready")
            }
            return Response(
                status: reason == nil ? .ok : .serviceUnavailable, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: body.finish())))
        }
    }
}

/// Where the metrics listener listens: `host:port`, or nil for `off`.
public struct MetricsAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HAPPYDESK_METRICS_ADDRESS`: `off`, `host:port` or `[v6]:port`; nil for `off`.
    public static func parse(_ text: String) throws -> MetricsAddress? {
        let value = text.trimmingCharacters(in: .whitespaces)
        if value.lowercased() == "off" { return nil }
        var host: Substring
        var portText: Substring
        if value.hasPrefix("["), let close = value.firstIndex(of: "]") {
            host = value[value.index(after: value.startIndex)..<close]
            let rest = value[value.index(after: close)...]
            guard rest.hasPrefix(":") else { throw StartupError(Self.message(text)) }
            portText = rest.dropFirst()
        } else {
            guard let colon = value.lastIndex(of: ":") else { throw StartupError(Self.message(text)) }
            host = value[..<colon]
            portText = value[value.index(after: colon)...]
            if host.contains(":") { throw StartupError(Self.message(text)) }
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }), let port = Int(portText), (0...65535).contains(port) else {
            throw StartupError(Self.message(text))
        }
        return MetricsAddress(host: String(host), port: port)
    }

    static func message(_ text: String) -> String {
        "HAPPYDESK_METRICS_ADDRESS must be host:port (such as 127.0.0.1:9464) or off, not '\(text)'"
    }
}

/// Refreshes the gauges that are read from the database or the hub at scrape time, so no hot path pays
/// for them: two small indexed queries per scrape. A database that cannot be read leaves the last values.
public struct MetricsGauges: Sendable {
    public let server: HappyDeskServer

    public init(server: HappyDeskServer) { self.server = server }

    public func refresh(now: Date = Date()) async {
        let metrics = server.metrics
        metrics.streamSockets.record(server.hub.subscriberCount)
        do {
            let (summary, oldestChange) = try await server.database.read { db in
                (try Outbox.dueSummary(db, now: now), try Rollups.oldestPendingChange(db))
            }
            metrics.outboxDue.record(summary.due)
            metrics.outboxOldestDueSeconds.record(summary.oldestDueAt.map { max(0, now.timeIntervalSince($0)) } ?? 0)
            metrics.rollupLagSeconds.record(oldestChange.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        } catch {
            server.logger.debug("metrics gauges not refreshed", metadata: ["error": "\(error)"])
        }
    }
}

/// The metrics listener (`HAPPYDESK_METRICS_ADDRESS`, default 127.0.0.1:9464): `GET /metrics` in the
/// Prometheus text format, apart from the main listener so it can stay on loopback or an internal network.
/// Run it as one more service beside the main application.
public func buildMetricsApplication(_ server: HappyDeskServer, address: MetricsAddress, onRunning: (@Sendable (Int) async -> Void)? = nil)
    -> some ApplicationProtocol
{
    let router = Router()
    let gauges = MetricsGauges(server: server)
    router.get("/metrics") { _, _ -> Response in
        await gauges.refresh()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: server.metrics.exposition())))
    }
    var logger = server.logger
    logger[metadataKey: "listener"] = "metrics"
    return Application(
        router: router,
        configuration: .init(address: .hostname(address.host, port: address.port), serverName: "happydesk-metrics"),
        onServerRunning: { channel in await onRunning?(channel.localAddress?.port ?? 0) },
        logger: logger
    )
}
