import Foundation
import Synchronization

/// A notification sent with `NOTIFY channel, 'payload'` or `pg_notify`.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var serverProcessID: Int32
}

extension PostgresPool {
    /// Listens on `channel` on a connection of its own (outside the pool) and delivers the
    /// notifications as an async sequence. Returns once `LISTEN` is in effect, so a
    /// notification sent after this returns is received. The listener reconnects after a
    /// lost connection (notifications sent meanwhile are lost: treat them as hints and poll as
    /// well). Ending the iteration, or cancelling the consuming task, closes the connection.
    public func listen(on channel: String) async throws -> AsyncThrowingStream<PostgresNotification, any Error> {
        let listener = NotificationListener(channel: channel, configuration: configuration)
        return try await listener.start()
    }

    /// Sends `payload` on `channel` (`pg_notify`), delivered when the current transaction
    /// commits.
    public func notify(_ channel: String, payload: String = "", on connection: PostgresConnection? = nil) async throws {
        if let connection {
            try await connection.query("SELECT pg_notify($1, $2)", [channel, payload])
        } else {
            try await query("SELECT pg_notify($1, $2)", [channel, payload])
        }
    }
}

/// Owns the LISTEN connection and its thread.
private final class NotificationListener: Sendable {
    let channel: String
    let configuration: PostgresPoolConfiguration
    let thread = ConnectionThread(name: "esurat-pg-listen")
    let stopped = Atomic<Bool>(false)

    init(channel: String, configuration: PostgresPoolConfiguration) {
        self.channel = channel
        self.configuration = configuration
    }

    func start() async throws -> AsyncThrowingStream<PostgresNotification, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: PostgresNotification.self, throwing: (any Error).self)
        let first = try await thread.run { [self] in try self.connectAndListen() }
        continuation.onTermination = { [self] _ in
            self.stopped.store(true, ordering: .releasing)
        }
        thread.submit { [self] in
            self.loop(first, continuation)
            self.thread.stop()
        }
        return stream
    }

    private func connectAndListen() throws -> LibPQConnection {
        let connection = try LibPQConnection.connect(
            configuration.connectionString, connectTimeout: configuration.connectTimeout,
            applicationName: configuration.applicationName + "-listen")
        try connection.simpleQuery("LISTEN " + connection.quoteIdentifier(channel))
        return connection
    }

    /// Waits in short slices so a stop is noticed within a quarter second.
    private func loop(_ first: LibPQConnection, _ continuation: AsyncThrowingStream<PostgresNotification, any Error>.Continuation) {
        var connection: LibPQConnection? = first
        var backoffMilliseconds: UInt32 = 100
        while !stopped.load(ordering: .acquiring) {
            guard let current = connection else {
                usleep(backoffMilliseconds * 1000)
                connection = try? connectAndListen()
                backoffMilliseconds = connection == nil ? min(backoffMilliseconds * 2, 5000) : 100
                continue
            }
            do {
                for notification in try current.awaitNotifications(timeoutMilliseconds: 250) {
                    continuation.yield(notification)
                }
                if !current.isHealthy { connection = nil }
            } catch {
                connection = nil
            }
        }
        continuation.finish()
    }
}
