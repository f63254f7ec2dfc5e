public import EsuratDomain
public import Foundation

/// A unit as stored.
public struct UnitRecord: Sendable, Hashable {
    public var id: UUID
    public var code: String
    public var name: String
    public var kind: UnitKind
    public var parentID: UUID?
    public var active: Bool
}

/// A position (jabatan) as stored, with its definitive holder.
public struct PositionRecord: Sendable, Hashable {
    public var id: UUID
    public var unitID: UUID
    public var title: String
    public var superiorID: UUID?
    public var isHead: Bool
    public var holderID: UUID?
}

/// A user account as shown (never with its password hash).
public struct UserRecord: Sendable, Hashable {
    public var id: UUID
    public var username: String
    public var fullName: String
    public var nip: String?
    public var roles: [Role]
    public var unitID: UUID
    public var positionID: UUID?
    public var active: Bool
}

/// A Plt./Plh. delegation.
public struct DelegationRecord: Sendable, Hashable {
    public var id: UUID
    public var positionID: UUID
    public var userID: UUID
    public var capacity: DelegationCapacity
    public var validFrom: Date
    public var validUntil: Date
}

/// An a.n. mandate: the position signs for the principal above it, by the SK `reference`.
public struct MandateRecord: Sendable, Hashable {
    public var id: UUID
    public var positionID: UUID
    public var principalPositionID: UUID
    public var reference: String
    public var validFrom: Date
    public var validUntil: Date
}
