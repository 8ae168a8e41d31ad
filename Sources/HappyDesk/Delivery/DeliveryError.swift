/// A delivery configuration that cannot work, reported at start-up instead of on every attempt.
public struct DeliveryConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
