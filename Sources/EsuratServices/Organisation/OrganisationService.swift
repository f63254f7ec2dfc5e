public import EsuratDomain
public import EsuratPostgres
public import Foundation
public import EsuratSigning

/// Units, positions, user accounts and delegations: each use case checks the actor with
/// ``AccessPolicy``, validates every field, and writes its change and its audit event in one
/// transaction.
public final class OrganisationService: Sendable {
    let pool: PostgresPool
    let hasher: PasswordHasher
    let blocking: BlockingWork

    public init(pool: PostgresPool, hasher: PasswordHasher, blocking: BlockingWork) {
        self.pool = pool
        self.hasher = hasher
        self.blocking = blocking
    }

    // MARK: Units

    public struct NewUnit: Sendable {
        public var code: String
        public var name: String
        public var kind: UnitKind
        public var parentID: UUID?
        public init(code: String, name: String, kind: UnitKind, parentID: UUID?) {
            self.code = code
            self.name = name
            self.kind = kind
            self.parentID = parentID
        }
    }

    public func createUnit(_ input: NewUnit, actor: Actor, request: RequestInfo) async throws -> UnitRecord {
        try authorize(actor, .manageUnits)
        var check = Validator()
        let code = input.code.trimmingCharacters(in: .whitespaces)
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        check.check(code.range(of: #"^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$"#, options: .regularExpression) != nil, "code",
                    "must be 1–32 letters, digits, dots or hyphens (it appears in letter numbers)")
        check.text(name, "name", length: 1...200)
        try check.throwIfInvalid()
        return try await pool.withTransaction { tx in
            if let parentID = input.parentID {
                guard try await !tx.query("SELECT 1 FROM units WHERE id = $1", [parentID]).isEmpty else {
                    throw ServiceError.invalid("parentId", "no unit has this id")
                }
            }
            let row: PostgresRow
            do {
                row = try await tx.query(
                    "INSERT INTO units (code, name, kind, parent_id) VALUES ($1, $2, $3, $4) RETURNING id",
                    [code, name, input.kind.rawValue, input.parentID]).single()
            } catch let error as PostgresError where error.constraint == "units_code_key" {
                throw ServiceError.conflict("code", "a unit with code \(code) already exists")
            }
            let unit = UnitRecord(id: try row.decode("id"), code: code, name: name, kind: input.kind, parentID: input.parentID, active: true)
            try await AuditLog.append(
                .init("unit.created", objectType: "unit", objectID: unit.id.uuidString, actorUserID: actor.userID,
                      details: ["code": code, "name": name, "kind": input.kind.rawValue]),
                request: request, on: tx)
            return unit
        }
    }

    public func listUnits(actor: Actor, page: PageRequest) async throws -> Page<UnitRecord> {
        try authorize(actor, .listUnits)
        let rows = try await pool.query(
            """
            SELECT id, code, name, kind, parent_id, active FROM units
            WHERE $1::text IS NULL OR code > $1 ORDER BY code LIMIT $2
            """, [page.after, page.limit + 1])
        return page.page(try rows.map(Self.unit), key: \.code)
    }

    public func unit(_ id: UUID, actor: Actor) async throws -> UnitRecord {
        try authorize(actor, .viewUnit)
        let rows = try await pool.query("SELECT id, code, name, kind, parent_id, active FROM units WHERE id = $1", [id])
        guard let row = rows.first else { throw ServiceError.notFound("The unit") }
        return try Self.unit(row)
    }

    /// Renames a unit, or deactivates or reactivates it (admin). An inactive unit keeps its
    /// letters and people; deliveries to it fail and retry until it is active again.
    public func updateUnit(_ id: UUID, name rawName: String?, active: Bool?, actor: Actor, request: RequestInfo) async throws -> UnitRecord {
        try authorize(actor, .manageUnits)
        var check = Validator()
        let name = rawName?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let name { check.text(name, "name", length: 1...200) }
        check.check(name != nil || active != nil, "body", "must change name or active")
        try check.throwIfInvalid()
        return try await pool.withTransaction { tx in
            guard let before = try await tx.query("SELECT id, code, name, kind, parent_id, active FROM units WHERE id = $1 FOR UPDATE", [id]).first else {
                throw ServiceError.notFound("The unit")
            }
            let old = try Self.unit(before)
            let row = try await tx.query(
                "UPDATE units SET name = coalesce($2, name), active = coalesce($3, active) WHERE id = $1 RETURNING id, code, name, kind, parent_id, active",
                [id, name, active]).single()
            let unit = try Self.unit(row)
            var details: [String: String] = [:]
            if unit.name != old.name { details["name"] = unit.name; details["previousName"] = old.name }
            if unit.active != old.active { details["active"] = String(unit.active) }
            if !details.isEmpty {
                let action = unit.active == old.active ? "unit.renamed" : (unit.active ? "unit.reactivated" : "unit.deactivated")
                try await AuditLog.append(
                    .init(action, objectType: "unit", objectID: id.uuidString, actorUserID: actor.userID, details: details), request: request, on: tx)
            }
            return unit
        }
    }

    static func unit(_ row: PostgresRow) throws -> UnitRecord {
        UnitRecord(
            id: try row.decode("id"), code: try row.decode("code"), name: try row.decode("name"),
            kind: UnitKind(rawValue: try row.decode("kind")) ?? .opd, parentID: try row.decode("parent_id"),
            active: try row.decode("active"))
    }

    // MARK: Positions

    public struct NewPosition: Sendable {
        public var unitID: UUID
        public var title: String
        public var superiorID: UUID?
        public var isHead: Bool
        public init(unitID: UUID, title: String, superiorID: UUID?, isHead: Bool) {
            self.unitID = unitID
            self.title = title
            self.superiorID = superiorID
            self.isHead = isHead
        }
    }

    public func createPosition(_ input: NewPosition, actor: Actor, request: RequestInfo) async throws -> PositionRecord {
        try authorize(actor, .managePositions)
        let title = input.title.trimmingCharacters(in: .whitespacesAndNewlines)
        var check = Validator()
        check.text(title, "title", length: 1...200)
        try check.throwIfInvalid()
        return try await pool.withTransaction { tx in
            guard try await !tx.query("SELECT 1 FROM units WHERE id = $1", [input.unitID]).isEmpty else {
                throw ServiceError.invalid("unitId", "no unit has this id")
            }
            if let superiorID = input.superiorID {
                guard try await !tx.query("SELECT 1 FROM positions WHERE id = $1", [superiorID]).isEmpty else {
                    throw ServiceError.invalid("superiorId", "no position has this id")
                }
            }
            let row: PostgresRow
            do {
                row = try await tx.query(
                    "INSERT INTO positions (unit_id, title, superior_id, is_head) VALUES ($1, $2, $3, $4) RETURNING id",
                    [input.unitID, title, input.superiorID, input.isHead]).single()
            } catch let error as PostgresError where error.isUniqueViolation {
                throw ServiceError.conflict("isHead", "the unit already has a head position")
            }
            let position = PositionRecord(
                id: try row.decode("id"), unitID: input.unitID, title: title, superiorID: input.superiorID,
                isHead: input.isHead, holderID: nil)
            try await AuditLog.append(
                .init("position.created", objectType: "position", objectID: position.id.uuidString, actorUserID: actor.userID,
                      details: ["title": title, "unitId": input.unitID.uuidString]),
                request: request, on: tx)
            return position
        }
    }

    public func listPositions(actor: Actor, unitID: UUID?, page: PageRequest) async throws -> Page<PositionRecord> {
        try authorize(actor, .listPositions)
        let rows = try await pool.query(
            """
            SELECT p.id, p.unit_id, p.title, p.superior_id, p.is_head, u.id AS holder_id
            FROM positions p LEFT JOIN users u ON u.position_id = p.id
            WHERE ($1::uuid IS NULL OR p.unit_id = $1) AND ($2::text IS NULL OR p.id::text > $2)
            ORDER BY p.id::text LIMIT $3
            """, [unitID, page.after, page.limit + 1])
        return page.page(try rows.map(Self.position), key: { $0.id.lowercasedString })
    }

    public func position(_ id: UUID, actor: Actor) async throws -> PositionRecord {
        try authorize(actor, .viewPosition)
        let rows = try await pool.query(
            """
            SELECT p.id, p.unit_id, p.title, p.superior_id, p.is_head, u.id AS holder_id
            FROM positions p LEFT JOIN users u ON u.position_id = p.id WHERE p.id = $1
            """, [id])
        guard let row = rows.first else { throw ServiceError.notFound("The position") }
        return try Self.position(row)
    }

    static func position(_ row: PostgresRow) throws -> PositionRecord {
        PositionRecord(
            id: try row.decode("id"), unitID: try row.decode("unit_id"), title: try row.decode("title"),
            superiorID: try row.decode("superior_id"), isHead: try row.decode("is_head"), holderID: try row.decode("holder_id"))
    }

    // MARK: Users

    public struct NewUser: Sendable {
        public var username: String
        public var fullName: String
        public var nip: String?
        public var password: String
        public var roles: [Role]
        public var unitID: UUID
        public var positionID: UUID?
        /// Pangkat/golongan, printed under the name on letters the user signs.
        public var rank: String?
        public init(username: String, fullName: String, nip: String?, password: String, roles: [Role], unitID: UUID, positionID: UUID?, rank: String? = nil) {
            self.rank = rank
            self.username = username
            self.fullName = fullName
            self.nip = nip
            self.password = password
            self.roles = roles
            self.unitID = unitID
            self.positionID = positionID
        }
    }

    public func createUser(_ input: NewUser, actor: Actor, request: RequestInfo) async throws -> UserRecord {
        try authorize(actor, .manageUsers)
        return try await insertUser(input, createdBy: actor.userID, request: request)
    }

    /// An account for the benchmarks (`esurat bench auth|letters`), made without an actor.
    public func insertUserForBenchmark(
        username: String, password: String, unitID: UUID, roles: [Role] = [.staff], positionID: UUID? = nil, nip: String? = nil
    ) async throws -> UserRecord {
        try await insertUser(
            .init(username: username, fullName: "Benchmark", nip: nip, password: password, roles: roles, unitID: unitID, positionID: positionID),
            createdBy: nil, request: .local)
    }

    /// Creates an account without an actor check: for the bootstrap admin and the demo seed.
    func insertUser(_ input: NewUser, createdBy: UUID?, request: RequestInfo) async throws -> UserRecord {
        let username = input.username.trimmingCharacters(in: .whitespaces).lowercased()
        let fullName = input.fullName.trimmingCharacters(in: .whitespacesAndNewlines)
        var check = Validator()
        check.check(username.range(of: #"^[a-z0-9][a-z0-9._\-]{1,63}$"#, options: .regularExpression) != nil, "username",
                    "must be 2–64 lower-case letters, digits, dots, hyphens or underscores")
        check.text(fullName, "fullName", length: 1...200)
        let rank = input.rank?.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty
        if let rank { check.text(rank, "rank", length: 1...100) }
        check.check(!input.roles.isEmpty, "roles", "must name at least one role")
        check.check(input.password.count >= PasswordHasher.minimumLength, "password", "must be at least \(PasswordHasher.minimumLength) characters")
        check.check(input.password.count <= 1024, "password", "must be at most 1024 characters")
        var nip: NIP?
        if let text = input.nip, !text.isEmpty {
            do { nip = try NIP(text) } catch { check.fail("nip", "\(error)") }
        }
        try check.throwIfInvalid()
        let password = input.password
        let hash = try await blocking.run { [hasher] in try hasher.hash(password) }
        let roles = Array(Set(input.roles)).map(\.rawValue).sorted()
        return try await pool.withTransaction { tx in
            guard try await !tx.query("SELECT 1 FROM units WHERE id = $1", [input.unitID]).isEmpty else {
                throw ServiceError.invalid("unitId", "no unit has this id")
            }
            if let positionID = input.positionID {
                guard try await !tx.query("SELECT 1 FROM positions WHERE id = $1", [positionID]).isEmpty else {
                    throw ServiceError.invalid("positionId", "no position has this id")
                }
            }
            let row: PostgresRow
            do {
                row = try await tx.query(
                    """
                    INSERT INTO users (username, full_name, nip, password_hash, roles, unit_id, position_id, rank)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
                    """,
                    [username, fullName, nip?.digits, hash, roles, input.unitID, input.positionID, rank]).single()
            } catch let error as PostgresError where error.isUniqueViolation {
                switch error.constraint {
                case "users_username_key": throw ServiceError.conflict("username", "the username \(username) is taken")
                case "users_nip_key": throw ServiceError.conflict("nip", "another account has this NIP")
                case "users_position_key": throw ServiceError.conflict("positionId", "the position already has a definitive holder")
                default: throw error
                }
            }
            let user = UserRecord(
                id: try row.decode("id"), username: username, fullName: fullName, nip: nip?.digits,
                roles: roles.compactMap(Role.init(rawValue:)), unitID: input.unitID, positionID: input.positionID, active: true)
            try await AuditLog.append(
                .init("user.created", objectType: "user", objectID: user.id.uuidString, actorUserID: createdBy,
                      details: ["username": username, "roles": roles.joined(separator: ",")]),
                request: request, on: tx)
            return user
        }
    }

    public func listUsers(actor: Actor, page: PageRequest) async throws -> Page<UserRecord> {
        try authorize(actor, .listUsers)
        let unitFilter: UUID? = switch AccessPolicy.userListScope(actor) {
        case .all: nil
        case .unit(let unit): unit
        }
        let rows = try await pool.query(
            """
            SELECT id, username, full_name, nip, roles, unit_id, position_id, active FROM users
            WHERE ($1::uuid IS NULL OR unit_id = $1) AND ($2::text IS NULL OR username > $2)
            ORDER BY username LIMIT $3
            """, [unitFilter, page.after, page.limit + 1])
        return page.page(try rows.map(Self.user), key: \.username)
    }

    public func user(_ id: UUID, actor: Actor) async throws -> UserRecord {
        let rows = try await pool.query(
            "SELECT id, username, full_name, nip, roles, unit_id, position_id, active FROM users WHERE id = $1", [id])
        guard let row = rows.first else { throw ServiceError.notFound("The user") }
        let user = try Self.user(row)
        try authorize(actor, .viewUser, user.id == actor.userID ? .ownAccount : .inUnit(user.unitID), what: "The user")
        return user
    }

    static func user(_ row: PostgresRow) throws -> UserRecord {
        UserRecord(
            id: try row.decode("id"), username: try row.decode("username"), fullName: try row.decode("full_name"),
            nip: try row.decode("nip"), roles: try row.decode("roles", as: [String].self).compactMap(Role.init(rawValue:)),
            unitID: try row.decode("unit_id"), positionID: try row.decode("position_id"), active: try row.decode("active"))
    }

    // MARK: Delegations

    public struct NewDelegation: Sendable {
        public var positionID: UUID
        public var userID: UUID
        public var capacity: DelegationCapacity
        public var validFrom: Date
        public var validUntil: Date
        public init(positionID: UUID, userID: UUID, capacity: DelegationCapacity, validFrom: Date, validUntil: Date) {
            self.positionID = positionID
            self.userID = userID
            self.capacity = capacity
            self.validFrom = validFrom
            self.validUntil = validUntil
        }
    }

    /// Plt. needs a vacant position, Plh. a held one; the delegate is not the holder; windows
    /// of one position never overlap (checked under a lock on the position's row).
    public func createDelegation(_ input: NewDelegation, actor: Actor, request: RequestInfo) async throws -> DelegationRecord {
        try authorize(actor, .manageDelegations)
        let window: ValidityWindow
        do {
            window = try ValidityWindow(from: input.validFrom, until: input.validUntil)
        } catch {
            throw ServiceError.invalid("validUntil", "must be after validFrom")
        }
        return try await pool.withTransaction { tx in
            let positions = try await tx.query(
                """
                SELECT p.id, (SELECT u.id FROM users u WHERE u.position_id = p.id AND u.active) AS holder_id
                FROM positions p WHERE p.id = $1 FOR UPDATE OF p
                """, [input.positionID])
            guard let position = positions.first else { throw ServiceError.invalid("positionId", "no position has this id") }
            let holder: UUID? = try position.decode("holder_id")
            guard try await !tx.query("SELECT 1 FROM users WHERE id = $1 AND active", [input.userID]).isEmpty else {
                throw ServiceError.invalid("userId", "no active user has this id")
            }
            switch input.capacity {
            case .plt where holder != nil:
                throw ServiceError.conflict("capacity", "Plt. is for a vacant position; this one has a holder (use Plh.)")
            case .plh where holder == nil:
                throw ServiceError.conflict("capacity", "Plh. stands in for an absent holder; this position is vacant (use Plt.)")
            default:
                break
            }
            if holder == input.userID {
                throw ServiceError.invalid("userId", "the holder cannot be delegated their own position")
            }
            let overlapping = try await tx.query(
                "SELECT 1 FROM delegations WHERE position_id = $1 AND valid_from < $3 AND valid_until > $2",
                [input.positionID, window.from, window.until])
            guard overlapping.isEmpty else {
                throw ServiceError.conflict("validFrom", "another delegation of this position overlaps the window")
            }
            let row = try await tx.query(
                """
                INSERT INTO delegations (position_id, user_id, capacity, valid_from, valid_until, created_by)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
                """,
                [input.positionID, input.userID, input.capacity.rawValue, window.from, window.until, actor.userID]).single()
            let delegation = DelegationRecord(
                id: try row.decode("id"), positionID: input.positionID, userID: input.userID, capacity: input.capacity,
                validFrom: window.from, validUntil: window.until)
            try await AuditLog.append(
                .init("delegation.created", objectType: "delegation", objectID: delegation.id.uuidString, actorUserID: actor.userID,
                      details: ["positionId": input.positionID.uuidString, "userId": input.userID.uuidString,
                                "capacity": input.capacity.rawValue]),
                request: request, on: tx)
            return delegation
        }
    }

    public func listDelegations(actor: Actor, positionID: UUID?, page: PageRequest) async throws -> Page<DelegationRecord> {
        try authorize(actor, .viewDelegations)
        let rows = try await pool.query(
            """
            SELECT id, position_id, user_id, capacity, valid_from, valid_until FROM delegations
            WHERE ($1::uuid IS NULL OR position_id = $1) AND ($2::text IS NULL OR id::text > $2)
            ORDER BY id::text LIMIT $3
            """, [positionID, page.after, page.limit + 1])
        let items = try rows.map { row in
            DelegationRecord(
                id: try row.decode("id"), positionID: try row.decode("position_id"), userID: try row.decode("user_id"),
                capacity: DelegationCapacity(rawValue: try row.decode("capacity")) ?? .plh,
                validFrom: try row.decode("valid_from"), validUntil: try row.decode("valid_until"))
        }
        return page.page(items, key: { $0.id.lowercasedString })
    }

    // MARK: Mandates (a.n.)

    public struct NewMandate: Sendable {
        public var positionID: UUID
        public var principalPositionID: UUID
        public var reference: String
        public var validFrom: Date
        public var validUntil: Date
        public init(positionID: UUID, principalPositionID: UUID, reference: String, validFrom: Date, validUntil: Date) {
            self.positionID = positionID
            self.principalPositionID = principalPositionID
            self.reference = reference
            self.validFrom = validFrom
            self.validUntil = validUntil
        }
    }

    /// Records the SK by which a position signs a.n. a principal above it on its chain of
    /// superiors; windows of one position never overlap (checked under a lock on its row).
    public func createMandate(_ input: NewMandate, actor: Actor, request: RequestInfo) async throws -> MandateRecord {
        try authorize(actor, .manageDelegations)
        let reference = input.reference.trimmingCharacters(in: .whitespacesAndNewlines)
        var check = Validator()
        check.text(reference, "reference", length: 1...200)
        check.check(input.validUntil > input.validFrom, "validUntil", "must be after validFrom")
        check.check(input.principalPositionID != input.positionID, "principalPositionId", "must be another position than positionId")
        try check.throwIfInvalid()
        return try await pool.withTransaction { tx in
            guard try await !tx.query("SELECT 1 FROM positions WHERE id = $1 FOR UPDATE", [input.positionID]).isEmpty else {
                throw ServiceError.invalid("positionId", "no position has this id")
            }
            let above = try await tx.query(
                """
                WITH RECURSIVE up(id, superior_id, depth) AS (
                    SELECT id, superior_id, 0 FROM positions WHERE id = $1
                    UNION ALL SELECT p.id, p.superior_id, up.depth + 1 FROM positions p JOIN up ON p.id = up.superior_id WHERE up.depth < 30
                )
                SELECT 1 FROM up WHERE id = $2 AND depth > 0
                """, [input.positionID, input.principalPositionID])
            guard !above.isEmpty else {
                throw ServiceError.invalid("principalPositionId", "must be above the position on its chain of superiors")
            }
            let overlapping = try await tx.query(
                "SELECT 1 FROM signing_mandates WHERE position_id = $1 AND valid_from < $3 AND valid_until > $2",
                [input.positionID, input.validFrom, input.validUntil])
            guard overlapping.isEmpty else {
                throw ServiceError.conflict("validFrom", "another mandate of this position overlaps the window")
            }
            let id: UUID = try await tx.query(
                """
                INSERT INTO signing_mandates (position_id, principal_position_id, reference, valid_from, valid_until, created_by)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
                """,
                [input.positionID, input.principalPositionID, reference, input.validFrom, input.validUntil, actor.userID]).single().decode("id")
            try await AuditLog.append(
                .init("mandate.created", objectType: "mandate", objectID: id.uuidString, actorUserID: actor.userID,
                      details: ["positionId": input.positionID.uuidString, "principalPositionId": input.principalPositionID.uuidString,
                                "reference": reference]),
                request: request, on: tx)
            return MandateRecord(
                id: id, positionID: input.positionID, principalPositionID: input.principalPositionID, reference: reference,
                validFrom: input.validFrom, validUntil: input.validUntil)
        }
    }

    public func listMandates(actor: Actor, positionID: UUID?, page: PageRequest) async throws -> Page<MandateRecord> {
        try authorize(actor, .viewDelegations)
        let rows = try await pool.query(
            """
            SELECT id, position_id, principal_position_id, reference, valid_from, valid_until FROM signing_mandates
            WHERE ($1::uuid IS NULL OR position_id = $1) AND ($2::text IS NULL OR id::text > $2)
            ORDER BY id::text LIMIT $3
            """, [positionID, page.after, page.limit + 1])
        let items = try rows.map { row in
            MandateRecord(
                id: try row.decode("id"), positionID: try row.decode("position_id"), principalPositionID: try row.decode("principal_position_id"),
                reference: try row.decode("reference"), validFrom: try row.decode("valid_from"), validUntil: try row.decode("valid_until"))
        }
        return page.page(items, key: { $0.id.lowercasedString })
    }
}

/// Asks ``AccessPolicy`` and throws its refusal: 403 for forbidden, 404 for invisible.
func authorize(_ actor: Actor, _ action: Action, _ object: AccessObject = .none, what: String = "The resource") throws {
    switch AccessPolicy.decide(actor, action, object) {
    case .allow: return
    case .forbidden(let why): throw ServiceError(.forbidden, why)
    case .notVisible: throw ServiceError.notFound(what)
    }
}
