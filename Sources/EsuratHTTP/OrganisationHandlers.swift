import EsuratDomain
import EsuratServices
import Foundation

/// Units, positions, users and delegations.
struct OrganisationHandlers: Sendable {
    let organisation: OrganisationService

    // MARK: Units

    func listUnits(_ input: Operations.ListUnits.Input) async throws -> Operations.ListUnits.Output {
        let page = try await organisation.listUnits(
            actor: try RequestScope.caller().actor, page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Self.unit), nextCursor: page.nextCursor))))
    }

    func createUnit(_ input: Operations.CreateUnit.Input) async throws -> Operations.CreateUnit.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let unit = try await organisation.createUnit(
            .init(code: body.code, name: body.name, kind: UnitKind(rawValue: body.kind.rawValue)!,
                  parentID: try Wire.optionalUUID(body.parentId, field: "parentId")),
            actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .created(.init(body: .json(Self.unit(unit))))
    }

    func getUnit(_ input: Operations.GetUnit.Input) async throws -> Operations.GetUnit.Output {
        let unit = try await organisation.unit(try Wire.uuid(input.path.unitId, field: "unitId"), actor: try RequestScope.caller().actor)
        return .ok(.init(body: .json(Self.unit(unit))))
    }

    func updateUnit(_ input: Operations.UpdateUnit.Input) async throws -> Operations.UpdateUnit.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let unit = try await organisation.updateUnit(
            try Wire.uuid(input.path.unitId, field: "unitId"), name: body.name, active: body.active,
            actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .ok(.init(body: .json(Self.unit(unit))))
    }

    static func unit(_ unit: UnitRecord) -> Components.Schemas.Unit {
        .init(id: Wire.id(unit.id), code: unit.code, name: unit.name, parentId: unit.parentID.map(Wire.id),
              kind: .init(rawValue: unit.kind.rawValue)!, active: unit.active)
    }

    // MARK: Positions

    func listPositions(_ input: Operations.ListPositions.Input) async throws -> Operations.ListPositions.Output {
        let page = try await organisation.listPositions(
            actor: try RequestScope.caller().actor, unitID: try Wire.optionalUUID(input.query.unitId, field: "unitId"),
            page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Self.position), nextCursor: page.nextCursor))))
    }

    func createPosition(_ input: Operations.CreatePosition.Input) async throws -> Operations.CreatePosition.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let position = try await organisation.createPosition(
            .init(unitID: try Wire.uuid(body.unitId, field: "unitId"), title: body.title,
                  superiorID: try Wire.optionalUUID(body.superiorId, field: "superiorId"), isHead: body.isHead ?? false),
            actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .created(.init(body: .json(Self.position(position))))
    }

    func getPosition(_ input: Operations.GetPosition.Input) async throws -> Operations.GetPosition.Output {
        let position = try await organisation.position(
            try Wire.uuid(input.path.positionId, field: "positionId"), actor: try RequestScope.caller().actor)
        return .ok(.init(body: .json(Self.position(position))))
    }

    static func position(_ position: PositionRecord) -> Components.Schemas.Position {
        .init(id: Wire.id(position.id), unitId: Wire.id(position.unitID), title: position.title,
              superiorId: position.superiorID.map(Wire.id), holderId: position.holderID.map(Wire.id), isHead: position.isHead)
    }

    // MARK: Users

    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let page = try await organisation.listUsers(
            actor: try RequestScope.caller().actor, page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Self.user), nextCursor: page.nextCursor))))
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let user = try await organisation.createUser(
            .init(username: body.username, fullName: body.fullName, nip: body.nip, password: body.password,
                  roles: body.roles.map { Role(rawValue: $0.rawValue)! }, unitID: try Wire.uuid(body.unitId, field: "unitId"),
                  positionID: try Wire.optionalUUID(body.positionId, field: "positionId"), rank: body.rank),
            actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .created(.init(body: .json(Self.user(user))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        let user = try await organisation.user(try Wire.uuid(input.path.userId, field: "userId"), actor: try RequestScope.caller().actor)
        return .ok(.init(body: .json(Self.user(user))))
    }

    static func user(_ user: UserRecord) -> Components.Schemas.User {
        .init(id: Wire.id(user.id), username: user.username, fullName: user.fullName, nip: user.nip,
              roles: user.roles.map(Wire.role), unitId: Wire.id(user.unitID), positionId: user.positionID.map(Wire.id),
              active: user.active)
    }

    // MARK: Delegations

    func listDelegations(_ input: Operations.ListDelegations.Input) async throws -> Operations.ListDelegations.Output {
        let page = try await organisation.listDelegations(
            actor: try RequestScope.caller().actor, positionID: try Wire.optionalUUID(input.query.positionId, field: "positionId"),
            page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Self.delegation), nextCursor: page.nextCursor))))
    }

    func createDelegation(_ input: Operations.CreateDelegation.Input) async throws -> Operations.CreateDelegation.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let delegation = try await organisation.createDelegation(
            .init(positionID: try Wire.uuid(body.positionId, field: "positionId"), userID: try Wire.uuid(body.userId, field: "userId"),
                  capacity: DelegationCapacity(rawValue: body.capacity.rawValue)!, validFrom: body.validFrom, validUntil: body.validUntil),
            actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .created(.init(body: .json(Self.delegation(delegation))))
    }

    static func delegation(_ delegation: DelegationRecord) -> Components.Schemas.Delegation {
        .init(id: Wire.id(delegation.id), positionId: Wire.id(delegation.positionID), userId: Wire.id(delegation.userID),
              capacity: .init(rawValue: delegation.capacity.rawValue)!, validFrom: delegation.validFrom, validUntil: delegation.validUntil)
    }

    // MARK: Mandates (a.n.)

    func listMandates(_ input: Operations.ListMandates.Input) async throws -> Operations.ListMandates.Output {
        let page = try await organisation.listMandates(
            actor: try RequestScope.caller().actor, positionID: try Wire.optionalUUID(input.query.positionId, field: "positionId"),
            page: Wire.page(limit: input.query.limit, cursor: input.query.cursor))
        return .ok(.init(body: .json(.init(items: page.items.map(Self.mandate), nextCursor: page.nextCursor))))
    }

    func createMandate(_ input: Operations.CreateMandate.Input) async throws -> Operations.CreateMandate.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let mandate = try await organisation.createMandate(
            .init(positionID: try Wire.uuid(body.positionId, field: "positionId"),
                  principalPositionID: try Wire.uuid(body.principalPositionId, field: "principalPositionId"),
                  reference: body.reference, validFrom: body.validFrom, validUntil: body.validUntil),
            actor: try RequestScope.caller().actor, request: RequestScope.info)
        return .created(.init(body: .json(Self.mandate(mandate))))
    }

    static func mandate(_ mandate: MandateRecord) -> Components.Schemas.Mandate {
        .init(id: Wire.id(mandate.id), positionId: Wire.id(mandate.positionID), principalPositionId: Wire.id(mandate.principalPositionID),
              reference: mandate.reference, validFrom: mandate.validFrom, validUntil: mandate.validUntil)
    }
}
