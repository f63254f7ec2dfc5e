public import EsuratPostgres
public import Logging
public import ServiceLifecycle

/// Deletes rows that only matter for a while, so the tables behind every login and every
/// creating request stay small however long the server runs: idempotency keys past their
/// 24 hours (with the responses kept for replays), failed logins older than a day (the rate
/// limits look back minutes), tokens a day past their expiry or revocation (logins and
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
        ("login_failures", "DELETE FROM login_failures WHERE id IN (SELECT id FROM login_failures WHERE at < now() - interval '1 day' LIMIT $1)", []),
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
        var deleted: [String: Int] = [:]
        for (table, delete, binds) in Self.sweeps {
            while true {
                let n = try await pool.query(delete, [batch] + binds).affectedRows
                deleted[table, default: 0] += n
                if n < batch { break }
            }
        }
        return deleted
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
