import EsuratDomain
import EsuratServices
import Foundation

/// Login, logout, the caller's account and API tokens.
struct IdentityHandlers: Sendable {
    let identity: IdentityService

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let session = try await identity.login(username: body.username, password: body.password, request: RequestScope.info)
        let me = Components.Schemas.Me(
            id: session.user.id.lowercasedString, username: session.user.username, fullName: session.user.fullName,
            nip: session.user.nip, roles: session.user.roles.map(Wire.role), unitId: Wire.id(session.user.unitID),
            positionId: session.user.positionID.map(Wire.id), actingPositions: nil)
        return .ok(.init(body: .json(.init(token: session.token, expiresAt: session.expiresAt, user: me))))
    }

    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        try await identity.logout(try RequestScope.caller(), request: RequestScope.info)
        return .noContent(.init())
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let caller = try RequestScope.caller()
        let user = caller.user
        let acting = caller.actor.positions.map {
            Components.Schemas.Me.ActingPositionsPayloadPayload(
                positionId: Wire.id($0.positionID), unitId: Wire.id($0.unitID),
                capacity: $0.capacity.map { .init(rawValue: $0.rawValue)! })
        }
        return .ok(.init(body: .json(.init(
            id: Wire.id(user.id), username: user.username, fullName: user.fullName, nip: user.nip,
            roles: user.roles.map(Wire.role), unitId: Wire.id(user.unitID), positionId: user.positionID.map(Wire.id),
            actingPositions: acting))))
    }

    func listAPITokens(_ input: Operations.ListAPITokens.Input) async throws -> Operations.ListAPITokens.Output {
        let tokens = try await identity.listAPITokens(for: try RequestScope.caller())
        return .ok(.init(body: .json(.init(items: tokens.map(Self.token)))))
    }

    func createAPIToken(_ input: Operations.CreateAPIToken.Input) async throws -> Operations.CreateAPIToken.Output {
        guard case .json(let body) = input.body else { throw ServiceError.invalid("body", "must be JSON") }
        let token = try await identity.createAPIToken(
            name: body.name, validDays: body.validDays ?? 365, for: try RequestScope.caller(), request: RequestScope.info)
        return .created(.init(body: .json(Self.token(token))))
    }

    func revokeAPIToken(_ input: Operations.RevokeAPIToken.Input) async throws -> Operations.RevokeAPIToken.Output {
        let id = try Wire.uuid(input.path.tokenId, field: "tokenId")
        try await identity.revokeAPIToken(id, for: try RequestScope.caller(), request: RequestScope.info)
        return .noContent(.init())
    }

    static func token(_ token: IdentityService.APIToken) -> Components.Schemas.APIToken {
        .init(id: Wire.id(token.id), name: token.name, token: token.token, createdAt: token.createdAt,
              expiresAt: token.expiresAt, revokedAt: token.revokedAt)
    }
}

/// Conversions between the wire (generated types) and the services.
enum Wire {
    static func id(_ id: UUID) -> String { id.lowercasedString }

    /// Parses an id from the path, query or body; a malformed one is a 400 naming the field.
    static func uuid(_ text: String, field: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw ServiceError.invalid(field, "must be a UUID") }
        return id
    }

    static func optionalUUID(_ text: String?, field: String) throws -> UUID? {
        guard let text else { return nil }
        return try uuid(text, field: field)
    }

    static func role(_ role: Role) -> Components.Schemas.Role { .init(rawValue: role.rawValue)! }

    static func page(limit: Int?, cursor: String?) throws -> PageRequest { try PageRequest(limit: limit, cursor: cursor) }
}
