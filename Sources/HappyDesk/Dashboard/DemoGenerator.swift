import Foundation

/// Fills a database with realistic synthetic closures, invitations and responses, so a new user sees a full
/// dashboard at once and the benchmark has a million responses to chew on. Shaped after published IT
/// experience benchmarks (see docs/dashboard.md), never copied from them: happiness around +70, factors
/// that follow the score, lost time with a long tail (about an eighth of tickets cause 80% of it), each
/// reassignment costing about 8 points, and one service (VPN) getting worse over the last month.
///
/// Rows are written in batches of one transaction each, through the normal tables, so the dashboard
/// roll-up triggers run exactly as they do for real answers. Deterministic for a given seed.
public struct DemoGenerator: Sendable {
    public var responses: Int
    public var days: Int
    /// Responses ÷ invitations sent.
    public var responseRate: Double = 0.4
    public var seed: UInt64 = 42
    /// Last day of the data (UTC); today by default.
    public var endDate: Date = Date()
    public var batchSize = 5_000

    public init(responses: Int, days: Int) {
        self.responses = responses
        self.days = days
    }

    struct Analyst { var id: String; var name: String; var group: String; var effect: Double }

    static let services: [(name: String, base: Double, share: Double)] = [
        ("Email", 78, 0.16), ("VPN", 60, 0.14), ("Laptop", 74, 0.18), ("ERP", 56, 0.10), ("Printing", 66, 0.08),
        ("Access & accounts", 80, 0.16), ("Mobile phones", 72, 0.08), ("Collaboration", 76, 0.10),
    ]
    static let groups = ["Service Desk", "Workplace", "Network", "Applications", "Identity"]
    static let channels: [(String, Double)] = [("portal", 0.42), ("email", 0.25), ("phone", 0.18), ("chat", 0.12), ("walk-in", 0.03)]
    static let countries: [(String, Double)] = [("DE", 0.30), ("GB", 0.20), ("US", 0.20), ("IN", 0.12), ("PL", 0.10), ("FR", 0.08)]
    static let firstNames = [
        "Alex", "Sam", "Robin", "Kim", "Maria", "Jonas", "Priya", "Tom", "Lena", "Omar", "Chen", "Eva", "Marek", "Sofia", "Luca", "Anna",
    ]
    static let lastNames = ["Berg", "Novak", "Schmidt", "Patel", "Kowalski", "Martin", "Jones", "Weber", "Rossi", "Dubois", "Singh", "Fischer"]
    static let lostBuckets: [(id: String, minutes: Int)] = [
        ("none", 0), ("lt30m", 15), ("30to60m", 45), ("1to2h", 90), ("2to4h", 180), ("4to8h", 360), ("gt1d", 600),
    ]
    static let lostWeights: [ScoreBand: [Double]] = [
        .positive: [0.70, 0.17, 0.07, 0.03, 0.015, 0.01, 0.005],
        .neutral: [0.45, 0.22, 0.13, 0.09, 0.06, 0.03, 0.02],
        .negative: [0.12, 0.10, 0.12, 0.14, 0.16, 0.18, 0.18],
    ]
    static let comments: [ScoreBand: [String]] = [
        .positive: [
            "Quick and friendly, thank you!", "Sorted in minutes. Great job.", "Very patient and explained everything.",
            "Fixed before I finished my coffee.", "Excellent, kept me posted all the way.",
        ],
        .neutral: [
            "Fine in the end, took a while.", "OK, but I had to explain it twice.", "Works now, not sure what was changed.",
            "Good result, slow start.",
        ],
        .negative: [
            "Still not working after three days.", "Ticket was bounced between teams, nobody owned it.", "I lost half a day waiting for a call back.",
            "Closed without asking me if it was fixed.", "VPN drops every hour <again>, see <b>INC</b> history & logs.",
        ],
    ]

    /// Writes everything; `progress` gets (responses written, total) after each batch.
    public func run(writer: any AppStorage, catalog: SurveyCatalog, progress: (@Sendable (Int, Int) -> Void)? = nil) throws {
        var rng = SplitMix64(seed: seed)
        var analysts: [Analyst] = []
        for index in 0..<30 {
            let name = "\(Self.firstNames[index % Self.firstNames.count]) \(Self.lastNames[(index * 7) % Self.lastNames.count])"
            analysts.append(
                Analyst(id: "a\(1000 + index)", name: name, group: Self.groups[index % Self.groups.count], effect: (rng.double() - 0.5) * 24))
        }
        let invitations = max(responses, Int((Double(responses) / max(min(responseRate, 1), 0.01)).rounded()))
        let endDay = Int(floor(endDate.timeIntervalSince1970 / 86_400))
        let firstDay = endDay - max(days, 1) + 1
        let runID = String(UInt32(truncatingIfNeeded: rng.next()), radix: 36)
        let factorLists: [TicketKind: [ScoreBand: [String]]] = Dictionary(
            uniqueKeysWithValues: TicketKind.allCases.map { kind in
                (
                    kind,
                    Dictionary(
                        uniqueKeysWithValues: ScoreBand.allCases.map { band in (band, catalog.survey(for: kind)?.factors(for: band).map(\.id) ?? []) }
                    )
                )
            })
        // Answered invitations are spread evenly among all invitations, so every day has both.
        var answered = 0
        var written = 0
        while written < invitations {
            let count = min(batchSize, invitations - written)
            let start = written
            var batchAnswered = 0
            try writer.writeSync { db in
                for offset in 0..<count {
                    let index = start + offset
                    let isAnswered = (index + 1) * responses / invitations > index * responses / invitations
                    let kind: TicketKind = rng.double() < 0.62 ? .incident : .request
                    let serviceIndex = rng.pick(Self.services.map { $0.share })
                    let service = Self.services[serviceIndex]
                    let analyst = analysts[Int(rng.next() % UInt64(analysts.count))]
                    let reassignments = rng.pick([0.52, 0.26, 0.12, 0.06, 0.025, 0.015])
                    let day = firstDay + Int(Double(index) / Double(invitations) * Double(max(days, 1)))
                    let closedAt = Double(day) * 86_400 + 7 * 3_600 + rng.double() * 11 * 3_600
                    let requester = Int(rng.next() % 40_000)
                    let locale = Self.countries[rng.pick(Self.countries.map { $0.1 })].0 == "DE" ? "de-DE" : "en-GB"
                    let email = "user\(requester)@example.com"
                    let name = "\(Self.firstNames[requester % Self.firstNames.count]) \(Self.lastNames[requester % Self.lastNames.count])"
                    let country = Self.countries[rng.pick(Self.countries.map { $0.1 })].0
                    let channel = Self.channels[rng.pick(Self.channels.map { $0.1 })].0
                    let source = rng.double() < 0.75 ? "servicenow" : "jira"
                    let ticket = "\(kind == .incident ? "INC" : "REQ")-\(runID)-\(index)"
                    let closure = Closure(
                        ticketID: ticket, source: source, kind: kind, state: "resolved", requester: .init(email: email, name: name, locale: locale),
                        assignee: .init(id: analyst.id, name: analyst.name, email: "\(analyst.id)@example.com"), group: analyst.group,
                        service: service.name, channel: channel, country: country, reassignments: reassignments,
                        closedAt: Date(timeIntervalSince1970: closedAt))
                    var hash = [UInt8](repeating: 0, count: 32)
                    var counter = UInt64(index) ^ (seed << 40)
                    for b in 0..<8 { hash[b] = UInt8(truncatingIfNeeded: counter); counter >>= 8 }
                    for b in 8..<32 { hash[b] = UInt8(truncatingIfNeeded: rng.next()) }
                    let sentAt = closedAt + 300
                    let expires = sentAt + 28 * 86_400
                    let failed = !isAnswered && rng.double() < 0.02
                    let status: InvitationStatus =
                        isAnswered ? .answered : failed ? .failed : (expires < endDate.timeIntervalSince1970 ? .expired : .sent)
                    let invitationID = try InvitationStore.create(
                        db, closure: closure, surveyID: kind.rawValue, tokenHash: Data(hash), locale: locale.hasPrefix("de") ? "de" : "en",
                        status: status, skipReason: nil, now: Date(timeIntervalSince1970: closedAt + 1),
                        expiresAt: Date(timeIntervalSince1970: expires), sentAt: failed ? nil : Date(timeIntervalSince1970: sentAt))
                    guard isAnswered else { continue }
                    batchAnswered += 1
                    // The latent happiness of this ticket, then a score drawn around it.
                    let recent = day > firstDay + days - 31
                    var target = service.base + analyst.effect + (kind == .request ? 6 : 0) - 8 * Double(reassignments)
                    if service.name == "VPN" && recent { target -= 16 }
                    if service.name == "ERP" { target += Double(day - firstDay) / Double(max(days, 1)) * 14 }
                    let band = Self.band(target: target, rng: &rng)
                    let score = Self.score(in: band, rng: &rng)
                    var lost: (id: String, minutes: Int)?
                    if rng.double() < 0.75 {
                        var weights = Self.lostWeights[band] ?? [1]
                        if reassignments >= 2 { weights = weights.enumerated().map { $0.offset >= 4 ? $0.element * 1.6 : $0.element } }
                        lost = Self.lostBuckets[rng.pick(weights)]
                    }
                    let comment: String? = rng.double() < 0.22 ? (Self.comments[band] ?? [""]).randomElement(using: &rng) : nil
                    let answeredAt = min(closedAt + 600 + rng.double() * 36 * 3_600, endDate.timeIntervalSince1970)
                    let factorIDs = Self.factors(
                        band: band, list: factorLists[kind]?[band] ?? [], reassignments: reassignments, vpnRecent: service.name == "VPN" && recent,
                        rng: &rng)
                    _ = try ResponseStore.insert(
                        db, invitationID: invitationID, score: score, lostBucket: lost?.id, lostMinutes: lost?.minutes, comment: comment,
                        factorIDs: factorIDs, at: Date(timeIntervalSince1970: answeredAt))
                }
                // Fold as we go, in the same transaction: the demo leaves no backlog for the first report.
                while try Rollups.fold(db) > 0 {}
            }
            written += count
            answered += batchAnswered
            progress?(answered, responses)
        }
    }

    static func band(target: Double, rng: inout SplitMix64) -> ScoreBand {
        let h = max(-95, min(95, target)) / 100
        let neutral = 0.12
        let positive = (1 - neutral + h) / 2
        let roll = rng.double()
        return roll < positive ? .positive : roll < positive + neutral ? .neutral : .negative
    }

    static func score(in band: ScoreBand, rng: inout SplitMix64) -> Int {
        switch band {
        case .positive: return rng.double() < 0.7 ? 10 : 9
        case .neutral: return rng.double() < 0.6 ? 8 : 7
        case .negative: return rng.pick([0.15, 0.05, 0.07, 0.10, 0.13, 0.25, 0.25])
        }
    }

    /// One to three factors, weighted towards the front of the list, with the reasons the scenario calls for.
    static func factors(band: ScoreBand, list: [String], reassignments: Int, vpnRecent: Bool, rng: inout SplitMix64) -> [String] {
        guard !list.isEmpty, rng.double() < 0.85 else { return [] }
        var weights = list.indices.map { 1.0 / Double($0 + 1) }
        if band == .negative {
            if let i = list.firstIndex(of: "bounced") { weights[i] += Double(reassignments) * 0.6 }
            if vpnRecent, let i = list.firstIndex(of: "slow") { weights[i] += 2.5 }
        }
        if band == .positive, let i = list.firstIndex(of: "attitude") { weights[i] += 0.6 }
        var chosen: [String] = []
        let count = 1 + rng.pick([0.55, 0.32, 0.13])
        for _ in 0..<min(count, list.count) {
            let index = rng.pick(weights)
            if !chosen.contains(list[index]) { chosen.append(list[index]) }
            weights[index] = 0
        }
        return chosen
    }
}

/// A small fast deterministic generator (SplitMix64): demo data must be reproducible and cheap per row.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func double() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// An index drawn with the given weights.
    mutating func pick(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var roll = double() * total
        for (index, weight) in weights.enumerated() {
            roll -= weight
            if roll < 0 { return index }
        }
        return weights.count - 1
    }
}
