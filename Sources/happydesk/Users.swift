import ArgumentParser
import Foundation
import HappyDesk

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the people who read feedback (analysts, managers, admins) and integrations that post closures.",
        subcommands: [Add.self, List.self, Revoke.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user and print their API token once (it is stored hashed and cannot be shown again)."
        )
        @OptionGroup var storage: StorageOptions
        @Option(help: "Full name, shown to requesters on replies.") var name: String
        @Option(help: "Email; matched against closures' assignee.email. Optional for an integration.") var email: String?
        @Option(
            help: "analyst (own feedback), manager (all feedback, kudos, dashboard), admin, or integration (a token that may only post closures)."
        ) var role: String
        @Option(help: "The ITSM's id for this person, matched against closures' assignee.id.") var assigneeId: String?

        func run() async throws {
            guard let parsed = AuthenticatedUser.Role(rawValue: role.lowercased()) else {
                fail("role must be analyst, manager, admin or integration, not '\(role)'")
            }
            let pool = try openMigrated(storage)
            do {
                let (user, token) = try await UserStore(writer: pool).add(name: name, email: email, role: parsed, assigneeID: assigneeId, actor: .cli)
                print("added \(user.role.rawValue) \(user.name)\(user.email.map { " <\($0)>" } ?? "") (id \(user.id))")
                print("API token (shown once): \(token)")
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
                    "\(user.id)\t\(user.role.rawValue)\t\(state)\t\(user.name)\(user.email.map { " <\($0)>" } ?? "")\(user.assigneeID.map { "\tassignee \($0)" } ?? "")"
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
