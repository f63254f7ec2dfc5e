import EsuratPostgres
import EsuratTestSupport
import Foundation
import Logging
import Testing

@Suite struct MigratorTests {
    let logger = Logger(label: "test.migrations")

    func directory(_ files: [String: String]) throws -> String {
        let path = NSTemporaryDirectory() + "esurat-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, sql) in files {
            try sql.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        }
        return path
    }

    @Test func appliesInOrderOnceAndRecordsChecksums() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        let dir = try directory([
            "0002_letters.sql": "CREATE TABLE letters (id int PRIMARY KEY, unit_id int REFERENCES units(id));",
            "0001_units.sql": "CREATE TABLE units (id int PRIMARY KEY);\nINSERT INTO units VALUES (1);",
            "README.md": "not a migration",
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try await Migrator(directory: dir).migrate(pool, logger: logger) == [1, 2])
        #expect(try await Migrator(directory: dir).migrate(pool, logger: logger) == [])
        let checksums = try await pool.query("SELECT checksum FROM schema_migrations ORDER BY version")
        #expect(checksums.count == 2)
        #expect(try checksums[0].decode("checksum", as: String.self).count == 64)
    }

    @Test func refusesAMigrationEditedAfterItWasApplied() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        let dir = try directory(["0001_units.sql": "CREATE TABLE units (id int);"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Migrator(directory: dir).migrate(pool, logger: logger)
        try "CREATE TABLE units (id bigint);".write(toFile: dir + "/0001_units.sql", atomically: true, encoding: .utf8)
        do {
            try await Migrator(directory: dir).migrate(pool, logger: logger)
            Issue.record("an edited migration was accepted")
        } catch let failure as Migrator.Failure {
            #expect(failure.description.contains("0001_units.sql was changed after it was applied"))
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        let pool = try await TestCluster.freshDatabase()
        defer { pool.close() }
        let dir = try directory([
            "0001_ok.sql": "CREATE TABLE ok (id int);",
            "0002_broken.sql": "CREATE TABLE half (id int);\nSELECT * FROM no_such_table;",
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        await #expect(throws: Migrator.Failure.self) { try await Migrator(directory: dir).migrate(pool, logger: logger) }
        let tables = try await pool.query("SELECT to_regclass('half') IS NULL AS gone, to_regclass('ok') IS NOT NULL AS kept").single()
        #expect(try tables.decode("gone", as: Bool.self))
        #expect(try tables.decode("kept", as: Bool.self))
        #expect(try await pool.query("SELECT version FROM schema_migrations").map { try $0.decode("version", as: Int.self) } == [1])
    }

    @Test func concurrentMigratorsApplyEachFileExactlyOnce() async throws {
        let pool = try await TestCluster.freshDatabase(poolSize: 8)
        defer { pool.close() }
        // Not idempotent on purpose: a second run of any file would fail or double the rows.
        var files: [String: String] = [:]
        for n in 1...5 {
            files[String(format: "%04d_step.sql", n)] = "CREATE TABLE step\(n) (id int); INSERT INTO step\(n) VALUES (\(n)); SELECT pg_sleep(0.05);"
        }
        let dir = try directory(files)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let migrator = try Migrator(directory: dir)
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<6 { group.addTask { try await migrator.migrate(pool, logger: logger) } }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(applied.sorted() == [1, 2, 3, 4, 5])
        #expect(try await pool.query("SELECT count(*) AS n FROM schema_migrations").single().decode("n", as: Int.self) == 5)
    }

    @Test func refusesBadlyNamedFiles() throws {
        let dir = try directory(["create_units.sql": "SELECT 1;"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: Migrator.Failure.self) { try Migrator(directory: dir) }
    }
}
