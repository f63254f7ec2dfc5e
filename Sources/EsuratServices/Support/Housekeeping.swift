import Foundation
public import EsuratPostgres
public import Logging
public import ServiceLifecycle

/// Deletes rows that only matter for a while, so the tables behind every login and every
/// creating request stay small however long the server runs: idempotency keys past their
/// 24 hours (with the responses kept for replays), failed logins older than a day (the rate
/// limits look back minutes; each hour of them becomes one audit summary), tokens a day past their expiry or revocation (logins and
/// revocations stay in the audit log), and records of dispatch workers stopped a month ago.
/// Every ten minutes in `serve`; any number of replicas may run it. Deletes go in batches, so
/// no pass holds many row locks or one long transaction.
public struct Housekeeping: Service {
    let pool: PostgresPool
    let interval: Duration
    let logger: Logger

    public init(pool: PostgresPool, interval: Duration = .seconds(600), logger: Logger) {
        self.pool = pool
        self.interval = interval
        self.logger = logger
    }

    /// What is swept, by table: the rows that have served their purpose, as a query that
    /// picks a batch of them by primary key.
    /// `$1` is the batch size; the binds that follow it come with the query.
    static let sweeps: [(table: String, delete: PostgresQuery, binds: [any PostgresEncodable])] = [
        ("idempotency_keys", """
            DELETE FROM idempotency_keys WHERE (user_id, key) IN (
                SELECT user_id, key FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $2) LIMIT $1)
            """, [Int32(IdempotencyStore.lifetimeHours)]),
        ("signing_passphrase_failures", """
            DELETE FROM signing_passphrase_failures WHERE id IN (
                SELECT id FROM signing_passphrase_failures WHERE at < now() - interval '1 day' LIMIT $1)
            """, []),
        ("access_tokens", """
            DELETE FROM access_tokens WHERE token_hash IN (
                SELECT token_hash FROM access_tokens WHERE expires_at < now() - interval '1 day' OR revoked_at < now() - interval '1 day' LIMIT $1)
            """, []),
        ("dispatch_workers", """
            DELETE FROM dispatch_workers WHERE owner IN (
                SELECT owner FROM dispatch_workers WHERE stopped_at < now() - interval '30 days' LIMIT $1)
            """, []),
    ]

    /// One pass; returns how many rows it deleted from each table.
    @discardableResult
    public func sweep(batch: Int = 5000) async throws -> [String: Int] {
        var deleted: [String: Int] = ["login_failures": try await summariseLoginFailures()]
        for (table, delete, binds) in Self.sweeps {
            while true {
                let n = try await pool.query(delete, [batch] + binds).affectedRows
                deleted[table, default: 0] += n
                if n < batch { break }
            }
        }
        return deleted
    }

    /// Writes one audit event per whole hour of failed and refused logins older than a day
    /// (counts, distinct usernames and addresses, the ten most frequent of each) and deletes
    /// that hour's rows in the same transaction; replicas take turns under a lock, so an hour
    /// is summarised once. Returns the rows deleted.
    func summariseLoginFailures() async throws -> Int {
        var deleted = 0
        while true {
            let done = try await pool.withTransaction { tx -> Int? in
                try await tx.query("SELECT pg_advisory_xact_lock(4, 0)")
                let rows = try await tx.query(
                    """
                    WITH hour AS (
                        SELECT date_trunc('hour', min(at)) AS start FROM login_failures WHERE at < date_trunc('hour', now() - interval '1 day')
                    ), expired AS (
                        SELECT f.* FROM login_failures f, hour WHERE f.at >= hour.start AND f.at < hour.start + interval '1 hour'
                    )
                    SELECT (SELECT start FROM hour) AS start,
                           count(*) FILTER (WHERE NOT rate_limited) AS failed, count(*) FILTER (WHERE rate_limited) AS refused,
                           count(DISTINCT username) AS usernames, count(DISTINCT client_address) AS addresses,
                           (SELECT string_agg(username || ' ' || n, ', ' ORDER BY n DESC, username)
                            FROM (SELECT username, count(*) AS n FROM expired GROUP BY username ORDER BY n DESC, username LIMIT 10) t) AS top_usernames,
                           (SELECT string_agg(client_address || ' ' || n, ', ' ORDER BY n DESC, client_address)
                            FROM (SELECT client_address, count(*) AS n FROM expired GROUP BY client_address ORDER BY n DESC, client_address LIMIT 10) t) AS top_addresses
                    FROM expired
                    """)
                let summary = try rows.single()
                guard let start: Date = try summary.decode("start") else { return nil }
                let hour = start.formatted(.iso8601)
                try await AuditLog.append(
                    .init("auth.login_failures_summarised", objectType: "login_failures", objectID: hour, actorUserID: nil, details: [
                        "hour": hour,
                        "failed": String(try summary.decode("failed", as: Int.self)),
                        "refused": String(try summary.decode("refused", as: Int.self)),
                        "usernames": String(try summary.decode("usernames", as: Int.self)),
                        "addresses": String(try summary.decode("addresses", as: Int.self)),
                        "topUsernames": try summary.decode("top_usernames", as: String?.self) ?? "",
                        "topAddresses": try summary.decode("top_addresses", as: String?.self) ?? "",
                    ]),
                    request: .local, on: tx)
                return try await tx.query(
                    "DELETE FROM login_failures WHERE at >= $1 AND at < $1 + interval '1 hour'", [start]).affectedRows
            }
            guard let done else { return deleted }
            deleted += done
        }
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: logger, failure: "housekeeping pass failed") {
            let deleted = try await sweep().filter { $0.value > 0 }
            if !deleted.isEmpty {
                logger.info("housekeeping deleted expired rows", metadata: deleted.mapValues { .stringConvertible($0) })
            }
        }
    }
}
