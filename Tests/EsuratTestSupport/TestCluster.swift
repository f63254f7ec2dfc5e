public import EsuratPostgres
import Foundation
import Logging

/// The throwaway PostgreSQL cluster of a test run, started on first use through the same
/// ``EmbeddedPostgres`` launcher `esurat serve` uses, and stopped and deleted when the test
/// process exits. Each test gets a database of its own, so tests run in parallel.
public enum TestCluster {
    private actor Shared {
        /// A task, not its result: concurrent first callers (actors are re-entrant) must
        /// share one cluster.
        var starting: Task<(launcher: EmbeddedPostgres, url: String), any Error>?

        func cluster() async throws -> (launcher: EmbeddedPostgres, url: String) {
            if let starting { return try await starting.value }
            let task = Task {
                let directory = NSTemporaryDirectory() + "esurat-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                let launcher = EmbeddedPostgres(
                    configuration: .init(directory: directory), logger: Logger(label: "esurat.test.postgres"))
                TestCluster.registerCleanup(launcher: launcher, directory: directory)
                let url = try await launcher.start()
                return (launcher: launcher, url: url)
            }
            starting = task
            return try await task.value
        }
    }

    private static let shared = Shared()
    nonisolated(unsafe) private static var cleanup: (@Sendable () -> Void)?

    /// The connection URL of the cluster's `esurat` database.
    public static func url() async throws -> String {
        try await shared.cluster().url
    }

    /// Creates an empty database for one test and returns a pool on it.
    public static func freshDatabase(poolSize: Int = 4, configure: (inout PostgresPoolConfiguration) -> Void = { _ in }) async throws -> PostgresPool {
        let url = try await url()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = PostgresPool(configuration: patient(.init(connectionString: url)))
        defer { admin.close() }
        // The name is made here from a UUID, never from input; CREATE DATABASE takes no parameters.
        try await admin.withConnection { try await $0.runScript(PostgresQuery(trustedSQL: "CREATE DATABASE \(name)")) }
        var configuration = patient(PostgresPoolConfiguration(connectionString: databaseURL(url, name)))
        configuration.size = poolSize
        configure(&configuration)
        return PostgresPool(configuration: configuration)
    }

    /// The whole suite starts at once on two cores: some fifty tests create their databases and
    /// run every migration in the same seconds, and a connection can then take longer than the
    /// production default of 5 s to be accepted (seen in CI as "timeout expired"). Tests that
    /// are about timeouts set their own in `configure`.
    private static func patient(_ configuration: PostgresPoolConfiguration) -> PostgresPoolConfiguration {
        var configuration = configuration
        configuration.connectTimeout = .seconds(60)
        configuration.acquireTimeout = .seconds(60)
        return configuration
    }

    /// `url` with its database replaced by `database`.
    public static func databaseURL(_ url: String, _ database: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + database
        return components.string ?? url
    }

    private static func registerCleanup(launcher: EmbeddedPostgres, directory: String) {
        cleanup = {
            try? launcher.stopBlocking()
            try? FileManager.default.removeItem(atPath: directory)
        }
        atexit { TestCluster.cleanup?() }
    }
}
