import ArgumentParser
import Foundation
import HappyDesk

/// Single sign-on flags of `happydesk serve`: the OpenID Connect provider; each reads a `HAPPYDESK_OIDC_*`
/// variable, a flag wins. Single sign-on is on when the issuer is set; the client id and secret are then required.
struct OIDCOptions: ParsableArguments {
    @Option(
        name: .customLong("oidc-issuer"),
        help: ArgumentHelp(
            "OpenID Connect issuer URL; discovery is read from ISSUER/.well-known/openid-configuration. [env: HAPPYDESK_OIDC_ISSUER]",
            valueName: "url"))
    var issuer: String?

    @Option(
        name: .customLong("oidc-client-id"),
        help: ArgumentHelp("Client id registered at the provider. [env: HAPPYDESK_OIDC_CLIENT_ID]", valueName: "id"))
    var clientID: String?

    @Option(
        name: .customLong("oidc-client-secret"),
        help: ArgumentHelp("Client secret, sent only to the token endpoint, never logged. [env: HAPPYDESK_OIDC_CLIENT_SECRET]", valueName: "secret"))
    var clientSecret: String?

    @Option(
        name: .customLong("oidc-name"),
        help: ArgumentHelp(
            "Provider name on the button: \"Sign in with NAME\". [env: HAPPYDESK_OIDC_NAME] (default: single sign-on)", valueName: "name"))
    var name: String?

    @Option(
        name: .customLong("oidc-roles-claim"),
        help: ArgumentHelp(
            "ID token claim (a string array) holding the person's groups. [env: HAPPYDESK_OIDC_ROLES_CLAIM] (default: groups)", valueName: "claim"))
    var rolesClaim: String?

    @Option(
        name: .customLong("oidc-manager-groups"),
        help: ArgumentHelp("Comma-separated groups whose members sign in as managers. [env: HAPPYDESK_OIDC_MANAGER_GROUPS]", valueName: "list"))
    var managerGroups: String?

    @Option(
        name: .customLong("oidc-admin-groups"),
        help: ArgumentHelp("Comma-separated groups whose members sign in as admins. [env: HAPPYDESK_OIDC_ADMIN_GROUPS]", valueName: "list"))
    var adminGroups: String?

    func apply(to settings: inout Settings) {
        guard let issuer = (issuer ?? env("HAPPYDESK_OIDC_ISSUER")).flatMap({ $0.isEmpty ? nil : $0 }) else { return }
        guard let url = URL(string: issuer), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, url.query == nil else {
            fail("HAPPYDESK_OIDC_ISSUER must be the provider's issuer URL, such as https://login.example.com/realms/staff, not '\(issuer)'")
        }
        guard let clientID = (clientID ?? env("HAPPYDESK_OIDC_CLIENT_ID")).flatMap({ $0.isEmpty ? nil : $0 }) else {
            fail("HAPPYDESK_OIDC_ISSUER is set: HAPPYDESK_OIDC_CLIENT_ID is needed too")
        }
        guard let secret = (clientSecret ?? env("HAPPYDESK_OIDC_CLIENT_SECRET")).flatMap({ $0.isEmpty ? nil : $0 }) else {
            fail("HAPPYDESK_OIDC_ISSUER is set: HAPPYDESK_OIDC_CLIENT_SECRET is needed too")
        }
        let claim = (rolesClaim ?? env("HAPPYDESK_OIDC_ROLES_CLAIM")).flatMap { $0.isEmpty ? nil : $0 } ?? "groups"
        settings.oidc = OIDCSettings(
            issuer: issuer, clientID: clientID, clientSecret: secret,
            name: (name ?? env("HAPPYDESK_OIDC_NAME")).flatMap { $0.isEmpty ? nil : $0 } ?? "single sign-on", rolesClaim: claim,
            managerGroups: OIDCSettings.groups(managerGroups ?? env("HAPPYDESK_OIDC_MANAGER_GROUPS")),
            adminGroups: OIDCSettings.groups(adminGroups ?? env("HAPPYDESK_OIDC_ADMIN_GROUPS")))
    }
}
