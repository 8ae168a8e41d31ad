import Foundation

/// A resolved or closed ticket, as posted by an ITSM (generic JSON) or converted from a native webhook.
public struct Closure: Sendable, Equatable, Codable {
    public struct Requester: Sendable, Equatable, Codable {
        public var email: String
        public var name: String?
        public var locale: String?
        public init(email: String, name: String? = nil, locale: String? = nil) {
            self.email = email
            self.name = name
            self.locale = locale
        }
    }

    public struct Assignee: Sendable, Equatable, Codable {
        public var id: String?
        public var name: String?
        public var email: String?
        public init(id: String? = nil, name: String? = nil, email: String? = nil) {
            self.id = id
            self.name = name
            self.email = email
        }
    }

    public var ticketID: String
    public var source: String
    public var kind: TicketKind
    /// `resolved` or `closed`; surveys trigger on the state their policy names for the source.
    public var state: String
    public var requester: Requester
    public var assignee: Assignee?
    public var group: String?
    public var service: String?
    public var channel: String?
    public var country: String?
    public var reassignments: Int
    public var closedAt: Date

    public init(
        ticketID: String, source: String, kind: TicketKind, state: String = "resolved", requester: Requester,
        assignee: Assignee? = nil, group: String? = nil, service: String? = nil, channel: String? = nil,
        country: String? = nil, reassignments: Int = 0, closedAt: Date = Date()
    ) {
        self.ticketID = ticketID
        self.source = source
        self.kind = kind
        self.state = state
        self.requester = requester
        self.assignee = assignee
        self.group = group
        self.service = service
        self.channel = channel
        self.country = country
        self.reassignments = reassignments
        self.closedAt = closedAt
    }

    enum CodingKeys: String, CodingKey {
        case ticketID = "ticket_id"
        case source, kind, state, requester, assignee, group, service, channel, country, reassignments
        case closedAt = "closed_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ticketID = try c.decode(String.self, forKey: .ticketID)
        source = try c.decode(String.self, forKey: .source)
        let kindText = try c.decode(String.self, forKey: .kind)
        guard let kind = TicketKind(rawValue: kindText) else {
            throw ClosureValidationError(field: "kind", "must be 'incident' or 'request', not '\(TextLimit.preview(kindText, 40))'")
        }
        self.kind = kind
        state = try c.decodeIfPresent(String.self, forKey: .state) ?? "resolved"
        requester = try c.decode(Requester.self, forKey: .requester)
        assignee = try c.decodeIfPresent(Assignee.self, forKey: .assignee)
        group = try c.decodeIfPresent(String.self, forKey: .group)
        service = try c.decodeIfPresent(String.self, forKey: .service)
        channel = try c.decodeIfPresent(String.self, forKey: .channel)
        country = try c.decodeIfPresent(String.self, forKey: .country)
        reassignments = try c.decodeIfPresent(Int.self, forKey: .reassignments) ?? 0
        if let text = try c.decodeIfPresent(String.self, forKey: .closedAt) {
            guard let date = ISO8601.parse(text) else {
                throw ClosureValidationError(
                    field: "closed_at", "must be an ISO 8601 time such as 2026-11-20T14:05:00Z, not '\(TextLimit.preview(text, 40))'")
            }
            closedAt = date
        } else {
            closedAt = Date()
        }
    }

    /// Rules a decoder cannot express. Free text that may reach an email header must hold no control characters.
    /// Also puts the addresses in their stored form (`EmailAddress.deliverable`: the domain in ASCII).
    /// `utf8LocalPart`: whether the requester may have a non-ASCII local part (the relay offers SMTPUTF8, or
    /// surveys do not go by email).
    public mutating func validate(now: Date = Date(), utf8LocalPart: Bool = true) throws(ClosureValidationError) {
        try Self.check(ticketID, "ticket_id", max: 128)
        try Self.check(source, "source", max: 32)
        guard source.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw ClosureValidationError(field: "source", "may use only a-z, 0-9, _ and - (e.g. servicenow, jira, zendesk, freshservice, other)")
        }
        guard state == "resolved" || state == "closed" else {
            throw ClosureValidationError(field: "state", "must be 'resolved' or 'closed', not '\(TextLimit.preview(state, 40))'")
        }
        do {
            requester.email = try EmailAddress.deliverable(requester.email, utf8LocalPart: utf8LocalPart)
        } catch {
            throw ClosureValidationError(field: "requester.email", "'\(TextLimit.preview(requester.email, 80))' cannot be emailed: \(error)")
        }
        try Self.check(requester.name, "requester.name", max: 200)
        try Self.check(requester.locale, "requester.locale", max: 35)
        if let assignee {
            try Self.check(assignee.id, "assignee.id", max: 128)
            try Self.check(assignee.name, "assignee.name", max: 200)
            if let email = assignee.email {
                do {
                    self.assignee?.email = try EmailAddress.deliverable(email)
                } catch {
                    throw ClosureValidationError(field: "assignee.email", "'\(TextLimit.preview(email, 80))' is not a valid email address: \(error)")
                }
            }
            guard assignee.id?.isEmpty == false || assignee.email?.isEmpty == false else {
                throw ClosureValidationError(field: "assignee", "needs an id or an email so feedback can be credited")
            }
        }
        for (value, field) in [(group, "group"), (service, "service"), (channel, "channel"), (country, "country")] {
            try Self.check(value, field, max: 200)
        }
        guard (0...1000).contains(reassignments) else {
            throw ClosureValidationError(field: "reassignments", "must be a whole number from 0 to 1000")
        }
        guard closedAt <= now.addingTimeInterval(86_400) else {
            throw ClosureValidationError(field: "closed_at", "lies more than a day in the future")
        }
        // Policies add delays and expiries to this date, and reports count days from it: keep it sane.
        guard closedAt >= Self.earliestClosedAt else {
            throw ClosureValidationError(field: "closed_at", "lies before 2000-01-01")
        }
    }

    /// 2000-01-01T00:00:00Z: no ticket in a survey tool closed before it.
    static let earliestClosedAt = Date(timeIntervalSince1970: 946_684_800)

    private static func check(_ value: String?, _ field: String, max: Int) throws(ClosureValidationError) {
        guard let value else { return }
        guard !value.isEmpty || field.hasSuffix("name") == false else { return }
        if field == "ticket_id" || field == "source", value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ClosureValidationError(field: field, "must not be empty")
        }
        if let problem = TextLimit.problem(value, max: max) { throw ClosureValidationError(field: field, problem) }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ClosureValidationError(field: field, "must not contain control characters such as line breaks")
        }
    }
}

public struct ClosureValidationError: Error, CustomStringConvertible, Sendable {
    public var field: String
    public var problem: String
    public init(field: String, _ problem: String) {
        self.field = field
        self.problem = problem
    }
    public var description: String { "\(field) \(problem)" }
}

/// ISO 8601 parsing with and without fractional seconds.
///
/// Uses the Sendable `Date.ISO8601FormatStyle`: building an `ISO8601DateFormatter` per call cost more
/// than the database write on the intake path.
public enum ISO8601 {
    static let plain = Date.ISO8601FormatStyle()
    static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public static func parse(_ text: String) -> Date? {
        if let date = try? plain.parse(text) { return date }
        return try? fractional.parse(text)
    }

    /// `2026-11-22T09:30:00Z` (UTC, whole seconds), as `ISO8601FormatStyle()` writes it, without its cost.
    public static func format(_ date: Date) -> String {
        let time = UTCTime(date)
        guard (0...9999).contains(time.year) else { return plain.format(date) }
        return time.dateTime(separator: "T") + "Z"
    }
}
