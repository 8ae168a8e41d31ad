import Foundation

/// An invitation as the survey page sees it, with the current answer if there is one.
public struct InvitationState: Sendable {
    public var invitationID: Int64
    public var surveyID: String
    public var locale: String
    public var status: InvitationStatus
    public var expiresAt: Date
    public var ticketID: String
    public var response: StoredResponse?
    /// Who and what the feedback is about, as snapshotted at closure: the body of the response events.
    public var snapshot: Snapshot

    public struct Snapshot: Sendable {
        public var source: String
        public var kind: String
        public var assigneeID: String?
        public var assigneeName: String?
        public var assigneeEmail: String?
        public var group: String?
        public var service: String?
        public var requesterName: String?
        public var requesterEmail: String?
    }
}

public struct StoredResponse: Sendable, Equatable {
    public var id: Int64
    public var score: Int
    public var factors: [String]
    public var lostBucket: String?
    public var lostMinutes: Int?
    public var comment: String?
    public var revision: Int
    public var firstAnsweredAt: Date
    public var lastChangedAt: Date
}

/// Reads invitations by token and saves answers: one response per invitation, amendable until expiry.
public struct AnswerService: Sendable {
    public let reader: any AppStorage
    public let batcher: WriteBatcher
    public let catalog: SurveyCatalog
    public let publisher: any EventPublisher
    /// Runs inside the saving transaction after the event is appended (alerts, reopen, follow-up flag).
    public var followUp: FollowUpRules?
    /// Counts each saved answer in `happydesk_responses_total{band}` (amendments included); nil counts nothing.
    public var metrics: HappyDeskMetrics?

    public init(
        reader: any AppStorage, batcher: WriteBatcher, catalog: SurveyCatalog, publisher: any EventPublisher, followUp: FollowUpRules? = nil,
        metrics: HappyDeskMetrics? = nil
    ) {
        self.metrics = metrics
        self.reader = reader
        self.batcher = batcher
        self.catalog = catalog
        self.publisher = publisher
        self.followUp = followUp
    }

    public func state(token: String, now: Date = Date()) async throws -> (InvitationState, SurveyDefinition) {
        guard SurveyToken.looksValid(token) else { throw Self.unknownLink }
        let hash = SurveyToken.hash(token)
        let state = try await reader.read { db in try Self.load(db, hash: hash) }
        return try check(state, now: now)
    }

    func check(_ state: InvitationState?, now: Date) throws -> (InvitationState, SurveyDefinition) {
        guard let state, state.status != .skipped else { throw Self.unknownLink }
        guard state.expiresAt > now else {
            throw AppError(.gone, code: "expired", "This survey link expired on \(ISO8601.format(state.expiresAt)). Thank you all the same.")
        }
        guard let survey = catalog.survey(id: state.surveyID) else {
            throw AppError(.gone, code: "survey_removed", "This survey is no longer available.")
        }
        return (state, survey)
    }

    static let unknownLink = AppError(
        .notFound, code: "unknown_token", "This survey link is not valid. Please use the link from your most recent email.")

    static func load(_ db: any SQLConnection, hash: Data) throws -> InvitationState? {
        try InvitationStore.state(db, tokenHash: hash)
    }

    /// The body of `response.created` / `response.updated` events.
    public struct ResponseEvent: Codable, Sendable, Equatable {
        public var response_id: Int64
        public var invitation_id: Int64
        public var ticket_id: String
        public var source: String
        public var kind: String
        public var survey: String
        public var score: Int
        public var band: String
        public var factors: [String]
        public var lost_time: String?
        public var lost_minutes: Int?
        public var comment: String?
        public var revision: Int
        public var assignee_id: String?
        public var assignee_name: String?
        public var assignee_email: String?
        public var group: String?
        public var service: String?
        public var requester_name: String?
        public var requester_email: String?
        public var follow_up: Bool
        public var first_answered_at: Date
        public var last_changed_at: Date
    }

    /// Saves or amends the answer for a token. The response, its factors, the invitation status and the
    /// event are written in one transaction; the event is published after commit.
    @discardableResult
    public func submit(token: String, answer: SurveyAnswer, now: Date = Date()) async throws -> (StoredResponse, StoredEvent) {
        let result = try await submitReturningState(token: token, answer: answer, now: now)
        return (result.state.response ?? result.response, result.event)
    }

    /// What a submission leaves behind: the page state to show next, without reading it again.
    public struct Submission: Sendable {
        public var state: InvitationState
        public var survey: SurveyDefinition
        public var response: StoredResponse
        public var event: StoredEvent
    }

    /// Loads, validates and saves in one step inside the write: the token's invitation is read once, in the
    /// transaction that writes the answer, so a link that expires or is answered meanwhile is seen.
    public func submitReturningState(token: String, answer: SurveyAnswer, now: Date = Date()) async throws -> Submission {
        guard SurveyToken.looksValid(token) else { throw Self.unknownLink }
        let hash = SurveyToken.hash(token)
        let followUp = followUp
        let submission = try await batcher.write { db -> Submission in
            let (state, survey) = try check(try Self.load(db, hash: hash), now: now)
            let valid = try answer.validated(for: survey)
            let factorIDs = valid.factors.map(\.id)
            let stored: StoredResponse
            let type: String
            if var existing = state.response {
                try ResponseStore.update(db, responseID: existing.id, answer: valid, factorsChanged: existing.factors != factorIDs, now: now)
                existing.score = valid.score
                existing.factors = factorIDs
                existing.lostBucket = valid.lostTime?.id
                existing.lostMinutes = valid.lostTime?.minutes
                existing.comment = valid.comment
                existing.revision += 1
                existing.lastChangedAt = now
                stored = existing
                type = StreamEventType.responseUpdated
            } else {
                let id = try ResponseStore.insert(db, invitationID: state.invitationID, answer: valid, now: now)
                stored = StoredResponse(
                    id: id, score: valid.score, factors: factorIDs, lostBucket: valid.lostTime?.id,
                    lostMinutes: valid.lostTime?.minutes, comment: valid.comment, revision: 1, firstAnsweredAt: now, lastChangedAt: now
                )
                type = StreamEventType.responseCreated
                try InvitationStore.markAnswered(db, id: state.invitationID)
            }
            let (event, body) = try Self.appendEvent(
                db, type: type, response: stored, state: state, survey: survey, followUp: valid.factors.contains { $0.reopens })
            try followUp?.apply(db, body: body, previous: state.response, survey: survey)
            var after = state
            after.response = stored
            after.status = .answered
            return Submission(state: after, survey: survey, response: stored, event: event)
        }
        metrics?.response(band: ScoreBand(score: submission.response.score))
        await publisher.publish([submission.event])
        return submission
    }

    static func appendEvent(
        _ db: any SQLConnection, type: String, response: StoredResponse, state: InvitationState, survey: SurveyDefinition, followUp: Bool
    )
        throws -> (StoredEvent, ResponseEvent)
    {
        let who = state.snapshot
        let body = ResponseEvent(
            response_id: response.id, invitation_id: state.invitationID, ticket_id: state.ticketID, source: who.source, kind: who.kind,
            survey: survey.id, score: response.score, band: ScoreBand(score: response.score).rawValue, factors: response.factors,
            lost_time: response.lostBucket, lost_minutes: response.lostMinutes, comment: response.comment, revision: response.revision,
            assignee_id: who.assigneeID, assignee_name: who.assigneeName, assignee_email: who.assigneeEmail,
            group: who.group, service: who.service,
            requester_name: survey.anonymous ? nil : who.requesterName, requester_email: survey.anonymous ? nil : who.requesterEmail,
            follow_up: followUp, first_answered_at: response.firstAnsweredAt, last_changed_at: response.lastChangedAt
        )
        let event = try EventLog.append(
            db, type: type, responseID: response.id, invitationID: state.invitationID, assigneeID: who.assigneeID ?? who.assigneeEmail,
            json: body.json(), at: response.lastChangedAt
        )
        return (event, body)
    }
}

extension AnswerService.ResponseEvent {
    /// The same JSON as `JSONEncoder` with sorted keys, ISO 8601 dates and nil fields left out, written
    /// directly: the encoder was a tenth of a submission's cost. A test decodes it back to check.
    func json() -> String {
        var out = JSONWriter()
        out.field("assignee_email", assignee_email)
        out.field("assignee_id", assignee_id)
        out.field("assignee_name", assignee_name)
        out.field("band", band)
        out.field("comment", comment)
        out.field("factors", factors)
        out.field("first_answered_at", ISO8601.format(first_answered_at))
        out.field("follow_up", follow_up)
        out.field("group", group)
        out.field("invitation_id", invitation_id)
        out.field("kind", kind)
        out.field("last_changed_at", ISO8601.format(last_changed_at))
        out.field("lost_minutes", lost_minutes.map(Int64.init))
        out.field("lost_time", lost_time)
        out.field("requester_email", requester_email)
        out.field("requester_name", requester_name)
        out.field("response_id", response_id)
        out.field("revision", Int64(revision))
        out.field("score", Int64(score))
        out.field("service", service)
        out.field("source", source)
        out.field("survey", survey)
        out.field("ticket_id", ticket_id)
        return out.finish()
    }
}
