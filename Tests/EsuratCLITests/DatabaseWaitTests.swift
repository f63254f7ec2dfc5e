import EsuratPostgres
import EsuratTestSupport
import Foundation
import Testing

/// At boot systemd may start esurat before PostgreSQL accepts connections; `serve`, `worker`
/// and `migrate` used to exit at once (issue 16). They now retry with backoff.
@Suite struct DatabaseWaitTests {
    @Test func migrateWaitsForADatabaseThatIsNotThereYet() async throws {
        let cluster = try await TestCluster.url()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let directory = NSTemporaryDirectory() + "esurat-wait-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let url = TestCluster.databaseURL(cluster, name)
        async let migrated = ArchiveTools.run(SigningCLITests.esurat, ["migrate", "--database-url", url, "--database-wait", "120"], in: directory)
        // The database appears a few seconds later, as a server finishing its start would.
        try await Task.sleep(for: .seconds(3))
        let admin = PostgresPool(configuration: .init(connectionString: cluster))
        defer { admin.close() }
        // The name is made here from a UUID; CREATE DATABASE takes no parameters.
        try await admin.withConnection { try await $0.runScript(PostgresQuery(trustedSQL: "CREATE DATABASE \(name)")) }
        let (status, output) = try await migrated
        #expect(status == 0, "\(output)")
        #expect(output.contains("database not reachable yet; retrying"), "\(output)")
        #expect(output.contains("Applied migrations"), "\(output)")

        // Without waiting it fails at once, naming the cause.
        let missing = TestCluster.databaseURL(cluster, name + "_missing")
        let (failed, message) = try await ArchiveTools.run(SigningCLITests.esurat, ["migrate", "--database-url", missing, "--database-wait", "0"], in: directory)
        #expect(failed != 0)
        #expect(message.contains("does not exist"), "\(message)")
    }
}
