public import EsuratPostgres
public import EsuratSigning
import EsuratDomain
import Foundation

/// First start: an empty database gets the root unit and the `admin` account.
public enum Bootstrap {
    /// The result of ``ensureAdmin(pool:hasher:blocking:password:)``.
    public enum Outcome: Sendable, Equatable {
        /// Accounts existed already; nothing was done.
        case existing
        /// `admin` was created with the password given.
        case created
        /// `admin` was created with this generated password, to be shown once.
        case createdWithGeneratedPassword(String)
    }

    /// Creates the root unit and `admin` when there is no account at all. Replicas starting
    /// at once serialise on a transaction-scoped advisory lock.
    public static func ensureAdmin(pool: PostgresPool, hasher: PasswordHasher, blocking: BlockingWork, password: String?) async throws -> Outcome {
        let chosen = try password ?? Base64.encode(try SecureRandom.bytes(15), urlSafe: true)
        guard chosen.count >= PasswordHasher.minimumLength else {
            throw ServiceError.invalid("ESURAT_ADMIN_PASSWORD", "must be at least \(PasswordHasher.minimumLength) characters")
        }
        let hash = try await blocking.run { try hasher.hash(chosen) }
        let created: Bool = try await pool.withTransaction { tx in
            try await tx.query("SELECT pg_advisory_xact_lock($1)", [Int64(0x6573_7572_6175)])
            guard try await tx.query("SELECT 1 FROM users LIMIT 1").isEmpty else { return false }
            let root = try await tx.query(
                """
                INSERT INTO units (code, name, kind) VALUES ('PEMDA', 'Pemerintah Daerah', 'pemda')
                ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id
                """).single()
            let rootID: UUID = try root.decode("id")
            let admin = try await tx.query(
                "INSERT INTO users (username, full_name, password_hash, roles, unit_id) VALUES ('admin', 'Administrator', $1, $2, $3) RETURNING id",
                [hash, ["admin"], rootID]).single()
            try await AuditLog.append(
                .init("user.bootstrap_admin", objectType: "user", objectID: try admin.decode("id", as: UUID.self).uuidString, actorUserID: nil),
                request: .local, on: tx)
            return true
        }
        if !created { return .existing }
        return password == nil ? .createdWithGeneratedPassword(chosen) : .created
    }
}
