import Foundation
import Hummingbird
import Synchronization

/// The requester's survey page: `GET /s/{token}[?score=N]` shows it, `POST /s/{token}` saves the answer.
///
/// A GET never records anything, because mail security scanners follow every link in an email.
public struct SurveyPageController: Sendable {
    public let answers: AnswerService
    /// The conversation with the analyst, shown under the answer (Stream/).
    public let feedback: FeedbackActions?

    public init(answers: AnswerService, feedback: FeedbackActions? = nil) {
        self.answers = answers
        self.feedback = feedback
    }

    public func register(on router: some RouterMethods<AppRequestContext>) {
        router.get("/s/:token", use: show)
        router.post("/s/:token", use: submit)
        router.post("/s/:token/messages", use: message)
    }

    /// The requester's answer back to an analyst's reply; it appears on the analyst's stream.
    @Sendable func message(request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let feedback else { throw AppError.notFound("no such page or endpoint").html() }
        let body = try await JSONInput.body(request)
        let isJSON = request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true
        if isJSON {
            struct Input: Decodable { var text: String?; var message: String? }
            let input = try JSONInput.decode(Input.self, from: body)
            let result = try await feedback.requesterMessage(token: token, text: input.text ?? input.message)
            return try JSONBody.response(result, status: .created)
        }
        let form = FormDecoder.decode(String(buffer: body))
        let text = form.first { $0.0 == "message" || $0.0 == "text" }?.1
        _ = try await htmlErrors { try await feedback.requesterMessage(token: token, text: text) }
        return Response(status: .seeOther, headers: [.location: "/s/\(token)#thread", .cacheControl: "no-store"])
    }

    func thread(_ state: InvitationState) async throws -> [ThreadMessage] {
        guard feedback != nil else { return [] }
        return try await ThreadStore.messages(answers.reader, responseID: state.response?.id)
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let (state, survey) = try await htmlErrors { try await answers.state(token: token) }
        var preselected: Int?
        if let text = request.uri.queryParameters["score"] {
            guard let score = Int(text), (0...10).contains(score) else {
                throw AppError.badRequest("score must be a whole number from 0 to 10, not '\(TextLimit.preview(text, 20))'", code: "invalid_score")
                    .html()
            }
            preselected = score
        }
        let page = SurveyPageView.render(
            token: token, state: state, survey: survey, preselected: preselected, saved: false, thread: try await thread(state))
        return Self.html(page)
    }

    @Sendable func submit(request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let isJSON = request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true
        let body = try await JSONInput.body(request)
        if isJSON {
            struct Input: Decodable {
                var score: Int
                var factors: [String]?
                var lost_time: String?
                var comment: String?
            }
            let input = try JSONInput.decode(Input.self, from: body)
            guard (0...10).contains(input.score) else {
                throw AppError.badRequest("score must be a whole number from 0 to 10, not \(input.score)", code: "invalid_score")
            }
            let answer = SurveyAnswer(score: input.score, factors: input.factors ?? [], lostTime: input.lost_time, comment: input.comment)
            let (response, _) = try await answers.submit(token: token, answer: answer)
            struct Output: ResponseEncodable {
                var response_id: Int64
                var score: Int
                var factors: [String]
                var lost_time: String?
                var lost_minutes: Int?
                var comment: String?
                var revision: Int
                var first_answered_at: String
                var last_changed_at: String
            }
            let output = Output(
                response_id: response.id, score: response.score, factors: response.factors, lost_time: response.lostBucket,
                lost_minutes: response.lostMinutes, comment: response.comment, revision: response.revision,
                first_answered_at: ISO8601.format(response.firstAnsweredAt), last_changed_at: ISO8601.format(response.lastChangedAt)
            )
            return try output.response(from: request, context: context)
        }
        let form = FormDecoder.decode(String(buffer: body))
        let answer = try await htmlErrors { try SurveyAnswer.parse(form: form) }
        let submission = try await htmlErrors { try await answers.submitReturningState(token: token, answer: answer) }
        return Self.html(SurveyPageView.renderSaved(token: token, state: submission.state, survey: submission.survey))
    }

    static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: Templates.pageHeaders, body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    /// Survey pages answer errors as HTML, since a person reads them in a browser.
    func htmlErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AppError {
            throw error.html()
        }
    }
}

/// Builds the Mustache context of the survey page.
enum SurveyPageView {
    /// The confirmation after a form POST, built by hand: it is on the hot path of every submission, and
    /// Mustache over `[String: Any]` cost more than saving the answer. Every user or survey text is escaped.
    static func renderSaved(token: String, state: InvitationState, survey: SurveyDefinition) -> String {
        let locale = state.locale
        let ui = UIStrings.forLocale(locale, expires: expiryText(state.expiresAt, locale: locale))
        let title = survey.title.text(locale)
        var page = ""
        page.reserveCapacity(Templates.style.utf8.count + 1024)
        page += "<!doctype html>\n<html lang=\""
        HTML.escape(locale, into: &page)
        page += "\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
        page += "<meta name=\"referrer\" content=\"no-referrer\"><meta name=\"robots\" content=\"noindex\">\n<title>"
        HTML.escape(title, into: &page)
        page += "</title><style>"
        page += Templates.style
        page += "</style></head>\n<body><main>\n<h1>"
        HTML.escape(title, into: &page)
        page += "</h1>\n<p class=\"notice\" role=\"status\">"
        HTML.escape(ui["thanks"] ?? "", into: &page)
        page += "</p>\n<div class=\"card\"><p class=\"q\">"
        HTML.escape(survey.question.text(locale), into: &page)
        page += "</p>\n<p>"
        HTML.escape(ui["yourScore"] ?? "", into: &page)
        page += ": <strong class=\"score\">"
        if let score = state.response?.score { page += String(score) }
        page += "</strong></p>\n"
        let labels = (state.response?.factors ?? []).compactMap { id in survey.factor(id: id)?.0.label.text(locale) }
        if !labels.isEmpty {
            page += "<ul>"
            for label in labels {
                page += "<li>"
                HTML.escape(label, into: &page)
                page += "</li>"
            }
            page += "</ul>\n"
        }
        if let id = state.response?.lostBucket, let bucket = survey.lostTime?.buckets.first(where: { $0.id == id }) {
            page += "<p>"
            HTML.escape(survey.lostTime?.question.text(locale) ?? "", into: &page)
            page += " <strong>"
            HTML.escape(bucket.label.text(locale), into: &page)
            page += "</strong></p>\n"
        }
        if let comment = state.response?.comment, !comment.isEmpty {
            page += "<p class=\"msg\">"
            HTML.escape(comment, into: &page)
            page += "</p>\n"
        }
        page += "<p><a href=\"/s/"
        HTML.escape(token, into: &page)
        page += "\">"
        HTML.escape(ui["change"] ?? "", into: &page)
        page += "</a></p>\n<p class=\"meta\">"
        HTML.escape(ui["editable"] ?? "", into: &page)
        page += "</p></div>\n</main></body></html>"
        return page
    }

    /// "28 December 2026" in the requester's language. ICU date formatting is slow, and a day has one
    /// text per language, so the texts are cached (bounded).
    static func expiryText(_ date: Date, locale: String) -> String {
        let day = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let key = "\(locale)|\(day)"
        if let cached = expiryTexts.withLock({ $0[key] }) { return cached }
        let text = date.formatted(
            Date.FormatStyle(date: .long, time: .omitted, locale: Locale(identifier: locale), timeZone: TimeZone(identifier: "UTC") ?? .current))
        expiryTexts.withLock { cache in
            if cache.count >= 4096 { cache.removeAll(keepingCapacity: true) }
            cache[key] = text
        }
        return text
    }

    private static let expiryTexts = Mutex<[String: String]>([:])

    static func render(
        token: String, state: InvitationState, survey: SurveyDefinition, preselected: Int?, saved: Bool, thread: [ThreadMessage] = []
    ) -> String {
        let locale = state.locale
        let current = preselected ?? state.response?.score
        let activeBand = current.map { ScoreBand(score: $0) }
        let chosen = Set(state.response?.factors ?? [])
        let scores: [[String: Any]] = (0...10).map { value in
            ["value": value, "band": ScoreBand(score: value).rawValue, "checked": value == current]
        }
        let bands: [[String: Any]] = ScoreBand.allCases.map { band in
            // Shuffled on every view to avoid position bias in which reasons get picked.
            let factors = survey.factors(for: band).shuffled().map { factor -> [String: Any] in
                ["id": factor.id, "label": factor.label.text(locale), "checked": chosen.contains(factor.id)]
            }
            return ["band": band.rawValue, "active": band == activeBand, "factors": factors, "factorQuestion": survey.factorQuestion.text(locale)]
        }
        let expires = expiryText(state.expiresAt, locale: locale)
        var context: [String: Any] = [
            "locale": locale,
            "token": token,
            "title": survey.title.text(locale),
            "question": survey.question.text(locale),
            "scores": scores,
            "bands": bands,
            "noScore": current == nil,
            "saved": saved,
            "preselected": preselected != nil && preselected != state.response?.score,
            "ui": UIStrings.forLocale(locale, expires: expires),
            "answeredAt": state.response != nil,
        ]
        if let lost = survey.lostTime {
            context["lostTime"] =
                [
                    "question": lost.question.text(locale),
                    "buckets": lost.buckets.map {
                        ["id": $0.id, "label": $0.label.text(locale), "checked": $0.id == state.response?.lostBucket] as [String: Any]
                    },
                ] as [String: Any]
        }
        if let comment = survey.comment {
            context["comment"] = ["question": comment.text(locale), "text": state.response?.comment ?? ""]
        }
        if !thread.isEmpty {
            context["thread"] =
                [
                    "messages": thread.map { message -> [String: Any] in
                        let name = message.author == "analyst" ? (message.author_name ?? "Service desk") : (message.author_name ?? "You")
                        return ["name": name, "text": message.text, "mine": message.author == "requester", "at": ISO8601.format(message.created_at)]
                    }
                ] as [String: Any]
        }
        return Templates.render(context, "survey")
    }
}
