public import EsuratDomain
public import EsuratPostgres
public import Foundation

/// Appends audit events inside the caller's transaction, so an event exists exactly when
/// the change it records does.
public enum AuditLog {
    /// What happened, to what, by whom, acting in which position.
    public struct Event: Sendable {
        public var action: String
        public var objectType: String
        public var objectID: String?
        public var actorUserID: UUID?
        public var actingPosition: ActingPosition?
        public var details: [String: String]

        public init(
            _ action: String, objectType: String, objectID: String? = nil, actorUserID: UUID?,
            actingPosition: ActingPosition? = nil, details: [String: String] = [:]
        ) {
            self.action = action
            self.objectType = objectType
            self.objectID = objectID
            self.actorUserID = actorUserID
            self.actingPosition = actingPosition
            self.details = details
        }
    }

    public static func append(_ event: Event, request: RequestInfo, on connection: PostgresConnection) async throws {
        let insert = try statement(event, request: request)
        try await connection.query(insert.query, insert.binds)
    }

    /// The insert of `event`, for a pipelined batch of a transaction's writes.
    public static func statement(_ event: Event, request: RequestInfo) throws -> PostgresStatement {
        PostgresStatement(
            """
            INSERT INTO audit_events (actor_user_id, acting_position_id, acting_capacity, action, object_type, object_id,
                                      client_address, request_id, details)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            [event.actorUserID, event.actingPosition?.positionID, event.actingPosition?.capacity?.rawValue,
             event.action, event.objectType, event.objectID, request.clientAddress, request.requestID,
             try PostgresJSONB(event.details)])
    }
}
