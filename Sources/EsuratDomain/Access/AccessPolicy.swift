public import Foundation

/// Who is asking: an authenticated user with what they may act as right now.
public struct Actor: Sendable, Hashable {
    public let userID: UUID
    public let roles: Set<Role>
    public let unitID: UUID
    /// The positions the user may act in now: their own and those delegated to them whose
    /// window contains the present.
    public let positions: [ActingPosition]

    public init(userID: UUID, roles: Set<Role>, unitID: UUID, positions: [ActingPosition]) {
        self.userID = userID
        self.roles = roles
        self.unitID = unitID
        self.positions = positions
    }

    public var isAdmin: Bool { roles.contains(.admin) }
    public var isAuditor: Bool { roles.contains(.auditor) }

    /// How the actor may act in `positionID`, or nil when they may not.
    public func acting(in positionID: UUID) -> ActingPosition? {
        positions.first { $0.positionID == positionID }
    }
}

/// What an actor wants to do.
public enum Action: Sendable, Hashable {
    case listUnits, viewUnit, manageUnits
    case listPositions, viewPosition, managePositions
    case listUsers, viewUser, manageUsers
    case manageDelegations, viewDelegations
    case managePKI
    /// How letters are printed: the installation's template and each unit's kop.
    case manageLetterTemplate
    case readAudit
}

/// What the action is about, as far as access is concerned.
public enum AccessObject: Sendable, Hashable {
    case none
    /// Something that belongs to a unit (a user, a position).
    case inUnit(UUID)
    /// The actor's own account.
    case ownAccount
}

/// The answer of ``AccessPolicy``.
public enum AccessDecision: Sendable, Hashable {
    case allow
    /// The actor may see the object but not do this: 403.
    case forbidden(String)
    /// The actor may not know the object exists: 404.
    case notVisible
}

/// The one place that answers "may this actor do this action on this object". Services ask
/// it before every use case; HTTP maps its answers to 403 and 404.
///
/// The organisation's structure (units, positions, who holds them) is visible to every
/// signed-in user, since drafting a letter means choosing recipients and reviewers. User
/// accounts are visible to admins and auditors everywhere, and to others within their own
/// unit. Changes to the organisation, accounts, delegations and the PKI are for admins.
public enum AccessPolicy {
    public static func decide(_ actor: Actor, _ action: Action, _ object: AccessObject = .none) -> AccessDecision {
        switch action {
        case .listUnits, .viewUnit, .listPositions, .viewPosition, .listUsers, .viewDelegations:
            return .allow
        case .viewUser:
            if actor.isAdmin || actor.isAuditor { return .allow }
            switch object {
            case .ownAccount: return .allow
            case .inUnit(let unit): return unit == actor.unitID ? .allow : .notVisible
            case .none: return .notVisible
            }
        case .manageUnits, .managePositions, .manageUsers, .manageDelegations, .managePKI, .manageLetterTemplate:
            return actor.isAdmin ? .allow : .forbidden("This needs the admin role.")
        case .readAudit:
            return actor.isAdmin || actor.isAuditor ? .allow : .forbidden("This needs the auditor or admin role.")
        }
    }
}

/// Which user accounts a list shows an actor.
public enum UserListScope: Sendable, Hashable {
    case all
    case unit(UUID)
}

extension AccessPolicy {
    /// Admins and auditors list every account; everyone else their own unit's.
    public static func userListScope(_ actor: Actor) -> UserListScope {
        actor.isAdmin || actor.isAuditor ? .all : .unit(actor.unitID)
    }
}
