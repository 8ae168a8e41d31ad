import Foundation
import Logging

/// What intake did with a closure.
public struct IntakeResult: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// A new invitation was created (HTTP 201).
        case created
        /// The same (source, ticket_id) was seen before; nothing changed (HTTP 200).
        case duplicate
        /// The closure's state is not the one this source triggers on (HTTP 202, nothing stored).
        case ignored
    }

    public var outcome: Outcome
    public var invitationID: Int64?
    /// pending, sent, answered, skipped, expired or failed.
    public var status: String
    public var skipReason: String?
    /// Only on `created` and not skipped: the clear link, which is never stored.
    public var surveyURL: String?
    public var expiresAt: Date?
}

/// Turns closures into invitations: idempotency, policy (trigger, throttle, sampling), the assignee
/// snapshot, the hashed token and the outbox row, all in one transaction.
public struct IntakeService: Sendable {
    public let batcher: WriteBatcher
    public let catalog: SurveyCatalog
    public let vault: TokenVault
    public let settings: Settings
    public let logger: Logger
    /// Decides sampling; injectable so tests are deterministic.
    public var sample: @Sendable (Int) -> Bool = { percent in percent >= 100 || Int.random(in: 0..<100) < percent }

    public init(batcher: WriteBatcher, catalog: SurveyCatalog, vault: TokenVault, settings: Settings, logger: Logger) {
        self.batcher = batcher
        self.catalog = catalog
        self.vault = vault
        self.settings = settings
        self.logger = logger
    }

    public func ingest(_ closure: Closure, now: Date = Date()) async throws -> IntakeResult {
        guard let survey = catalog.survey(for: closure.kind) else {
            throw AppError.badRequest("no survey is defined for kind '\(closure.kind.rawValue)'", code: "invalid_field")
        }
        let policy = survey.policy
        let trigger = policy.trigger(for: closure.source)
        guard closure.state == trigger else {
            return IntakeResult(
                outcome: .ignored, status: "ignored",
                skipReason: "source '\(closure.source)' triggers surveys on '\(trigger)', this closure is '\(closure.state)'")
        }
        let token = SurveyToken.generate()
        let sampled = sample(policy.samplePercent)
        let channel = settings.surveyChannel
        let locale = survey.resolveLocale(closure.requester.locale)
        let expiresAt = now.addingTimeInterval(TimeInterval(policy.expiryDays) * 86_400)

        let vault = vault
        let result = try await batcher.write { db -> IntakeResult in
            if let duplicate = try InvitationStore.find(db, source: closure.source, ticketID: closure.ticketID) { return duplicate }
            var skipReason: String?
            if policy.throttleDays > 0 {
                let since = now.addingTimeInterval(-TimeInterval(policy.throttleDays) * 86_400)
                if let last = try InvitationStore.lastSurveyed(db, email: closure.requester.email, since: since) {
                    skipReason = "throttled: requester was surveyed on \(ISO8601.format(last)), within \(policy.throttleDays) days"
                }
            }
            if skipReason == nil, !sampled {
                skipReason = "sampled out: survey samples \(policy.samplePercent)% of closures"
            }
            let status: InvitationStatus = skipReason == nil ? .pending : .skipped
            let invitationID = try InvitationStore.create(
                db, closure: closure, surveyID: survey.id, tokenHash: token.hash, locale: locale, status: status, skipReason: skipReason,
                now: now, expiresAt: expiresAt)
            if skipReason == nil {
                let due = now.addingTimeInterval(TimeInterval(policy.delayMinutes) * 60)
                let sealed = try vault.seal(token, invitationID: invitationID)
                try Outbox.enqueue(db, invitationID: invitationID, purpose: .survey, channel: channel, sealedToken: sealed, dueAt: due, now: now)
            }
            return IntakeResult(
                outcome: .created, invitationID: invitationID, status: status.rawValue, skipReason: skipReason,
                surveyURL: skipReason == nil ? settings.surveyURL(token: token) : nil, expiresAt: expiresAt
            )
        }
        if result.outcome == .created {
            if result.surveyURL != nil {
                let metadata: Logger.Metadata = [
                    "invitation": "\(result.invitationID ?? 0)", "ticket": "\(closure.ticketID)", "source": "\(closure.source)",
                ]
                // The link is a secret that belongs only in the requester's message; with no delivery channel
                // configured the dispatcher logs the name of the `.eml` file that holds it.
                logger.info("survey invitation created", metadata: metadata)
            } else {
                logger.info("closure skipped", metadata: ["ticket": "\(closure.ticketID)", "reason": "\(result.skipReason ?? "")"])
            }
        }
        return result
    }
}
