import ArgumentParser
import Foundation
import HappyDesk

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the people who read feedback (analysts, leads, owners, managers, admins) and integrations that post closures.",
        subcommands: [Add.self, Update.self, List.self, Revoke.self]
    )

    static let roleHelp =
        "analyst (own feedback), lead (the feedback and dashboard of --groups), owner (of --services), manager (all feedback, kudos, dashboard), admin, or integration (a token that may only post closures)."

    static func parseRole(_ role: String) -> AuthenticatedUser.Role {
        guard let parsed = AuthenticatedUser.Role(rawValue: role.trimmingCharacters(in: .whitespaces).lowercased()) else {
            fail("role must be analyst, manager, admin or integration, or a scoped lead or owner, not '\(TextLimit.preview(role, 40))'")
        }
        return parsed
    }

    static func names(_ raw: String?, flag: String) -> [String]? {
        guard let raw else { return nil }
        do {
            return try ScopeNames.parse(raw, flag: flag)
        } catch let error as AppError {
            fail(error.message)
        } catch {
            fail("\(error)")
        }
    }

    /// "\tgroups Service Desk, Network" for a lead, "\tservices VPN" for an owner, "" otherwise.
    static func scopeText(_ user: UserRecord) -> String {
        (user.groups.isEmpty ? "" : "\tgroups \(user.groups.joined(separator: ", "))")
            + (user.services.isEmpty ? "" : "\tservices \(user.services.joined(separator: ", "))")
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user and print their API token once (it is stored hashed and cannot be shown again)."
        )
        @OptionGroup var storage: StorageOptions
        @Option(help: "Full name, shown to requesters on replies.") var name: String
        @Option(help: "Email; matched against closures' assignee.email. Optional for an integration.") var email: String?
        @Option(help: ArgumentHelp(stringLiteral: Users.roleHelp)) var role: String
        @Option(help: "The ITSM's id for this person, matched against closures' assignee.id.") var assigneeId: String?
        @Option(help: "A lead's assignment groups, comma-separated, matched ignoring case against closures' group: \"Service Desk,Network\".")
        var groups: String?
        @Option(help: "An owner's services, comma-separated, matched ignoring case against closures' service: \"VPN,Email\".")
        var services: String?

        func run() async throws {
            let parsed = Users.parseRole(role)
            let groups = Users.names(groups, flag: "groups") ?? []
            let services = Users.names(services, flag: "services") ?? []
            let pool = try openMigrated(storage)
            do {
                let (user, token) = try await UserStore(writer: pool).add(
                    name: name, email: email, role: parsed, assigneeID: assigneeId, groups: groups, services: services, actor: .cli)
                print("added \(user.role.rawValue) \(user.name)\(user.email.map { " <\($0)>" } ?? "") (id \(user.id))\(Users.scopeText(user))")
                print("API token (shown once): \(token)")
            } catch let error as AppError {
                fail(error.message)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Change a user's name, role, groups or services; their token stays, their browser sessions and open streams end when the role or scope changes."
        )
        @OptionGroup var storage: StorageOptions
        @Option(help: "Email of the user to change.") var email: String?
        @Option(help: "Id of the user to change (see `users list`).") var id: Int64?
        @Option(help: "A new full name.") var name: String?
        @Option(help: ArgumentHelp(stringLiteral: "A new role: " + Users.roleHelp)) var role: String?
        @Option(help: "A lead's groups, comma-separated; replaces the current ones.") var groups: String?
        @Option(help: "An owner's services, comma-separated; replaces the current ones.") var services: String?

        func run() async throws {
            guard (email == nil) != (id == nil) else { fail("give either --email or --id") }
            guard name != nil || role != nil || groups != nil || services != nil else {
                fail("nothing to change: give --name, --role, --groups or --services")
            }
            let parsed = role.map(Users.parseRole)
            let groups = Users.names(groups, flag: "groups")
            let services = Users.names(services, flag: "services")
            let pool = try openMigrated(storage)
            let key: UserStore.UserKey = email.map { .email($0) } ?? .id(id ?? 0)
            do {
                guard
                    let user = try await UserStore(writer: pool).update(
                        key, name: name, role: parsed, groups: groups, services: services, actor: .cli)
                else {
                    fail(email.map { "no user with email \($0)" } ?? "no user with id \(id ?? 0)")
                }
                print("updated \(user.role.rawValue) \(user.name)\(user.email.map { " <\($0)>" } ?? "") (id \(user.id))\(Users.scopeText(user))")
            } catch let error as AppError {
                fail(error.message)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users and whether their token is active.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let pool = try openMigrated(storage)
            let users = try await UserStore(writer: pool).list()
            if users.isEmpty { print("no users yet: add one with `happydesk users add --name … --email … --role analyst`") }
            for user in users {
                let state = user.revokedAt == nil ? "active" : "revoked"
                print(
                    "\(user.id)\t\(user.role.rawValue)\t\(state)\t\(user.name)\(user.email.map { " <\($0)>" } ?? "")\(user.assigneeID.map { "\tassignee \($0)" } ?? "")\(Users.scopeText(user))"
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a user's API token and end their sessions; a running server closes their open streams within seconds.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "Email of the user to revoke.") var email: String?
        @Option(help: "Id of the user to revoke (see `users list`); the way to revoke an integration without an email.") var id: Int64?

        func run() async throws {
            guard (email == nil) != (id == nil) else { fail("give either --email or --id") }
            let pool = try openMigrated(storage)
            let store = UserStore(writer: pool)
            if let email {
                guard try await store.revoke(email: email, actor: .cli) else { fail("no active user with email \(email)") }
                print("revoked \(email)")
            } else if let id {
                guard try await store.revoke(id: id, actor: .cli) else { fail("no active user with id \(id)") }
                print("revoked user \(id)")
            }
        }
    }
}

/// Opens the database and applies pending migrations, failing with one line.
func openMigrated(_ storage: StorageOptions) throws -> any AppStorage {
    let settings = storage.settings()
    do {
        return try StorageOpener.openMigrated(settings: settings, poolSize: 2).0
    } catch {
        fail("\(error)")
    }
}
