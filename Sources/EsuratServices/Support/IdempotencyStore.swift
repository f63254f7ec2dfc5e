public import EsuratPostgres
import EsuratSigning
public import Foundation

/// Remembers the first response to a request carrying an `Idempotency-Key`, so a client
/// that retries (after a timeout, say) gets that response instead of a second letter.
///
/// What it keeps holds no secret: the request's hash is keyed with `secret` (bodies carry
/// passwords and passphrases), and a response holding one is withheld.
public final class IdempotencyStore: Sendable {
    let pool: PostgresPool
    let secret: [UInt8]
    static let lifetimeHours = 24
    /// A claim whose request has not finished after this long died with its server (nginx
    /// gives up on a request after 300 s): a retry may take the key over.
    static let inProgressSeconds = 300

    /// `secret`: the same on every replica (``PKIService/derivedSecret(_:)``).
    public init(pool: PostgresPool, secret: [UInt8]) {
        self.pool = pool
        self.secret = secret
    }

    public enum Claim: Sendable {
        /// First use of the key: run the request, then ``complete(user:key:status:contentType:body:)``.
        case proceed
        /// Seen before with this request: send this response again.
        case replay(status: Int, contentType: String?, body: [UInt8])
    }

    /// Claims `key` for the request with `hash`; a key reused for another request, or one
    /// whose first request is still running, is refused.
    public func claim(user: UUID, key: String, hash: String) async throws -> Claim {
        guard !key.isEmpty, key.count <= 200, key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E }) else {
            throw ServiceError.invalid("Idempotency-Key", "must be 1–200 visible ASCII characters")
        }
        let hash = Digest.hex(try Digest.hmacSHA256(key: secret, Array(hash.utf8)))
        return try await pool.withTransaction { tx in
            try await tx.query(
                """
                DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2
                   AND (created_at < now() - make_interval(hours => $3) OR (NOT completed AND created_at < now() - make_interval(secs => $4)))
                """,
                [user, key, Int32(Self.lifetimeHours), Double(Self.inProgressSeconds)])
            let inserted = try await tx.query(
                "INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key",
                [user, key, hash])
            if !inserted.isEmpty { return .proceed }
            let row = try await tx.query(
                "SELECT request_hash, completed, status_code, content_type, body, response_withheld FROM idempotency_keys WHERE user_id = $1 AND key = $2",
                [user, key]).single()
            guard try row.decode("request_hash", as: String.self) == hash else {
                throw ServiceError(.unprocessable, "This Idempotency-Key was used for a different request.", fields: [.init("Idempotency-Key", "was used for a different request")])
            }
            guard try row.decode("completed", as: Bool.self) else {
                throw ServiceError(.conflict, "The first request with this Idempotency-Key is still being handled.", fields: [.init("Idempotency-Key", "in progress")])
            }
            if try row.decode("response_withheld", as: Bool.self) {
                throw ServiceError(
                    .conflict, "The first request with this Idempotency-Key succeeded; its response held a secret and was not kept. List what it made instead.",
                    fields: [.init("Idempotency-Key", "succeeded; the response was not kept")])
            }
            return .replay(status: try row.decode("status_code"), contentType: try row.decode("content_type"),
                           body: try row.decode("body", as: PostgresBytes?.self)?.bytes ?? [])
        }
    }

    /// Stores the response of a claimed key; with `withhold` only that it succeeded (the
    /// body holds a secret).
    public func complete(user: UUID, key: String, status: Int, contentType: String?, body: [UInt8], withhold: Bool = false) async throws {
        try await pool.query(
            """
            UPDATE idempotency_keys SET completed = true, status_code = $3, content_type = $4, body = $5, response_withheld = $6
            WHERE user_id = $1 AND key = $2
            """,
            [user, key, status, withhold ? nil : contentType, withhold ? nil : PostgresBytes(body), withhold])
    }

    /// Forgets a claimed key whose request failed on the server's side, so a retry runs again.
    public func abandon(user: UUID, key: String) async throws {
        try await pool.query("DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND NOT completed", [user, key])
    }
}
