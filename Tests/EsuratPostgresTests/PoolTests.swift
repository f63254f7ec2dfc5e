import EsuratPostgres
import EsuratTestSupport
import Foundation
import Logging
import Testing

@Suite struct PoolTests {
    @Test func exhaustedPoolTimesOutWithAClearError() async throws {
        let pool = try await TestCluster.freshDatabase(poolSize: 1) { $0.acquireTimeout = .milliseconds(300) }
        defer { pool.close() }
        let holds = AsyncStream.makeStream(of: Void.self)
        let holding = Task {
            try await pool.withConnection { connection in
                holds.continuation.yield()
                try await connection.query("SELECT pg_sleep(60)")
            }
        }
        for await _ in holds.stream { break }  // the only connection is taken
        let started = ContinuousClock.now
        await #expect {
            try await pool.query("SELECT 1")
        } throws: { error in
            (error as? PostgresError)?.code == .poolTimeout
        }
        // 300 ms timeout; the bound leaves room for a loaded machine (a parallel build and
        // test run) but is well below the 60 s the connection stays taken.
        #expect(ContinuousClock.now - started < .seconds(30))
        // Cancelling the holder cancels its statement on the server and frees the connection.
        holding.cancel()
        _ = try? await holding.value
        // The connection came back: the pool works again.
        #expect(try await pool.query("SELECT 1 AS one").single().decode("one", as: Int.self) == 1)
    }

    /// Issue 16: without these a hung job could hold a unit's number lock until a restart.
    @Test func sessionsAreBoundedByStatementLockAndIdleTransactionTimeouts() async throws {
        let pool = try await TestCluster.freshDatabase(poolSize: 3) {
            $0.statementTimeout = .seconds(1)
            $0.lockTimeout = .milliseconds(500)
            $0.idleInTransactionTimeout = .seconds(1)
        }
        defer { pool.close() }
        let settings = try await pool.query(
            "SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l, current_setting('idle_in_transaction_session_timeout') AS i"
        ).single()
        #expect(try [settings.decode("s", as: String.self), settings.decode("l", as: String.self), settings.decode("i", as: String.self)] == ["1s", "500ms", "1s"])
        await #expect {
            try await pool.query("SELECT pg_sleep(5)")
        } throws: { error in
            (error as? PostgresError)?.sqlState == "57014" && (error as? PostgresError)?.meansUnavailable == true
        }
        // A waiter gives up on a lock after lock_timeout; the holder here is a session
        // without timeouts, busy for as long as the test lets it.
        var withoutTimeouts = pool.configuration  // the same database: advisory locks are per database
        withoutTimeouts.statementTimeout = nil
        withoutTimeouts.lockTimeout = nil
        withoutTimeouts.idleInTransactionTimeout = nil
        let unbounded = PostgresPool(configuration: withoutTimeouts)
        defer { unbounded.close() }
        #expect(try await unbounded.query("SELECT current_setting('statement_timeout') AS s").single().decode("s", as: String.self) == "0")
        let holds = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await unbounded.withTransaction { tx in
                try await tx.query("SELECT pg_advisory_xact_lock(42)")
                holds.continuation.yield()
                try await tx.query("SELECT pg_sleep(120)")
            }
        }
        for await _ in holds.stream { break }
        await #expect {
            try await pool.withTransaction { try await $0.query("SELECT pg_advisory_xact_lock(42)") }
        } throws: { error in
            (error as? PostgresError)?.sqlState == "55P03" && (error as? PostgresError)?.meansUnavailable == true
        }
        holder.cancel()
        _ = try? await holder.value

        // A transaction that takes a lock and then does nothing (a hung job) is ended by the
        // server after idle_in_transaction_session_timeout, and its lock with it.
        let hung = Task {
            try await pool.withTransaction { tx in
                try await tx.query("SELECT pg_advisory_xact_lock(43)")
                try await Task.sleep(for: .seconds(4))
                try await tx.query("SELECT 1")
            }
        }
        await #expect(throws: PostgresError.self) { try await hung.value }
        #expect(try await unbounded.query("SELECT pg_try_advisory_lock(43) AS free").single().decode("free", as: Bool.self))
        #expect(try await pool.query("SELECT 1 AS one").single().decode("one", as: Int.self) == 1)
    }

    @Test func waitersAreServedWhenConnectionsComeBack() async throws {
        // Forty waiters on two connections: on a machine busy with the rest of the suite the
        // last one can wait longer than the default 10 s; this test is about being served.
        let pool = try await TestCluster.freshDatabase(poolSize: 2) { $0.acquireTimeout = .seconds(120) }
        defer { pool.close() }
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<40 {
                group.addTask { try await pool.query("SELECT $1::int8 AS n", [i]).single().decode("n") }
            }
            return try await group.reduce(0, +)
        }
        #expect(sum == (0..<40).reduce(0, +))
        #expect(pool.openConnections <= 2)
    }

    @Test func cancelledWaiterLeavesThePoolIntact() async throws {
        let pool = try await TestCluster.freshDatabase(poolSize: 1)
        defer { pool.close() }
        let holds = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await pool.withConnection { connection in
                holds.continuation.yield()
                try await connection.query("SELECT pg_sleep(2)")
            }
        }
        for await _ in holds.stream { break }
        let waiter = Task { try await pool.query("SELECT 1") }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        _ = try await holder.value
        #expect(try await pool.query("SELECT 2 AS n").single().decode("n", as: Int.self) == 2)
    }

    @Test func recoversAfterPostgreSQLRestarts() async throws {
        // A cluster of its own: restarting the shared one would disturb the other tests.
        let directory = NSTemporaryDirectory() + "esurat-restart-\(UUID().uuidString.prefix(8))"
        let launcher = EmbeddedPostgres(configuration: .init(directory: directory), logger: .init(label: "test"))
        defer {
            try? launcher.stopBlocking()
            try? FileManager.default.removeItem(atPath: directory)
        }
        var configuration = PostgresPoolConfiguration(connectionString: try await launcher.start())
        configuration.size = 3
        configuration.healthCheckAfterIdle = .zero
        let pool = PostgresPool(configuration: configuration)
        defer { pool.close() }
        let before: Int32 = try await pool.withConnection { $0.serverProcessID }
        try await pool.query("CREATE TABLE survivors (id int)")

        try await launcher.restart()

        // Idle connections are pinged first, so the first statement after a restart succeeds.
        try await pool.query("INSERT INTO survivors VALUES (1)")
        let after: Int32 = try await pool.withConnection { $0.serverProcessID }
        #expect(before != after)

        // A pool that does not ping may lose one statement to the dead connection, never more.
        var lazy = configuration
        lazy.healthCheckAfterIdle = .seconds(3600)
        let lazyPool = PostgresPool(configuration: lazy)
        defer { lazyPool.close() }
        try await lazyPool.query("SELECT 1")
        try await launcher.restart()
        var failures = 0
        while true {
            do {
                try await lazyPool.query("SELECT 1")
                break
            } catch let error as PostgresError {
                #expect(error.code == .connectionLost || error.code == .connectionFailed)
                failures += 1
                #expect(failures <= 1)
                if failures > 1 { break }
            }
        }
    }
}

@Suite struct EmbeddedSettingsTests {
    /// Full-page images compressed with lz4 on PostgreSQL 15 and later (Debian's builds have
    /// it), pglz before: 13 and 14 refuse `lz4` and would not start at all.
    @Test func theEmbeddedClusterCompressesItsWAL() async throws {
        let pool = try await TestCluster.freshDatabase(poolSize: 1)
        defer { pool.close() }
        let row = try await pool.query("SELECT current_setting('wal_compression') AS compression, current_setting('server_version_num')::int AS version").single()
        let version: Int = try row.decode("version")
        #expect(try row.decode("compression", as: String.self) == (version >= 150_000 ? "lz4" : "on"))
    }
}
