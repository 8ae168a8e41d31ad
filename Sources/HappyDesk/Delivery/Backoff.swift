import Foundation

/// Exponential backoff with jitter: attempt n waits between half and all of base·2ⁿ⁻¹ (capped), so a
/// crowd of rows that failed together during an outage does not retry in lock-step.
public struct Backoff: Sendable {
    public var base: TimeInterval
    public var max: TimeInterval

    public init(base: TimeInterval, max: TimeInterval) {
        self.base = base
        self.max = max
    }

    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0...1)) -> TimeInterval {
        let exponent = Double(Swift.min(Swift.max(attempt - 1, 0), 30))
        let ceiling = Swift.min(max, base * pow(2, exponent))
        return ceiling / 2 + ceiling / 2 * random
    }
}
