@testable import EsuratServices
import EsuratPostgres
import Foundation
import Logging
import Testing

@Suite struct HousekeepingTests {
    @Test func oldRowsGoAndCurrentOnesStay() async throws {
        let test = try await TestApp.make()
        defer { test.close() }
        let pool = test.pool
        let admin: UUID = try await pool.query("SELECT id FROM users WHERE username = 'admin'").single().decode("id")
        func token(_ byte: UInt8) -> PostgresBytes { PostgresBytes([UInt8](repeating: byte, count: 32)) }
        // Expired two days ago, revoked two days ago, expired an hour ago, valid: the first two go.
        try await pool.query(
            """
            INSERT INTO access_tokens (token_hash, user_id, kind, created_at, expires_at, revoked_at) VALUES
                ($1, $5, 'session', now() - interval '3 days', now() - interval '2 days', NULL),
                ($2, $5, 'session', now() - interval '3 days', now() + interval '1 day', now() - interval '2 days'),
                ($3, $5, 'session', now() - interval '13 hours', now() - interval '1 hour', NULL),
                ($4, $5, 'session', now(), now() + interval '12 hours', NULL)
            """, [token(1), token(2), token(3), token(4), admin])
        // Two days ago, within one hour: three failures and a refused attempt from two
        // addresses; and one failure now, which stays.
        try await pool.query(
            """
            INSERT INTO login_failures (username, client_address, at, rate_limited) VALUES
                ('x', '10.0.0.1', date_trunc('hour', now() - interval '2 days') + interval '1 minute', false),
                ('x', '10.0.0.1', date_trunc('hour', now() - interval '2 days') + interval '2 minutes', false),
                ('kadis', '10.0.0.2', date_trunc('hour', now() - interval '2 days') + interval '3 minutes', false),
                ('x', '10.0.0.1', date_trunc('hour', now() - interval '2 days') + interval '4 minutes', true),
                ('x', '10.0.0.1', now(), false)
            """)
        try await pool.query(
            """
            INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES
                ($1, 'lama', 'h', now() - interval '25 hours'), ($1, 'baru', 'h', now() - interval '23 hours')
            """, [admin])
        try await pool.query(
            """
            INSERT INTO dispatch_workers (owner, host, pid, started_at, heartbeat_at, stopped_at, stop_reason) VALUES
                ('lama', 'h', 1, now() - interval '40 days', now() - interval '31 days', now() - interval '31 days', 'shutdown'),
                ('baru', 'h', 2, now() - interval '2 days', now() - interval '1 day', now() - interval '1 day', 'shutdown'),
                ('hidup', 'h', 3, now(), now(), NULL, NULL)
            """)

        try await pool.query(
            "INSERT INTO signing_passphrase_failures (user_id, at) VALUES ($1, now() - interval '2 days'), ($1, now())", [admin])

        let deleted = try await Housekeeping(pool: pool, logger: Logger(label: "test")).sweep(batch: 1)
        #expect(deleted == ["idempotency_keys": 1, "login_failures": 4, "access_tokens": 2, "dispatch_workers": 1, "signing_passphrase_failures": 1])
        let tokens = try await pool.query("SELECT token_hash FROM access_tokens WHERE user_id = $1", [admin]).map { try $0.decode("token_hash", as: PostgresBytes.self).bytes.first }
        #expect(Set(tokens).isSuperset(of: [3, 4]) && !tokens.contains(1) && !tokens.contains(2))
        #expect(try await pool.query("SELECT key FROM idempotency_keys").map { try $0.decode("key", as: String.self) } == ["baru"])
        #expect(try await pool.query("SELECT count(*) AS n FROM login_failures").single().decode("n", as: Int.self) == 1)
        // The hour is one audit event, and no failed login has one of its own (issue 16).
        let summaries = try await pool.query("SELECT details FROM audit_events WHERE action = 'auth.login_failures_summarised'")
        let details = try #require(summaries.first).decode("details", as: PostgresJSONB.self).decode([String: String].self)
        #expect(summaries.count == 1)
        #expect(details["failed"] == "3" && details["refused"] == "1" && details["usernames"] == "2" && details["addresses"] == "2")
        #expect(details["topUsernames"] == "x 3, kadis 1" && details["topAddresses"] == "10.0.0.1 3, 10.0.0.2 1", "\(details)")
        #expect(Set(try await pool.query("SELECT owner FROM dispatch_workers").map { try $0.decode("owner", as: String.self) }) == ["baru", "hidup"])
        // Nothing left to do: a second pass deletes nothing.
        #expect(try await Housekeeping(pool: pool, logger: Logger(label: "test")).sweep().values.allSatisfy { $0 == 0 })
    }
}
