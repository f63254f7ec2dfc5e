internal import CLibPQ
import Foundation

/// One libpq connection, in non-blocking mode once connected. Not thread-safe: one task at a
/// time uses it (the pool lends it exclusively). The `async` methods never block a thread:
/// they send without blocking and suspend on ``SocketReactor`` until the server answers.
/// The few blocking methods (``connect(_:connectTimeout:applicationName:sessionSettings:)``,
/// ``simpleQuery(_:)``) run only on dedicated threads.
final class LibPQConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    /// SQL text and parameter types → name of the statement prepared on this connection.
    private var preparedStatements: [StatementKey: String] = [:]
    private static let maxPreparedStatements = 512
    var lastUsed = ContinuousClock.now

    struct StatementKey: Hashable {
        var sql: String
        var oids: [UInt32]
    }

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        let fd = PQsocket(handle)
        if fd >= 0 { SocketReactor.shared.forget(fd) }
        PQfinish(handle)
    }

    /// Connects with a libpq connection string or URI. Blocking.
    /// `sessionSettings`: `SET` statements of the caller's making (no client input) run first.
    static func connect(_ connectionString: String, connectTimeout: Duration, applicationName: String, sessionSettings: String = "") throws -> LibPQConnection {
        let seconds = max(1, Int(connectTimeout.components.seconds))
        // Later keywords override what `dbname` expands to, so a URL keeps its own settings
        // except these.
        let keys = ["dbname", "connect_timeout", "application_name", "client_encoding"]
        let values = [connectionString, String(seconds), applicationName, "UTF8"]
        let handle = withCStringArray(keys) { keyPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keyPointers, valuePointers, 1)
            }
        }
        guard let handle else { throw PostgresError(code: .client, message: "libpq could not allocate a connection") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        // libpq prints server notices ("relation already exists, skipping") to stderr by
        // default; they are not errors and must not end up in the service's output.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        let connection = LibPQConnection(handle: handle)
        // Times cross the wire in binary (UTC microseconds); this only affects text output.
        _ = try connection.simpleQuery("SET TIME ZONE 'UTC'" + (sessionSettings.isEmpty ? "" : "; " + sessionSettings))
        guard PQsetnonblocking(handle, 1) == 0 else { throw connection.connectionError() }
        return connection
    }

    var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }
    var isIdle: Bool { PQtransactionStatus(handle) == PQTRANS_IDLE }
    var inFailedTransaction: Bool { PQtransactionStatus(handle) == PQTRANS_INERROR }
    var socket: Int32 { PQsocket(handle) }
    var serverProcessID: Int32 { PQbackendPID(handle) }

    /// Runs one parameterised statement, preparing it once per connection.
    func execute(_ sql: String, _ binds: [PostgresBind]) async throws -> PostgresRows {
        let name = try await preparedName(sql, binds)
        let sent = withParameters(binds) { values, lengths, formats, oids in
            if let name {
                PQsendQueryPrepared(handle, name, Int32(binds.count), values, lengths, formats, 1)
            } else {
                PQsendQueryParams(handle, sql, Int32(binds.count), oids, values, lengths, formats, 1)
            }
        }
        guard sent == 1 else { throw connectionError() }
        return try await awaitResult(sql: sql)
    }

    /// The name `sql` is prepared under on this connection, preparing it on first use; nil
    /// when the cache is full (the statement then goes unnamed).
    private func preparedName(_ sql: String, _ binds: [PostgresBind]) async throws -> String? {
        let key = StatementKey(sql: sql, oids: binds.map(\.oid))
        if let cached = preparedStatements[key] { return cached }
        guard preparedStatements.count < Self.maxPreparedStatements else { return nil }
        let newName = "esurat_\(preparedStatements.count + 1)"
        let sent = key.oids.withUnsafeBufferPointer { oids in
            PQsendPrepare(handle, newName, sql, Int32(binds.count), oids.baseAddress)
        }
        guard sent == 1 else { throw connectionError() }
        _ = try await awaitResult(sql: sql)  // throws on a server error; nothing is cached then
        preparedStatements[key] = newName
        return newName
    }

    /// Runs SQL text that may hold several statements, without parameters (simple query
    /// protocol). Only for trusted SQL: migrations and fixed commands.
    @discardableResult
    func script(_ sql: String) async throws -> PostgresRows {
        guard PQsendQuery(handle, sql) == 1 else { throw connectionError() }
        return try await awaitResult(sql: sql)
    }

    /// Blocking variant of ``script(_:)`` for dedicated threads (connect, LISTEN, launcher).
    @discardableResult
    func simpleQuery(_ sql: String) throws -> PostgresRows {
        try consume(PQexec(handle, sql), sql: sql)
    }

    /// Sends what libpq buffered, then collects every result of the statement(s) sent: the
    /// last result's rows, or the first error.
    ///
    /// When the waiting task is cancelled, the server is asked to cancel the statement
    /// (`PQcancel`, on another thread) and the task gets `CancellationError` as soon as the
    /// server stops, instead of waiting for a long statement to finish.
    private func awaitResult(sql: String) async throws -> PostgresRows {
        let canceller = StatementCanceller(PQgetCancel(handle))
        defer { canceller.release() }
        return try await withTaskCancellationHandler {
            try await flush()
            var rows = PostgresRows.empty
            var failure: (any Error)?
            while true {
                try await waitUntilNotBusy()
                guard let result = PQgetResult(handle) else { break }
                do {
                    rows = try consume(result, sql: sql)
                } catch {
                    if failure == nil { failure = error }
                }
            }
            if let failure {
                if (failure as? PostgresError)?.sqlState == "57014" && Task.isCancelled { throw CancellationError() }
                throw failure
            }
            return rows
        } onCancel: {
            canceller.cancel()
        }
    }

    /// Reads until a whole result is buffered, suspending while the socket has nothing.
    private func waitUntilNotBusy() async throws {
        while true {
            guard PQconsumeInput(handle) == 1 else { throw connectionError() }
            if PQisBusy(handle) == 0 { return }
            await SocketReactor.shared.wait(for: socket)
        }
    }

    /// Sends libpq's buffered output, reading input meanwhile so the server never blocks on
    /// a full socket (the deadlock libpq's documentation warns of).
    private func flush() async throws {
        while true {
            let flushed = PQflush(handle)
            if flushed == 0 { return }
            if flushed < 0 { throw connectionError() }
            await SocketReactor.shared.wait(for: socket, writable: true)
            guard PQconsumeInput(handle) == 1 else { throw connectionError() }
        }
    }

    /// Turns a result into rows or a thrown ``PostgresError`` and frees it.
    @discardableResult
    private func consume(_ result: OpaquePointer?, sql: String) throws -> PostgresRows {
        guard let result else { throw connectionError() }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return Self.rows(from: result)
        case PGRES_PIPELINE_ABORTED:
            throw PostgresError(code: .pipelineAborted, message: "skipped: an earlier statement of the pipeline failed")
        default:
            throw error(from: result)
        }
    }

    func connectionError() -> PostgresError {
        let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresError(code: isHealthy ? .client : .connectionLost, message: message.isEmpty ? "no result" : message)
    }

    func error(from result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let sqlState = field(CLibPQ_diagSQLState())
        guard sqlState != nil else {
            let text = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            return PostgresError(code: isHealthy ? .client : .connectionLost, message: text)
        }
        return PostgresError(
            code: .server,
            message: field(CLibPQ_diagMessagePrimary()) ?? "unknown server error",
            sqlState: sqlState,
            constraint: field(CLibPQ_diagConstraintName()),
            table: field(CLibPQ_diagTableName()),
            column: field(CLibPQ_diagColumnName()),
            detail: field(CLibPQ_diagMessageDetail()),
            hint: field(CLibPQ_diagMessageHint())
        )
    }

    static func rows(from result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        var columns: [PostgresRows.Column] = []
        columns.reserveCapacity(columnCount)
        for c in 0..<columnCount {
            columns.append(.init(name: String(cString: PQfname(result, Int32(c))), typeOID: PQftype(result, Int32(c))))
        }
        var total = 0
        for r in 0..<rowCount {
            for c in 0..<columnCount { total += Int(PQgetlength(result, Int32(r), Int32(c))) }
        }
        var storage = [UInt8]()
        storage.reserveCapacity(total)
        var offsets = [Int]()
        var lengths = [Int32]()
        offsets.reserveCapacity(rowCount * columnCount)
        lengths.reserveCapacity(rowCount * columnCount)
        for r in 0..<rowCount {
            for c in 0..<columnCount {
                offsets.append(storage.count)
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    lengths.append(-1)
                    continue
                }
                let length = PQgetlength(result, Int32(r), Int32(c))
                if length > 0, let value = PQgetvalue(result, Int32(r), Int32(c)) {
                    value.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                        storage.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(length)))
                    }
                }
                lengths.append(length)
            }
        }
        return PostgresRows(
            columns: columns, affectedRows: affected, storage: storage, offsets: offsets, lengths: lengths,
            rowCount: rowCount)
    }

    // MARK: Pipeline

    /// Sends all statements in one pipeline and collects one result per statement. After a
    /// failing statement the server skips the rest up to the sync point; those come back as
    /// ``PostgresError/Code/pipelineAborted``.
    func pipeline(_ statements: [(sql: String, binds: [PostgresBind])]) async throws -> [Result<PostgresRows, PostgresError>] {
        // Statements are prepared before the pipeline starts (once per connection), so the
        // pipeline itself carries only Bind/Execute and its results map one to one.
        var names: [String?] = []
        names.reserveCapacity(statements.count)
        for statement in statements { names.append(try await preparedName(statement.sql, statement.binds)) }
        guard PQenterPipelineMode(handle) == 1 else { throw connectionError() }
        defer { PQexitPipelineMode(handle) }
        for (statement, name) in zip(statements, names) {
            let sent = withParameters(statement.binds) { values, lengths, formats, oids in
                if let name {
                    PQsendQueryPrepared(handle, name, Int32(statement.binds.count), values, lengths, formats, 1)
                } else {
                    PQsendQueryParams(handle, statement.sql, Int32(statement.binds.count), oids, values, lengths, formats, 1)
                }
            }
            guard sent == 1 else { throw connectionError() }
        }
        guard PQpipelineSync(handle) == 1 else { throw connectionError() }

        // Cancellation as for a single statement (awaitResult): the server is asked to stop
        // the running statement, the rest of the batch is skipped, the task gets
        // CancellationError. A transaction's first statement travels in a pipeline with its
        // BEGIN, so a lock wait there must stay cancellable too.
        let canceller = StatementCanceller(PQgetCancel(handle))
        defer { canceller.release() }
        let results = try await withTaskCancellationHandler {
            try await flush()
            var results: [Result<PostgresRows, PostgresError>] = []
            results.reserveCapacity(statements.count)
            var current: Result<PostgresRows, PostgresError>?
            while true {
                try await waitUntilNotBusy()
                guard let result = PQgetResult(handle) else {
                    // NULL ends one statement's results.
                    results.append(current ?? .failure(PostgresError(code: .client, message: "no result")))
                    current = nil
                    continue
                }
                let status = PQresultStatus(result)
                switch status {
                case PGRES_PIPELINE_SYNC:
                    PQclear(result)
                    return results
                case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                    current = .success(Self.rows(from: result))
                case PGRES_PIPELINE_ABORTED:
                    current = .failure(PostgresError(code: .pipelineAborted, message: "skipped: an earlier statement of the pipeline failed"))
                default:
                    current = .failure(error(from: result))
                }
                PQclear(result)
            }
        } onCancel: {
            canceller.cancel()
        }
        if Task.isCancelled, results.contains(where: { if case .failure(let failure) = $0 { failure.sqlState == "57014" } else { false } }) {
            throw CancellationError()
        }
        return results
    }

    @discardableResult
    private func waitForSocket(events: Int16, timeoutMilliseconds: Int32 = -1) throws -> Int16 {
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        while true {
            let n = poll(&descriptor, 1, timeoutMilliseconds)
            if n >= 0 { return descriptor.revents }
            if errno != EINTR { throw PostgresError(code: .connectionLost, message: "poll failed: errno \(errno)") }
        }
    }

    // MARK: Notifications

    /// Waits up to `timeoutMilliseconds` for notifications and returns those that arrived.
    /// Blocking; used by the listener's own thread.
    func awaitNotifications(timeoutMilliseconds: Int32) throws -> [PostgresNotification] {
        var notifications = drainNotifications()
        if !notifications.isEmpty { return notifications }
        let ready = try waitForSocket(events: Int16(POLLIN), timeoutMilliseconds: timeoutMilliseconds)
        if ready != 0 {
            guard PQconsumeInput(handle) == 1 else { throw connectionError() }
            notifications = drainNotifications()
        }
        return notifications
    }

    private func drainNotifications() -> [PostgresNotification] {
        var out: [PostgresNotification] = []
        while let notify = PQnotifies(handle) {
            out.append(PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra),
                serverProcessID: notify.pointee.be_pid))
            PQfreemem(notify)
        }
        return out
    }

    /// Quotes `text` as an SQL string literal, for statements run with ``simpleQuery(_:)``.
    func quoteLiteral(_ text: String) throws -> String {
        guard let quoted = PQescapeLiteral(handle, text, text.utf8.count) else { throw connectionError() }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    /// Quotes `identifier` for LISTEN/UNLISTEN, which take no parameters.
    func quoteIdentifier(_ identifier: String) throws -> String {
        guard let quoted = PQescapeIdentifier(handle, identifier, identifier.utf8.count) else { throw connectionError() }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }
}

/// A statement's cancel handle. `PQcancel` opens its own connection to the server, so it
/// runs on a thread of its own; the lock keeps it from racing the handle's release.
final class StatementCanceller: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: OpaquePointer?

    init(_ handle: OpaquePointer?) { self.handle = handle }

    func cancel() {
        Thread.detachNewThread { [self] in
            lock.lock()
            defer { lock.unlock() }
            guard let handle else { return }
            var message = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle, &message, Int32(message.count))
        }
    }

    func release() {
        lock.lock()
        defer { lock.unlock() }
        if let handle { PQfreeCancel(handle) }
        handle = nil
    }
}

/// Lays out parameters as the arrays libpq's exec functions take.
private func withParameters<R>(
    _ binds: [PostgresBind],
    _ body: (
        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?, UnsafePointer<UInt32>?
    ) -> R
) -> R {
    if binds.isEmpty { return body(nil, nil, nil, nil) }
    let lengths = binds.map { Int32($0.bytes?.count ?? 0) }
    let formats = binds.map { Int32($0.isBinary ? 1 : 0) }
    let oids = binds.map(\.oid)
    // Text-format values must be NUL-terminated; binary ones are read by length.
    var buffers: [UnsafeMutablePointer<CChar>?] = binds.map { bind in
        guard let bytes = bind.bytes else { return nil }
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        bytes.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress ?? UnsafeRawPointer(buffer), byteCount: bytes.count)
        }
        buffer[bytes.count] = 0
        return buffer
    }
    defer { for buffer in buffers { buffer?.deallocate() } }
    return buffers.withUnsafeMutableBufferPointer { values in
        values.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: values.count) { valuePointers in
            body(valuePointers, lengths, formats, oids)
        }
    }
}

private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
    }
}
