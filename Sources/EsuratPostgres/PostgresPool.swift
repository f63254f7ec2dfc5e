import DequeModule
import Metrics
import Synchronization

/// How a ``PostgresPool`` connects and how many connections it keeps.
public struct PostgresPoolConfiguration: Sendable {
    /// A libpq connection string or `postgresql://` URI.
    public var connectionString: String
    /// The most connections open at once; each has its own thread.
    public var size: Int = 10
    /// How long one connection attempt may take.
    public var connectTimeout: Duration = .seconds(5)
    /// How long a caller waits for a free connection before ``PostgresError/Code/poolTimeout``.
    public var acquireTimeout: Duration = .seconds(10)
    /// A connection idle this long is pinged before it is lent out, so one that died with a
    /// server restart is replaced instead of failing the caller's statement.
    public var healthCheckAfterIdle: Duration = .seconds(10)
    /// Shown in `pg_stat_activity`.
    public var applicationName: String = "esurat"
    /// Bounds on every session (nil: the server's setting): a statement that runs this long
    /// is cancelled, a lock waited for this long is given up, and a transaction left idle
    /// this long is ended with its connection, so a hung job cannot hold a unit's number lock
    /// until a restart. The migrator lifts the first two for its own session.
    public var statementTimeout: Duration? = .seconds(60)
    public var lockTimeout: Duration? = .seconds(10)
    public var idleInTransactionTimeout: Duration? = .seconds(60)

    /// The `SET`s that give a session the timeouts above (whole milliseconds, so the text
    /// holds only digits).
    public var timeoutSettings: String {
        [("statement_timeout", statementTimeout), ("lock_timeout", lockTimeout), ("idle_in_transaction_session_timeout", idleInTransactionTimeout)]
            .map { name, value in
                let milliseconds = value.map { max(1, $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? 0
                return "SET \(name) = \(value == nil ? "DEFAULT" : String(milliseconds))"
            }
            .joined(separator: "; ")
    }

    public init(connectionString: String) {
        self.connectionString = connectionString
    }
}

/// SQL transaction isolation levels.
public enum PostgresIsolationLevel: Sendable {
    case readCommitted, repeatableRead, serializable

    var begin: PostgresQuery {
        switch self {
        case .readCommitted: "BEGIN"
        case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
        case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
        }
    }
}

/// A pool of libpq connections, each confined to its own thread (see ``EsuratPostgresModule``).
///
/// Connections are opened on demand up to ``PostgresPoolConfiguration/size``; callers beyond
/// that wait in FIFO order for at most the acquire timeout. A connection that broke (for
/// example because PostgreSQL restarted) is dropped when it is returned, and one that sat idle
/// is pinged before it is lent out, so the pool heals itself without a restart.
public final class PostgresPool: Sendable {
    public let configuration: PostgresPoolConfiguration

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<PostgresConnection?, any Error>
        var timeout: Task<Void, Never>
    }

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters = Deque<Waiter>()
        var closed = false
        var nextWaiterID = 0
        var cancelledBeforeWaiting: Set<Int> = []
    }

    private let state = Mutex(State())

    /// `/metrics`: connections open and idle, callers waiting, acquire timeouts.
    private let openGauge = Gauge(label: "esurat_db_pool_connections_open")
    private let idleGauge = Gauge(label: "esurat_db_pool_connections_idle")
    private let waitingGauge = Gauge(label: "esurat_db_pool_waiting")
    private let timeouts = Counter(label: "esurat_db_pool_acquire_timeouts_total")

    public init(configuration: PostgresPoolConfiguration) {
        precondition(configuration.size > 0, "a pool needs at least one connection")
        self.configuration = configuration
    }

    private func recordGauges() {
        let (open, idle, waiting) = state.withLock { ($0.open, $0.idle.count, $0.waiters.count) }
        openGauge.record(open)
        idleGauge.record(idle)
        waitingGauge.record(waiting)
    }

    /// Lends a connection to `body` and takes it back afterwards, also when `body` throws.
    /// A transaction `body` left open is rolled back.
    @discardableResult
    public func withConnection<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await acquire()
        recordGauges()
        let result: T
        do {
            result = try await body(connection)
        } catch {
            await release(connection)
            throw error
        }
        await release(connection)
        recordGauges()
        return result
    }

    /// Runs one statement on a pooled connection.
    @discardableResult
    public func query(_ query: PostgresQuery, _ binds: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try await withConnection { try await $0.query(query, binds) }
    }

    /// Runs `body` inside one transaction: COMMIT when it returns, ROLLBACK when it throws or
    /// when the task was cancelled (the next statement after cancellation throws
    /// `CancellationError`, and a cancelled task never commits).
    @discardableResult
    public func withTransaction<T>(
        _ level: PostgresIsolationLevel = .readCommitted,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            connection.committedInPipeline.store(false, ordering: .relaxed)
            // BEGIN goes with the body's first statement: one round trip fewer per transaction.
            connection.deferredBegin.withLock { $0 = level.begin.sql }
            // Whether a transaction is open on the server: not if no statement went, nor once
            // the body committed with its last writes.
            func open() -> Bool {
                connection.takeDeferredBegin() == nil && !connection.committedInPipeline.load(ordering: .relaxed)
            }
            let result: T
            do {
                result = try await body(connection)
                // Once committed (pipelinedAndCommit), a cancellation comes too late to undo it.
                if !connection.committedInPipeline.load(ordering: .relaxed) { try Task.checkCancellation() }
            } catch {
                if open() { try? await connection.queryIgnoringCancellation("ROLLBACK") }
                throw error
            }
            if open() { try await connection.queryIgnoringCancellation("COMMIT") }
            return result
        }
    }

    /// Runs `body` in a transaction and runs it again, after a short random pause, when
    /// PostgreSQL reports a serialization failure (40001) or a deadlock (40P01).
    @discardableResult
    public func withRetryingTransaction<T>(
        _ level: PostgresIsolationLevel = .serializable,
        maxAttempts: Int = 5,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withTransaction(level, body)
            } catch let error as PostgresError where error.isRetryableTransactionFailure && attempt < maxAttempts {
                let ceiling = 5 << min(attempt, 6)  // milliseconds: 10, 20, 40… with full jitter
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...ceiling)))
                attempt += 1
            }
        }
    }

    /// Closes idle connections and refuses new requests; lent connections close when returned.
    public func close() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            let idle = state.idle
            state.open -= idle.count
            state.idle = []
            let waiters = state.waiters
            state.waiters = []
            return (idle, waiters)
        }
        for waiter in waiters {
            waiter.timeout.cancel()
            waiter.continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the connection pool is closed"))
        }
        _ = idle  // closed as the last reference goes
    }

    /// Connections open now (idle and lent), for metrics.
    public var openConnections: Int { state.withLock { $0.open } }
    /// Open connections not lent out now.
    public var idleConnections: Int { state.withLock { $0.idle.count } }
    /// Callers waiting for a connection now.
    public var waitingCallers: Int { state.withLock { $0.waiters.count } }

    // MARK: Acquire and release

    private enum AcquireAction {
        case use(PostgresConnection)
        case create
        case wait(id: Int)
        case fail(PostgresError)
    }

    func acquire() async throws -> PostgresConnection {
        let action: AcquireAction = state.withLock { state in
            if state.closed { return .fail(PostgresError(code: .poolClosed, message: "the connection pool is closed")) }
            if let connection = state.idle.popLast() { return .use(connection) }
            if state.open < configuration.size {
                state.open += 1
                return .create
            }
            state.nextWaiterID += 1
            return .wait(id: state.nextWaiterID)
        }
        switch action {
        case .use(let connection):
            return try await checkedOut(connection)
        case .create:
            return try await openConnection()
        case .fail(let error):
            throw error
        case .wait(let id):
            let handedOver = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PostgresConnection?, any Error>) in
                    let timeout = Task { [configuration] in
                        try? await Task.sleep(for: configuration.acquireTimeout)
                        if !Task.isCancelled {
                            self.timeouts.increment()
                            self.failWaiter(id, PostgresError(
                                code: .poolTimeout,
                                message: "no database connection became free within \(configuration.acquireTimeout) (pool size \(configuration.size))"))
                        }
                    }
                    let cancelled = state.withLock { state in
                        if state.cancelledBeforeWaiting.remove(id) != nil { return true }
                        state.waiters.append(Waiter(id: id, continuation: continuation, timeout: timeout))
                        return false
                    }
                    if cancelled {
                        timeout.cancel()
                        continuation.resume(throwing: CancellationError())
                    }
                }
            } onCancel: {
                self.failWaiter(id, CancellationError(), rememberIfAbsent: true)
            }
            // nil hands over a free slot: open a new connection in it.
            if let handedOver { return try await checkedOut(handedOver) }
            return try await openConnection()
        }
    }

    private func failWaiter(_ id: Int, _ error: any Error, rememberIfAbsent: Bool = false) {
        let waiter: Waiter? = state.withLock { state in
            if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                return state.waiters.remove(at: index)
            }
            if rememberIfAbsent { state.cancelledBeforeWaiting.insert(id) }
            return nil
        }
        guard let waiter else { return }
        waiter.timeout.cancel()
        waiter.continuation.resume(throwing: error)
    }

    /// Opens a connection in a slot already counted in `open`; gives the slot back on failure.
    private func openConnection() async throws -> PostgresConnection {
        let thread = ConnectionThread(name: "esurat-pg")
        let configuration = self.configuration
        do {
            let connection = try await thread.run {
                try LibPQConnection.connect(
                    configuration.connectionString, connectTimeout: configuration.connectTimeout,
                    applicationName: configuration.applicationName, sessionSettings: configuration.timeoutSettings)
            }
            thread.stop()
            return PostgresConnection(connection: connection)
        } catch {
            thread.stop()
            releaseSlot()
            throw error
        }
    }

    /// Pings a connection that sat idle; replaces it when it no longer answers.
    private func checkedOut(_ pooled: PostgresConnection) async throws -> PostgresConnection {
        let connection = pooled.connection
        let idleFor = ContinuousClock.now - connection.lastUsed
        if connection.isHealthy && idleFor < configuration.healthCheckAfterIdle { return pooled }
        if connection.isHealthy, (try? await connection.script("")) != nil {
            connection.lastUsed = .now
            return pooled
        }
        return try await openConnection()
    }

    private func release(_ pooled: PostgresConnection) async {
        _ = pooled.takeDeferredBegin()
        let connection = pooled.connection
        // The connection's thread is idle now (every statement was awaited), so its status can
        // be read here; only a needed ROLLBACK goes to the thread.
        if connection.isHealthy && !connection.isIdle {
            try? await pooled.queryIgnoringCancellation("ROLLBACK")
        }
        guard connection.isHealthy && connection.isIdle else {
            releaseSlot()
            return
        }
        enum Next { case handOver(Waiter), kept, discard }
        let next: Next = state.withLock { state in
            if state.closed {
                state.open -= 1
                return .discard
            }
            if let waiter = state.waiters.popFirst() { return .handOver(waiter) }
            state.idle.append(pooled)
            return .kept
        }
        switch next {
        case .handOver(let waiter):
            waiter.timeout.cancel()
            waiter.continuation.resume(returning: pooled)
        case .discard, .kept:
            break
        }
    }

    /// Gives up a slot: the first waiter may open a connection in it.
    private func releaseSlot() {
        let waiter: Waiter? = state.withLock { state in
            if !state.closed, let waiter = state.waiters.popFirst() { return waiter }
            state.open -= 1
            return nil
        }
        if let waiter {
            waiter.timeout.cancel()
            waiter.continuation.resume(returning: nil)
        }
    }
}

extension PostgresConnection {
    /// Runs trusted SQL even when the task is cancelled: BEGIN, COMMIT and ROLLBACK must
    /// leave the connection in a known state.
    func queryIgnoringCancellation(_ sql: String) async throws {
        _ = try await connection.execute(sql, [])
    }
}
