public import EsuratDomain
public import EsuratPostgres
public import EsuratSigning
public import Foundation
import Synchronization

/// Login, logout, bearer tokens and API tokens.
///
/// Tokens are 256 random bits, shown once and stored only as their SHA-256. Failed logins
/// are counted in PostgreSQL, so the limits hold across every replica: more than
/// ``Limits/perUsername`` failures for one username, or ``Limits/perAddress`` from one client
/// address, within ``Limits/window`` answer 429 until the window has passed.
public final class IdentityService: Sendable {
    public struct Limits: Sendable {
        public var perUsername = 5
        public var perAddress = 20
        public var window: Duration = .seconds(60)
        public var sessionLifetime: Duration = .seconds(12 * 3600)
        /// Logins checking a password at once; more answer 429 at once. Twice the two
        /// hashing threads, so they stay busy and signing never queues behind more than that.
        public var concurrentHashes = 4
        public init() {}
    }

    /// What a successful login returns.
    public struct Session: Sendable {
        public var token: String
        public var expiresAt: Date
        public var user: UserRecord
    }

    /// An authenticated caller: the account and what it may act as now.
    public struct Authenticated: Sendable {
        public var actor: Actor
        public var user: UserRecord
        public var tokenID: UUID
    }

    let pool: PostgresPool
    let hasher: PasswordHasher
    let blocking: BlockingWork
    let limits: Limits
    /// Verified against for unknown usernames, so they take as long as known ones.
    let decoyHash: String
    let hashSlots = Slots()

    /// A counter of work in flight that refuses rather than queues.
    final class Slots: Sendable {
        private let taken = Atomic<Int>(0)

        func tryAcquire(_ limit: Int) -> Bool {
            var current = taken.load(ordering: .relaxed)
            while current < limit {
                let (exchanged, original) = taken.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
                if exchanged { return true }
                current = original
            }
            return false
        }

        func release() { taken.subtract(1, ordering: .releasing) }
    }

    public init(pool: PostgresPool, hasher: PasswordHasher, blocking: BlockingWork, limits: Limits = Limits()) throws {
        self.pool = pool
        self.hasher = hasher
        self.blocking = blocking
        self.limits = limits
        self.decoyHash = try hasher.hash(Base64.encode(try SecureRandom.bytes(24)))
    }

    public func login(username rawUsername: String, password: String, request: RequestInfo) async throws -> Session {
        let username = rawUsername.trimmingCharacters(in: .whitespaces).lowercased()
        var check = Validator()
        check.text(username, "username", length: 1...64)
        check.check(!password.isEmpty && password.count <= 1024, "password", "is required (at most 1024 characters)")
        try check.throwIfInvalid()

        // A flood of logins is turned away before it reaches the database or the threads that
        // signing also waits on: at most `concurrentHashes` logins check a password at once.
        guard hashSlots.tryAcquire(limits.concurrentHashes) else {
            throw ServiceError(.rateLimited, "The server is busy checking other logins; try again in a second.", retryAfterSeconds: 1)
        }
        defer { hashSlots.release() }

        let attemptID = try await countAttempt(username: username, request: request)
        let rows = try await pool.query(
            "SELECT id, username, full_name, nip, roles, unit_id, position_id, active, password_hash FROM users WHERE username = $1 AND active",
            [username])
        let stored: String = try rows.first?.decode("password_hash") ?? decoyHash
        // No connection and no lock is held while the hash is computed.
        let matches = try await blocking.run { [hasher] in try hasher.verify(password, against: stored) }
        guard matches, let row = rows.first else {
            // The counted attempt stays as the record of the failure; the audit log gets
            // hourly summaries of these (``Housekeeping``), not a row per anonymous guess.
            throw ServiceError(.unauthorized, "The username or password is wrong.")
        }
        let user = try OrganisationService.user(row)
        let rehash = hasher.needsRehash(stored) ? try await blocking.run { [hasher] in try hasher.hash(password) } : nil
        let (token, hash) = try Self.newToken()
        let expiresAt = Date().addingTimeInterval(TimeInterval(limits.sessionLifetime.components.seconds))
        try await pool.withTransaction { tx in
            try await tx.query(
                "INSERT INTO access_tokens (token_hash, user_id, kind, expires_at) VALUES ($1, $2, 'session', $3)",
                [PostgresBytes(hash), user.id, expiresAt])
            if let rehash { try await tx.query("UPDATE users SET password_hash = $2 WHERE id = $1", [user.id, rehash]) }
            try await tx.query("DELETE FROM login_failures WHERE id = $1", [attemptID])
            try await AuditLog.append(
                .init("auth.login", objectType: "user", objectID: user.id.uuidString, actorUserID: user.id, details: ["username": username]),
                request: request, on: tx)
        }
        return Session(token: token, expiresAt: expiresAt, user: user)
    }

    /// Proof that the caller typed their account password just now: what making or replacing
    /// a signing key asks for, so a stolen session alone cannot give itself a key it can sign
    /// with. Only ``IdentityService/confirmPassword(_:of:request:)`` makes one.
    public struct PasswordConfirmation: Sendable {
        public let userID: UUID
        public let at: Date
        /// How long a confirmation stands: long enough for the request that asked for it.
        public static let lifetime: TimeInterval = 60

        fileprivate init(userID: UUID) {
            self.userID = userID
            self.at = Date()
        }

        func stands(for caller: Authenticated) -> Bool {
            userID == caller.user.id && Date().timeIntervalSince(at) < Self.lifetime
        }
    }

    /// Checks the caller's account password again, counted and limited like a login (a
    /// stolen session must not guess it at hashing speed); a wrong one is audited and answers
    /// 403 naming `password`.
    public func confirmPassword(_ password: String, of caller: Authenticated, request: RequestInfo) async throws -> PasswordConfirmation {
        var check = Validator()
        check.check(!password.isEmpty && password.count <= 1024, "password", "is required: the account password (at most 1024 characters)")
        try check.throwIfInvalid()
        guard hashSlots.tryAcquire(limits.concurrentHashes) else {
            throw ServiceError(.rateLimited, "The server is busy checking other passwords; try again in a second.", retryAfterSeconds: 1)
        }
        defer { hashSlots.release() }
        let attemptID = try await countAttempt(username: caller.user.username, request: request)
        let stored: String = try await pool.query("SELECT password_hash FROM users WHERE id = $1 AND active", [caller.user.id])
            .first?.decode("password_hash") ?? decoyHash
        let matches = try await blocking.run { [hasher] in try hasher.verify(password, against: stored) }
        guard matches else {
            try await pool.withTransaction { tx in
                try await AuditLog.append(
                    .init("auth.password_confirmation_failed", objectType: "user", objectID: caller.user.id.uuidString, actorUserID: caller.user.id),
                    request: request, on: tx)
            }
            throw ServiceError(.forbidden, "The account password is wrong.", fields: [.init("password", "is not this account's password")])
        }
        try await pool.query("DELETE FROM login_failures WHERE id = $1", [attemptID])
        return PasswordConfirmation(userID: caller.user.id)
    }

    /// Counts one password check against `username` and the client's address before it is
    /// made, under locks on both, so parallel guesses cannot all pass a count read before any
    /// of them failed; 429 when either is over its limit. The caller deletes the row when the
    /// password was right.
    private func countAttempt(username: String, request: RequestInfo) async throws -> Int64 {
        let windowSeconds = Int(limits.window.components.seconds)
        let (attemptID, retryAfter) = try await pool.withTransaction { tx -> (Int64?, Int) in
            // Usernames before addresses, always: two logins never wait on each other in a cycle.
            try await tx.query("SELECT pg_advisory_xact_lock(1, hashtext($1))", [username])
            try await tx.query("SELECT pg_advisory_xact_lock(2, hashtext($1))", [request.clientAddress])
            let recent = try await tx.query(
                """
                SELECT (SELECT count(*) FROM login_failures WHERE username = $1 AND at > now() - make_interval(secs => $3) AND NOT rate_limited) AS by_user,
                       (SELECT count(*) FROM login_failures WHERE client_address = $2 AND at > now() - make_interval(secs => $3) AND NOT rate_limited) AS by_address,
                       (SELECT extract(epoch FROM min(at) + make_interval(secs => $3) - now())::int8 FROM login_failures
                         WHERE (username = $1 OR client_address = $2) AND at > now() - make_interval(secs => $3) AND NOT rate_limited) AS retry_after
                """, [username, request.clientAddress, Double(windowSeconds)]).single()
            let byUser: Int = try recent.decode("by_user")
            let byAddress: Int = try recent.decode("by_address")
            if byUser >= limits.perUsername || byAddress >= limits.perAddress {
                // Recorded for the hourly audit summary; not counted, so a refused attempt
                // does not extend the window.
                try await tx.query(
                    "INSERT INTO login_failures (username, client_address, rate_limited) VALUES ($1, $2, true)", [username, request.clientAddress])
                return (nil, max(1, try recent.decode("retry_after", as: Int?.self) ?? windowSeconds))
            }
            let id: Int64 = try await tx.query(
                "INSERT INTO login_failures (username, client_address) VALUES ($1, $2) RETURNING id", [username, request.clientAddress]
            ).single().decode("id")
            return (id, 0)
        }
        guard let attemptID else {
            throw ServiceError(.rateLimited, "Too many failed password checks; try again in \(retryAfter) seconds.", retryAfterSeconds: retryAfter)
        }
        return attemptID
    }

    /// Revokes the token the request came with.
    public func logout(_ authenticated: Authenticated, request: RequestInfo) async throws {
        try await pool.withTransaction { tx in
            try await tx.query("UPDATE access_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", [authenticated.tokenID])
            try await AuditLog.append(
                .init("auth.logout", objectType: "user", objectID: authenticated.user.id.uuidString, actorUserID: authenticated.user.id),
                request: request, on: tx)
        }
    }

    /// The caller behind a bearer token, or 401: unknown, expired and revoked tokens alike.
    /// One round trip: the account, its own position and the delegations in force now.
    public func authenticate(bearer token: String) async throws -> Authenticated {
        guard token.utf8.count == 43, let raw = Base64.decode(token), raw.count == 32 else {
            throw ServiceError(.unauthorized, "The access token is not valid.")
        }
        let rows = try await pool.query(
            """
            SELECT t.id AS token_id, u.id, u.username, u.full_name, u.nip, u.roles, u.unit_id, u.position_id, u.active,
                   own.unit_id AS position_unit_id,
                   coalesce(array_agg(d.position_id ORDER BY d.valid_from) FILTER (WHERE d.id IS NOT NULL), '{}') AS delegated_positions,
                   coalesce(array_agg(dp.unit_id ORDER BY d.valid_from) FILTER (WHERE d.id IS NOT NULL), '{}') AS delegated_units,
                   coalesce(array_agg(d.capacity ORDER BY d.valid_from) FILTER (WHERE d.id IS NOT NULL), '{}') AS delegated_capacities
            FROM access_tokens t
            JOIN users u ON u.id = t.user_id AND u.active
            LEFT JOIN positions own ON own.id = u.position_id
            LEFT JOIN delegations d ON d.user_id = u.id AND d.valid_from <= now() AND d.valid_until > now()
            LEFT JOIN positions dp ON dp.id = d.position_id
            WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now()
            GROUP BY t.id, u.id, own.unit_id
            """, [PostgresBytes(try Digest.sha256(raw))])
        guard let row = rows.first else { throw ServiceError(.unauthorized, "The access token is not valid, has expired or was revoked.") }
        let user = try OrganisationService.user(row)
        var positions: [ActingPosition] = []
        if let own = user.positionID, let unit: UUID = try row.decode("position_unit_id") {
            positions.append(ActingPosition(positionID: own, unitID: unit, capacity: nil))
        }
        let delegated: [UUID] = try row.decode("delegated_positions")
        let units: [UUID] = try row.decode("delegated_units")
        let capacities: [String] = try row.decode("delegated_capacities")
        for (index, position) in delegated.enumerated() {
            positions.append(ActingPosition(positionID: position, unitID: units[index], capacity: DelegationCapacity(rawValue: capacities[index])))
        }
        let actor = Actor(userID: user.id, roles: Set(user.roles), unitID: user.unitID, positions: positions)
        return Authenticated(actor: actor, user: user, tokenID: try row.decode("token_id"))
    }

    // MARK: API tokens

    /// A named API token for an integration; shown once.
    public struct APIToken: Sendable {
        public var id: UUID
        public var name: String
        public var token: String?
        public var createdAt: Date
        public var expiresAt: Date
        public var revokedAt: Date?
    }

    public func createAPIToken(name rawName: String, validDays: Int, for authenticated: Authenticated, request: RequestInfo) async throws -> APIToken {
        let name = rawName.trimmingCharacters(in: .whitespacesAndNewlines)
        var check = Validator()
        check.text(name, "name", length: 1...100)
        check.check((1...730).contains(validDays), "validDays", "must be between 1 and 730")
        try check.throwIfInvalid()
        let (token, hash) = try Self.newToken()
        let expiresAt = Date().addingTimeInterval(TimeInterval(validDays) * 86_400)
        return try await pool.withTransaction { tx in
            let row = try await tx.query(
                "INSERT INTO access_tokens (token_hash, user_id, kind, name, expires_at) VALUES ($1, $2, 'api', $3, $4) RETURNING id, created_at",
                [PostgresBytes(hash), authenticated.user.id, name, expiresAt]).single()
            let id: UUID = try row.decode("id")
            try await AuditLog.append(
                .init("auth.api_token_created", objectType: "access_token", objectID: id.uuidString, actorUserID: authenticated.user.id,
                      details: ["name": name]),
                request: request, on: tx)
            return APIToken(id: id, name: name, token: token, createdAt: try row.decode("created_at"), expiresAt: expiresAt, revokedAt: nil)
        }
    }

    public func listAPITokens(for authenticated: Authenticated) async throws -> [APIToken] {
        try await pool.query(
            "SELECT id, name, created_at, expires_at, revoked_at FROM access_tokens WHERE user_id = $1 AND kind = 'api' ORDER BY created_at",
            [authenticated.user.id]
        ).map { row in
            APIToken(id: try row.decode("id"), name: try row.decode("name"), token: nil, createdAt: try row.decode("created_at"),
                     expiresAt: try row.decode("expires_at"), revokedAt: try row.decode("revoked_at"))
        }
    }

    public func revokeAPIToken(_ id: UUID, for authenticated: Authenticated, request: RequestInfo) async throws {
        try await pool.withTransaction { tx in
            let changed = try await tx.execute(
                "UPDATE access_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND kind = 'api' AND revoked_at IS NULL",
                [id, authenticated.user.id])
            // Someone else's token is as invisible as a missing one.
            guard changed == 1 else { throw ServiceError.notFound("The API token") }
            try await AuditLog.append(
                .init("auth.api_token_revoked", objectType: "access_token", objectID: id.uuidString, actorUserID: authenticated.user.id),
                request: request, on: tx)
        }
    }

    static func newToken() throws -> (token: String, hash: [UInt8]) {
        let raw = try SecureRandom.bytes(32)
        return (Base64.encode(raw, urlSafe: true), try Digest.sha256(raw))
    }
}
