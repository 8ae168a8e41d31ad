import CoreMetrics
import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// The server's metrics: one `PrometheusCollectorRegistry` per `HappyDeskServer`, recorded through
/// swift-metrics handles made with an explicit `PrometheusMetricsFactory` over that registry.
///
/// Why per server and not the global `MetricsSystem`: the test suite opens many servers in one process, and
/// each must count only what it did; `MetricsSystem.bootstrap` may run once per process. `serve` still
/// bootstraps the global system once with this server's factory, so metrics of libraries land in the same
/// exposition.
///
/// Every handle is made once (here, or once per route and status for HTTP) and reused: a request pays an
/// atomic add, not a registry lookup. Label values come from closed sets only (route templates, enums,
/// status codes), never from request data, so no token, address or ticket id can reach a label.
public final class HappyDeskMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    /// Closure sources: the generic JSON route and the Jira route.
    public enum ClosureSource: String, Sendable, CaseIterable { case generic, jira }
    /// What intake did: `created` (an invitation to send), `throttled` or `sampled_out` (skipped by policy),
    /// `duplicate`, `ignored` (not the trigger state), `rejected` (bad input, bad signature or credential).
    public enum ClosureResult: String, Sendable, CaseIterable { case created, throttled, sampled_out, duplicate, ignored, rejected }
    /// What one recorded delivery attempt came to (`Outbox.record`'s outcome).
    public enum DeliveryResult: String, Sendable, CaseIterable { case sent, retry, deferred, dead, cancelled, stale }

    private let closureCounters: [String: CoreMetrics.Counter]
    private let responseCounters: [ScoreBand: CoreMetrics.Counter]
    private let deliveryCounters: [String: CoreMetrics.Counter]
    private let http = NIOLockedValueBox<[HTTPKey: HTTPHandles]>([:])

    public let outboxDue: CoreMetrics.Gauge
    public let outboxOldestDueSeconds: CoreMetrics.Gauge
    public let streamSockets: CoreMetrics.Gauge
    public let rollupLagSeconds: CoreMetrics.Gauge
    public let writeBatchSize: CoreMetrics.Recorder

    static let httpDuration = "happydesk_http_request_duration_seconds"
    static let batchSize = "happydesk_write_batch_size"

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Self.httpDuration] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        factory.valueHistogramBuckets[Self.batchSize] = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        self.registry = registry
        self.factory = factory
        var closures: [String: CoreMetrics.Counter] = [:]
        for source in ClosureSource.allCases {
            for result in ClosureResult.allCases {
                closures["\(source.rawValue)/\(result.rawValue)"] = Counter(
                    label: "happydesk_closures_total", dimensions: [("source", source.rawValue), ("result", result.rawValue)], factory: factory)
            }
        }
        closureCounters = closures
        var bands: [ScoreBand: CoreMetrics.Counter] = [:]
        for band in ScoreBand.allCases {
            bands[band] = Counter(label: "happydesk_responses_total", dimensions: [("band", band.rawValue)], factory: factory)
        }
        responseCounters = bands
        var deliveries: [String: CoreMetrics.Counter] = [:]
        for channel in DeliveryChannel.allCases {
            for result in DeliveryResult.allCases {
                deliveries["\(channel.rawValue)/\(result.rawValue)"] = Counter(
                    label: "happydesk_deliveries_total", dimensions: [("channel", channel.rawValue), ("result", result.rawValue)],
                    factory: factory)
            }
        }
        deliveryCounters = deliveries
        outboxDue = Gauge(label: "happydesk_outbox_due", factory: factory)
        outboxOldestDueSeconds = Gauge(label: "happydesk_outbox_oldest_due_seconds", factory: factory)
        streamSockets = Gauge(label: "happydesk_stream_sockets", factory: factory)
        rollupLagSeconds = Gauge(label: "happydesk_rollup_lag_seconds", factory: factory)
        writeBatchSize = Recorder(label: Self.batchSize, factory: factory)
        for gauge in [outboxDue, outboxOldestDueSeconds, streamSockets, rollupLagSeconds] { gauge.record(0) }
    }

    public func closure(source: ClosureSource, result: ClosureResult) {
        closureCounters["\(source.rawValue)/\(result.rawValue)"]?.increment()
    }

    public func response(band: ScoreBand) {
        responseCounters[band]?.increment()
    }

    /// `outcome` is `Outbox.record`'s answer; anything outside `DeliveryResult` is not counted.
    public func delivery(channel: DeliveryChannel, outcome: String) {
        deliveryCounters["\(channel.rawValue)/\(outcome)"]?.increment()
    }

    private struct HTTPKey: Hashable {
        var route: String
        var status: Int
    }

    private struct HTTPHandles {
        var requests: CoreMetrics.Counter
        var duration: CoreMetrics.Timer
    }

    /// Counts one request under its route template (`/s/{token}`; `unmatched` when no route matched).
    public func httpRequest(route: String, status: Int, nanoseconds: Int64) {
        let key = HTTPKey(route: route, status: status)
        let handles = http.withLockedValue { cache -> HTTPHandles in
            if let found = cache[key] { return found }
            let made = HTTPHandles(
                requests: Counter(label: "happydesk_http_requests_total", dimensions: [("route", route), ("status", "\(status)")], factory: factory),
                duration: Timer(label: Self.httpDuration, dimensions: [("route", route)], factory: factory))
            cache[key] = made
            return made
        }
        handles.requests.increment()
        handles.duration.recordNanoseconds(nanoseconds)
    }

    /// The Prometheus text exposition of everything recorded so far.
    public func exposition() -> String { registry.emitToString() }
}
