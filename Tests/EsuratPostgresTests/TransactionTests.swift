import EsuratPostgres
import Foundation
import EsuratTestSupport
import Testing

@Suite struct TransactionTests {
    struct Boom: Error {}

    private func poolWithTable() async throws -> PostgresPool {
        let pool = try await TestCluster.freshDatabase()
        try await pool.query("CREATE TABLE items (id int PRIMARY KEY, name text CONSTRAINT items_name_key UNIQUE)")
        return pool
    }

    private func count(_ pool: PostgresPool) async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM items").single().decode("n")
    }

    @Test func commitsWhenTheBodyReturns() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        try await pool.withTransaction { tx in
            try await tx.query("INSERT INTO items VALUES (1, 'a')")
            try await tx.query("INSERT INTO items VALUES (2, 'b')")
        }
        #expect(try await count(pool) == 2)
    }

    @Test func theLastWritesMayCarryTheCommit() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        try await pool.withTransaction { tx in
            try await tx.query("INSERT INTO items VALUES (1, 'a')")
            let rows = try await tx.pipelinedAndCommit([
                PostgresStatement("INSERT INTO items VALUES (2, 'b') RETURNING id"), PostgresStatement("SELECT count(*) AS n FROM items"),
            ])
            #expect(rows.count == 2)
            #expect(try rows[1].single().decode("n", as: Int.self) == 2)
        }
        #expect(try await count(pool) == 2)
        // A failing write skips the commit and the whole transaction rolls back; the connection
        // goes back clean.
        await #expect(throws: PostgresError.self) {
            try await pool.withTransaction { tx in
                try await tx.query("INSERT INTO items VALUES (3, 'c')")
                try await tx.pipelinedAndCommit([PostgresStatement("INSERT INTO items VALUES (4, 'a')"), PostgresStatement("INSERT INTO items VALUES (5, 'e')")])
            }
        }
        #expect(try await count(pool) == 2)
        try await pool.withTransaction { try await $0.query("INSERT INTO items VALUES (6, 'f')") }
        #expect(try await count(pool) == 3)
        // Throwing after the commit cannot undo it.
        await #expect(throws: Boom.self) {
            try await pool.withTransaction { tx in
                try await tx.pipelinedAndCommit([PostgresStatement("INSERT INTO items VALUES (7, 'g')")])
                throw Boom()
            }
        }
        #expect(try await count(pool) == 4)
    }

    @Test func aTransactionMayTravelInOnePipelineWithAnAsynchronousCommit() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        try await pool.withConnection { connection in
            let rows = try await connection.pipelinedTransaction(
                [PostgresStatement("INSERT INTO items VALUES (1, 'a')"), PostgresStatement("SHOW synchronous_commit")], asynchronousCommit: true)
            #expect(rows.count == 2)
            #expect(try rows[1].single().decode("synchronous_commit", as: String.self) == "off")
            // Only for that transaction.
            #expect(try await connection.query("SHOW synchronous_commit").single().decode("synchronous_commit", as: String.self) == "on")
            // A failing statement rolls the whole transaction back and leaves the connection usable.
            await #expect(throws: PostgresError.self) {
                try await connection.pipelinedTransaction([PostgresStatement("INSERT INTO items VALUES (2, 'b')"), PostgresStatement("INSERT INTO items VALUES (3, 'a')")])
            }
            #expect(try await connection.query("SELECT count(*) AS n FROM items").single().decode("n", as: Int.self) == 1)
        }
        #expect(try await count(pool) == 1)
        // Not inside another transaction: its COMMIT would end that one.
        await #expect(throws: PostgresError.self) {
            try await pool.withTransaction { tx in
                try await tx.pipelinedTransaction([PostgresStatement("INSERT INTO items VALUES (8, 'h')")])
            }
        }
        #expect(try await count(pool) == 1)
    }

    @Test func theBeginTravelsWithTheFirstStatementOfWhateverKind() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        // A single query: it runs inside the transaction, at its isolation level.
        let level = try await pool.withTransaction(.serializable) { tx in
            try await tx.query("SHOW transaction_isolation").single().decode("transaction_isolation", as: String.self)
        }
        #expect(level == "serializable")
        // A pipeline first: one transaction, one now() for all its statements.
        let times = try await pool.withTransaction { tx in
            let rows = try await tx.pipelined([PostgresStatement("SELECT now() AS t"), PostgresStatement("INSERT INTO items VALUES (1, 'a')")])
            return (try rows[0].single().decode("t", as: Date.self), try await tx.query("SELECT now() AS t").single().decode("t", as: Date.self))
        }
        #expect(times.0 == times.1)
        // A script first, then a failure: both undone.
        await #expect(throws: Boom.self) {
            try await pool.withTransaction { tx in
                try await tx.runScript("INSERT INTO items VALUES (2, 'b')")
                throw Boom()
            }
        }
        #expect(try await count(pool) == 1)
        // A body that sends nothing, or throws before sending anything, leaves no transaction
        // behind on the connection.
        try await pool.withTransaction(.serializable) { _ in }
        await #expect(throws: Boom.self) { try await pool.withTransaction(.serializable) { _ in throw Boom() } }
        let level2 = try await pool.withConnection { connection in
            try await connection.query("SHOW transaction_isolation").single().decode("transaction_isolation", as: String.self)
        }
        #expect(level2 == "read committed")
    }

    @Test func aTransactionsFirstStatementStaysCancellable() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        // Another session holds the lock the transaction's first statement waits for.
        let holder = Task {
            try await pool.withTransaction { tx in
                try await tx.query("SELECT pg_advisory_xact_lock(4242)")
                try await Task.sleep(for: .seconds(30))
            }
        }
        defer { holder.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        let waiter = Task { try await pool.withTransaction { tx in try await tx.query("SELECT pg_advisory_xact_lock(4242)") } }
        try await Task.sleep(for: .milliseconds(300))
        let clock = ContinuousClock()
        let cancelled = clock.now
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(clock.now - cancelled < .seconds(20))
    }

    @Test func aStatementThatNeverRanKeepsTheBeginForTheNext() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        await #expect(throws: Boom.self) {
            try await pool.withTransaction { tx in
                // Cannot be prepared: fails before anything, the BEGIN included, is sent.
                _ = try? await tx.query("SELECT no_such_column FROM items")
                try await tx.query("INSERT INTO items VALUES (1, 'a')")
                throw Boom()
            }
        }
        // The insert ran inside the transaction and went with it.
        #expect(try await count(pool) == 0)
    }

    @Test func rollsBackWhenTheBodyThrows() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        await #expect(throws: Boom.self) {
            try await pool.withTransaction { tx in
                try await tx.query("INSERT INTO items VALUES (1, 'a')")
                throw Boom()
            }
        }
        #expect(try await count(pool) == 0)
    }

    @Test func rollsBackWhenTheTaskIsCancelled() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        let inserted = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            try await pool.withTransaction { tx in
                try await tx.query("INSERT INTO items VALUES (1, 'a')")
                inserted.continuation.yield()
                try await Task.sleep(for: .seconds(30))
                try await tx.query("INSERT INTO items VALUES (2, 'b')")
            }
        }
        for await _ in inserted.stream { break }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await count(pool) == 0)
        // The connection went back clean and is usable.
        try await pool.withTransaction { try await $0.query("INSERT INTO items VALUES (3, 'c')") }
        #expect(try await count(pool) == 1)
    }

    @Test func uniqueViolationCarriesSQLStateAndConstraint() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        try await pool.query("INSERT INTO items VALUES (1, 'same')")
        do {
            try await pool.query("INSERT INTO items VALUES ($1, $2)", [2, "same"])
            Issue.record("expected a unique violation")
        } catch let error as PostgresError {
            #expect(error.code == .server)
            #expect(error.sqlState == "23505")
            #expect(error.isUniqueViolation)
            #expect(error.constraint == "items_name_key")
            #expect(error.table == "items")
        }
    }

    @Test func retriesSerializationFailures() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        var attempts = 0
        try await pool.withRetryingTransaction { tx in
            attempts += 1
            try await tx.query("INSERT INTO items VALUES ($1, $2)", [attempts, "try \(attempts)"])
            if attempts < 3 {
                throw PostgresError(code: .server, message: "could not serialize access", sqlState: "40001")
            }
        }
        #expect(attempts == 3)
        // Only the last attempt committed.
        #expect(try await pool.query("SELECT id FROM items").map { try $0.decode("id", as: Int.self) } == [3])
    }

    @Test func realSerializationConflictIsRetriedToSuccess() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        try await pool.query("CREATE TABLE counter (n int)")
        try await pool.query("INSERT INTO counter VALUES (0)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await pool.withRetryingTransaction(.serializable, maxAttempts: 50) { tx in
                        let n: Int = try await tx.query("SELECT n FROM counter").single().decode("n")
                        try await tx.query("UPDATE counter SET n = $1", [n + 1])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await pool.query("SELECT n FROM counter").single().decode("n", as: Int.self) == 8)
    }

    @Test func pipelineRunsABatchAndReportsAbortedStatements() async throws {
        let pool = try await poolWithTable()
        defer { pool.close() }
        let results = try await pool.withConnection { connection in
            try await connection.pipeline((1...200).map { PostgresStatement("INSERT INTO items VALUES ($1, $2)", [$0, "n\($0)"]) })
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(try await count(pool) == 200)

        let mixed = try await pool.withConnection { connection in
            try await connection.pipeline([
                PostgresStatement("SELECT $1::int AS n", [7]),
                PostgresStatement("INSERT INTO items VALUES (1, 'duplicate id')"),
                PostgresStatement("SELECT 9 AS n"),
            ])
        }
        #expect(try mixed[0].get().single().decode("n", as: Int.self) == 7)
        #expect(throws: PostgresError.self) { try mixed[1].get() }
        if case .failure(let error) = mixed[1] { #expect(error.isUniqueViolation) }
        if case .failure(let error) = mixed[2] { #expect(error.code == .pipelineAborted) } else { Issue.record("expected an aborted statement") }
        // The connection is usable after the batch.
        #expect(try await pool.query("SELECT 1 AS n").single().decode("n", as: Int.self) == 1)
    }

    @Test func listenReceivesNotify() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        let notifications = try await pool.listen(on: "deliveries")
        try await pool.notify("deliveries", payload: "letter 42")
        try await pool.withTransaction { tx in
            try await pool.notify("deliveries", payload: "after commit", on: tx)
        }
        var received: [String] = []
        for try await notification in notifications {
            #expect(notification.channel == "deliveries")
            received.append(notification.payload)
            if received.count == 2 { break }
        }
        #expect(received == ["letter 42", "after commit"])
    }
}

@Suite struct StatementCancellationTests {
    @Test func cancellingTheTaskCancelsALongStatementAndRollsBack() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        try await pool.query("CREATE TABLE items (id int)")
        let started = ContinuousClock.now
        let task = Task {
            try await pool.withTransaction { tx in
                try await tx.query("INSERT INTO items VALUES (1)")
                try await tx.query("SELECT pg_sleep(30)")
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // Well under the statement's 30 s: it was cancelled, not waited out. (5 s was too tight
        // with the whole suite loading both cores: 6.3 s was seen.)
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(try await pool.query("SELECT count(*) AS n FROM items").single().decode("n", as: Int.self) == 0)
        // The connection is clean afterwards.
        #expect(try await pool.query("SELECT 1 AS one").single().decode("one", as: Int.self) == 1)
    }
}
