import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The one request context of the app: HTTP routes and WebSocket upgrades share a router.
public struct AppRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// The signed-in user, set by the authentication middleware of protected routes.
    public var user: AuthenticatedUser?
    /// What `user` was authenticated with, so a long-lived stream socket can re-check it.
    public var credential: Credential?
    /// The peer of the TCP connection: what per-address rate limits count, unless a trusted proxy says otherwise.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.user = nil
        self.credential = nil
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// Who made a request, once authenticated.
public struct AuthenticatedUser: Sendable, Equatable {
    public enum Role: String, Sendable, Codable, CaseIterable {
        case analyst, manager, admin
        /// A system (an ITSM business rule, a trigger) that may only post closures: it opens no analyst route.
        case integration
        /// A team lead: sees the stream, threads and dashboard of their assignment groups, and gives kudos there.
        case lead
        /// A service owner: the same as a lead, for their services.
        case owner

        /// The roles of people, who read feedback; every analyst and manager route allows only these.
        public static let people: Set<Role> = [.analyst, .manager, .admin, .lead, .owner]
        /// The roles that open the dashboard and `/api/v1/metrics` (leads and owners see their scope only).
        public static let dashboard: Set<Role> = [.manager, .admin, .lead, .owner]

        /// Whether this role may open `/dashboard`: the one place the header's links, the landing page and
        /// the dashboard's guard ask.
        public var seesDashboard: Bool { Self.dashboard.contains(self) }

        /// Where a person lands after signing in: the dashboard when they see one, else the analyst page.
        public var landingPath: String { seesDashboard ? "/dashboard" : "/analyst" }

        /// The roles that may open `/dashboard`, for `AuthMiddleware`.
        public static var dashboardRoles: Set<Role> { dashboard }
    }

    public var id: Int64
    public var name: String
    public var email: String
    public var role: Role
    /// The ITSM's id for this person, matched against closures' `assignee.id` (email is matched too).
    public var assigneeID: String?
    /// A lead's assignment groups (closures' `group`); empty for every other role.
    public var groups: [String]
    /// An owner's services (closures' `service`); empty for every other role.
    public var services: [String]

    public init(
        id: Int64, name: String, email: String, role: Role, assigneeID: String? = nil, groups: [String] = [], services: [String] = []
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.role = role
        self.assigneeID = assigneeID
        self.groups = groups
        self.services = services
    }

    /// Managers and admins see all feedback; analysts only their own; leads and owners their scope; integrations none.
    public var seesEverything: Bool { role == .manager || role == .admin }

    /// Managers and admins give kudos anywhere; leads and owners within their scope.
    public var givesKudos: Bool { seesEverything || role == .lead || role == .owner }

    /// What this user may read, derived from the role: the one input of every visibility check (`Visibility.swift`).
    public var scope: Scope {
        switch role {
        case .manager, .admin: return .everything
        case .lead: return .groups(groups)
        case .owner: return .services(services)
        case .analyst: return .ownAssignee
        case .integration: return .nothing
        }
    }
}
