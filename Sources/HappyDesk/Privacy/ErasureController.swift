import Foundation
import Hummingbird

/// `DELETE /api/v1/requesters/{email}` (admins): erases one requester's personal data (`PersonalData.erase`) and
/// answers what was removed, table by table. `?with_answers=true` deletes their answers too; `?dry_run=true`
/// changes nothing and reports what would go. An address nobody has answers 200 with zero counts, so the answer
/// does not tell whether someone was ever surveyed beyond what an admin may see anyway.
public struct ErasureController: Sendable {
    public let personalData: PersonalData
    public let users: UserStore
    public let trail: AuditTrail

    public init(personalData: PersonalData, users: UserStore, trail: AuditTrail) {
        self.personalData = personalData
        self.users = users
        self.trail = trail
    }

    public func register(on router: Router<AppRequestContext>) {
        let admins = router.group("/api/v1").add(middleware: AuthMiddleware(users: users, roles: [.admin]))
        admins.delete("requesters/:email", use: erase)
    }

    static func flag(_ request: Request, _ name: String) throws -> Bool {
        guard let text = request.uri.queryParameters[Substring(name)].map({ String($0).lowercased() }) else { return false }
        switch text {
        case "", "1", "true", "yes": return true
        case "0", "false", "no": return false
        default: throw AppError.badRequest("\(name) must be true or false, not '\(TextLimit.preview(text, 20))'", code: "invalid_\(name)")
        }
    }

    @Sendable func erase(request: Request, context: AppRequestContext) async throws -> Response {
        let raw = context.parameters.get("email") ?? ""
        let email = try PersonalData.normalizedAddress(raw.removingPercentEncoding ?? raw)
        let withAnswers = try Self.flag(request, "with_answers")
        let dryRun = try Self.flag(request, "dry_run")
        let report = try await personalData.erase(
            requester: email, withAnswers: withAnswers, dryRun: dryRun, actor: trail.actor(request, context))
        context.logger.notice("requester erased", metadata: ["dry_run": "\(dryRun)", "rows": "\(report.removed.total)"])
        return JSONBody.response(report.json(["with_answers": withAnswers]))
    }
}
