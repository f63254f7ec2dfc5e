import Synchronization

/// A connection lent by ``PostgresPool`` for the duration of one closure. Use it from that
/// closure only, one statement at a time (await each before the next).
public final class PostgresConnection: Sendable {
    let connection: LibPQConnection
    /// Set by ``pipelinedAndCommit(_:)``: the transaction of ``PostgresPool/withTransaction``
    /// ended inside its body.
    let committedInPipeline = Atomic<Bool>(false)
    /// The BEGIN of ``PostgresPool/withTransaction``, sent with the transaction's first
    /// statement instead of a round trip of its own.
    let deferredBegin = Mutex<String?>(nil)

    init(connection: LibPQConnection) {
        self.connection = connection
    }

    /// Runs one statement with its parameters and returns the rows.
    @discardableResult
    public func query(_ query: PostgresQuery, _ binds: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try Task.checkCancellation()
        defer { connection.lastUsed = .now }
        // A transaction's first statement goes with its deferred BEGIN, which pipeline() sends.
        if deferredBegin.withLock({ $0 != nil }) { return try await pipelined([PostgresStatement(query, binds)])[0] }
        return try await connection.execute(query.sql, binds.map { $0.postgresBind() })
    }

    func takeDeferredBegin() -> String? {
        deferredBegin.withLock { begin in
            defer { begin = nil }
            return begin
        }
    }

    /// After a failure that left no transaction open on the server (the BEGIN never ran: a
    /// statement could not be prepared, or the BEGIN itself failed), the BEGIN goes back to
    /// wait for the next statement, so nothing after it runs outside the transaction and no
    /// COMMIT or ROLLBACK goes to a connection without one.
    private func restoreBegin(_ begin: String) {
        guard connection.isIdle else { return }
        deferredBegin.withLock { $0 = begin }
    }

    /// Runs one statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ query: PostgresQuery, _ binds: [any PostgresEncodable] = []) async throws -> Int {
        try await self.query(query, binds).affectedRows
    }

    /// Sends a batch in libpq pipeline mode: one round trip for all of them. Each statement
    /// has its own result; after a failure the rest up to the end of the batch come back as
    /// ``PostgresError/Code/pipelineAborted`` and should be retried one by one.
    /// Outside an explicit transaction each statement commits on its own. A statement that
    /// cannot be prepared (a syntax error, an unknown table) throws before any of them runs.
    public func pipeline(_ statements: [PostgresStatement]) async throws -> [Result<PostgresRows, PostgresError>] {
        if statements.isEmpty { return [] }
        try Task.checkCancellation()
        defer { connection.lastUsed = .now }
        // A deferred BEGIN leads the batch; if it failed, the server skips the rest.
        let deferred = takeDeferredBegin()
        let begin = deferred.map { [(sql: $0, binds: [PostgresBind]())] } ?? []
        do {
            let results = try await connection.pipeline(begin + statements.map { (sql: $0.query.sql, binds: $0.binds.map { $0.postgresBind() }) })
            if !begin.isEmpty { _ = try results[0].get() }
            return Array(results.dropFirst(begin.count))
        } catch {
            if let deferred { restoreBegin(deferred) }
            throw error
        }
    }

    /// Runs a batch in one round trip and returns each statement's rows; throws the first
    /// statement's error. For a transaction's statements, where one failure fails them all.
    public func pipelined(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        try await pipeline(statements).map { try $0.get() }
    }

    /// A transaction's last writes and its COMMIT in one round trip, inside
    /// ``PostgresPool/withTransaction``; the transaction is over when this returns. For writes
    /// made under a row lock other transactions queue on (a unit's letter-number row): the
    /// lock goes one round trip sooner. The first failing write throws, the COMMIT is skipped
    /// with the rest, and the transaction rolls back as any other.
    @discardableResult
    public func pipelinedAndCommit(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        let rows = try await pipelined(statements + [PostgresStatement("COMMIT")])
        committedInPipeline.store(true, ordering: .relaxed)
        return Array(rows.dropLast())
    }

    /// `statements` in a transaction of their own whose BEGIN and COMMIT travel with them: one
    /// round trip. `asynchronousCommit`: the COMMIT does not wait for the WAL flush
    /// (`synchronous_commit = off` for this transaction only), for writes a crash may lose
    /// without harm — a dispatch lease, which a crash would only send back to the queue. A
    /// later synchronous commit flushes them too. Not inside another transaction.
    public func pipelinedTransaction(_ statements: [PostgresStatement], asynchronousCommit: Bool = false) async throws -> [PostgresRows] {
        // Inside another transaction its COMMIT would end that one too.
        guard connection.isIdle, deferredBegin.withLock({ $0 == nil }) else {
            throw PostgresError(code: .client, message: "pipelinedTransaction inside a transaction")
        }
        let opening = [PostgresStatement("BEGIN")] + (asynchronousCommit ? [PostgresStatement("SET LOCAL synchronous_commit = off")] : [])
        do {
            let rows = try await pipelined(opening + statements + [PostgresStatement("COMMIT")])
            return Array(rows.dropFirst(opening.count).dropLast())
        } catch {
            // A failed statement left the transaction open and aborted.
            _ = try? await connection.execute("ROLLBACK", [])
            throw error
        }
    }

    /// Runs SQL text holding several statements, without parameters. Only for SQL esurat
    /// ships (migrations); never for anything built from a request.
    public func runScript(_ script: PostgresQuery) async throws {
        if let begin = takeDeferredBegin() {
            do { _ = try await connection.execute(begin, []) } catch {
                restoreBegin(begin)
                throw error
            }
        }
        try await connection.script(script.sql)
    }

    /// The server process serving this connection (`pg_backend_pid()`).
    public var serverProcessID: Int32 { connection.serverProcessID }
}
