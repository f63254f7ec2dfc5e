public import EsuratDomain
public import EsuratPostgres
public import Foundation

/// Workflow definitions: data, versioned, chosen by letter type and unit. Posting a
/// definition under an existing name makes its next version; letters already running stay
/// on the version they started with.
public final class WorkflowService: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public struct StoredDefinition: Sendable {
        public var id: UUID
        public var name: String
        public var version: Int
        public var letterType: LetterType?
        public var unitID: UUID?
        public var definition: WorkflowDefinition
        public var createdAt: Date
    }

    public func create(
        _ definition: WorkflowDefinition, letterType rawType: String?, unitID: UUID?, actor: Actor, request: RequestInfo
    ) async throws -> StoredDefinition {
        switch AccessPolicy.decide(actor, .manageUnits) {
        case .allow: break
        case .forbidden: throw ServiceError(.forbidden, "Workflow definitions are managed by admins.")
        case .notVisible: throw ServiceError.notFound("The resource")
        }
        var check = Validator()
        check.text(definition.name, "name", length: 1...100)
        var letterType: LetterType?
        if let rawType {
            letterType = LetterType(rawValue: rawType)
            check.check(letterType != nil, "letterType", "must be one of \(LetterType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try check.throwIfInvalid()
        do {
            try definition.validate()
        } catch {
            throw ServiceError.invalid(error.field, error.message)
        }
        return try await pool.withRetryingTransaction(.serializable) { tx in
            if let unitID {
                guard try await !tx.query("SELECT 1 FROM units WHERE id = $1", [unitID]).isEmpty else { throw ServiceError.invalid("unitId", "no unit has this id") }
            }
            for (index, step) in definition.steps.enumerated() {
                if case .position(let position) = step.actor {
                    guard try await !tx.query("SELECT 1 FROM positions WHERE id = $1", [position]).isEmpty else {
                        throw ServiceError.invalid("steps[\(index)].positionId", "no position has this id")
                    }
                }
            }
            let version: Int = try await tx.query(
                "SELECT coalesce(max(version), 0) + 1 AS v FROM workflow_definitions WHERE name = $1", [definition.name]).single().decode("v")
            let row = try await tx.query(
                """
                INSERT INTO workflow_definitions (name, version, letter_type, unit_id, definition, created_by)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at
                """,
                [definition.name, version, letterType?.rawValue, unitID, try PostgresJSONB(definition), actor.userID]).single()
            let stored = StoredDefinition(
                id: try row.decode("id"), name: definition.name, version: version, letterType: letterType, unitID: unitID,
                definition: definition, createdAt: try row.decode("created_at"))
            try await AuditLog.append(
                .init("workflow.defined", objectType: "workflow", objectID: stored.id.uuidString, actorUserID: actor.userID,
                      details: ["name": definition.name, "version": String(version)]),
                request: request, on: tx)
            return stored
        }
    }

    public func list() async throws -> [StoredDefinition] {
        try await pool.query(
            "SELECT id, name, version, letter_type, unit_id, definition, created_at FROM workflow_definitions ORDER BY name, version"
        ).map(Self.stored)
    }

    /// The newest version of the most specific definition for a letter of `type` drafted in
    /// `opd`: type and unit, then type, then unit, then one for everything; nil when there
    /// is none (the built-in standard route applies).
    func choose(type: LetterType, opd: UUID, on tx: PostgresConnection) async throws -> StoredDefinition? {
        try await tx.query(
            """
            SELECT DISTINCT ON (name) id, name, version, letter_type, unit_id, definition, created_at FROM workflow_definitions
            WHERE (letter_type = $1 OR letter_type IS NULL) AND (unit_id = $2 OR unit_id IS NULL)
            ORDER BY name, version DESC
            """, [type.rawValue, opd]
        ).map(Self.stored)
            .filter { ($0.letterType == nil || $0.letterType == type) && ($0.unitID == nil || $0.unitID == opd) }
            .max { specificity($0) < specificity($1) || (specificity($0) == specificity($1) && $0.createdAt < $1.createdAt) }
    }

    private func specificity(_ stored: StoredDefinition) -> Int {
        (stored.letterType != nil ? 2 : 0) + (stored.unitID != nil ? 1 : 0)
    }

    static func stored(_ row: PostgresRow) throws -> StoredDefinition {
        StoredDefinition(
            id: try row.decode("id"), name: try row.decode("name"), version: try row.decode("version"),
            letterType: try row.decode("letter_type", as: String?.self).flatMap(LetterType.init(rawValue:)), unitID: try row.decode("unit_id"),
            definition: try row.decode("definition", as: PostgresJSONB.self).decode(WorkflowDefinition.self), createdAt: try row.decode("created_at"))
    }
}
