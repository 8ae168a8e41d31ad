import Curl
import Foundation
import Hummingbird

/// The live dashboard: `GET /dashboard` (HTML) and `GET /api/v1/metrics` (JSON, or CSV with `format=csv`), for
/// managers and admins, and for leads and owners restricted to their groups or services, with the CLI's filters as
/// query parameters (`from`, `to`, `period`, `by`, `kind`, `min`) and `group`/`service`. The scope is applied in the
/// report's SQL (`DashboardScope`); a `group` or `service` outside the reader's scope is a 403.
/// Both build the report with the same `DashboardBuilder` as `happydesk dashboard`.
public struct DashboardController: Sendable {
    public let builder: DashboardBuilder
    public let users: UserStore
    /// Dashboard views and exports are recorded here.
    public let audit: AuditTrail?

    public init(builder: DashboardBuilder, users: UserStore, audit: AuditTrail? = nil) {
        self.builder = builder
        self.users = users
        self.audit = audit
    }

    public func register(on router: Router<AppRequestContext>) {
        // The page works with the browser session: signed out it sends the person to /signin and back.
        router.group().add(middleware: AuthMiddleware(users: users, required: false)).get("/dashboard", use: page)
        let managers = router.group().add(middleware: AuthMiddleware(users: users, roles: AuthenticatedUser.Role.dashboard))
        managers.get("/api/v1/metrics", use: metrics)
    }

    @Sendable func page(request: Request, context: AppRequestContext) async throws -> Response {
        guard let user = context.user else {
            if request.headers[.authorization] != nil {
                throw AppError(.unauthorized, code: "unauthorized", "the API token is unknown or revoked")
            }
            let next = SignInPage.localPath(request.uri.string) ?? "/dashboard"
            return Response(
                status: .seeOther, headers: [.location: "/signin?next=" + CurlEasy.formEncode(next), .cacheControl: "no-store"])
        }
        guard user.role.seesDashboard else {
            if user.role == .integration {
                throw AppError(.forbidden, code: "forbidden", "an integration token may only post closures; sign in as a person for this")
            }
            throw AppError(.forbidden, code: "forbidden", "the dashboard is for managers, admins, leads and owners; your own feedback is at /analyst")
                .html()
        }
        let report: DashboardReport
        do {
            report = try await build(request, user: try context.requireUser())
        } catch let error as AppError {
            throw error.html()
        }
        try await audit?.record(.dashboardView, request: request, context: context, target: "dashboard", details: Self.auditDetails(request))
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // An empty range is bad input (400), but the body is still the valid page that says there is no data.
        return Response(
            status: report.hasData ? .ok : .badRequest, headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: Self.withHeader(DashboardHTML.render(report), user: user))))
    }

    /// The generator's page (also written by `happydesk dashboard`) with the signed-in header after `<body>`.
    static func withHeader(_ html: String, user: AuthenticatedUser) -> String {
        guard let body = html.range(of: "<body>") else { return html }
        var page = html
        page.insert(contentsOf: SignInPage.header(user), at: body.upperBound)
        return page
    }

    @Sendable func metrics(request: Request, context: AppRequestContext) async throws -> Response {
        let format = request.uri.queryParameters["format"].map { String($0).lowercased() } ?? "json"
        guard format == "json" || format == "csv" else {
            throw AppError.badRequest("format must be json or csv, not '\(TextLimit.preview(format, 40))'")
        }
        let report = try await build(request, user: try context.requireUser())
        guard report.hasData else { throw AppError.badRequest(report.noDataMessage, code: "no_data") }
        var details = Self.auditDetails(request)
        details["format"] = format
        try await audit?.record(.export, request: request, context: context, target: "metrics", details: details)
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        if format == "csv" {
            headers[.contentType] = "text/csv; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: DashboardCSV.render(report))))
        }
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try report.json())))
    }

    /// The filters of a view, for its audit row (no personal data: dates, a dimension, a kind).
    static func auditDetails(_ request: Request) -> [String: any Sendable] {
        var details: [String: any Sendable] = [:]
        for name in ["from", "to", "period", "by", "kind", "group", "service"] {
            if let value = request.uri.queryParameters[Substring(name)] { details[name] = TextLimit.preview(String(value), 40) }
        }
        return details
    }

    func build(_ request: Request, user: AuthenticatedUser) async throws -> DashboardReport {
        let query = request.uri.queryParameters
        var filters: DashboardFilters
        do {
            filters = try DashboardFilters(
                from: query["from"].map(String.init), to: query["to"].map(String.init), period: query["period"].map(String.init),
                by: query["by"].map(String.init), kind: query["kind"].map(String.init),
                minimum: query["min"].map(String.init))
        } catch {
            throw AppError.badRequest(error.description)
        }
        filters.scope = try DashboardScope.resolve(user.scope, group: query["group"].map(String.init), service: query["service"].map(String.init))
        let builder = self.builder
        let scoped = filters
        do {
            // The roll-up reads are synchronous GRDB calls: run them off the server's event loops.
            return try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try builder.build(scoped) })
                }
            }
        } catch let error as DashboardInputError {
            throw AppError.badRequest(error.description)
        }
    }
}
