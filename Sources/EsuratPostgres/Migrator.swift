import Foundation
public import Logging

/// Applies `schema/NNNN_name.sql` files in order, each in its own transaction, and records
/// each with the SHA-256 of its text. A file whose text changed after it was applied is
/// refused. Migrators starting at once (several replicas) serialise on an advisory lock.
public struct Migrator: Sendable {
    /// One migration file.
    public struct Migration: Sendable, Hashable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    /// Why migrations could not run.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The advisory lock key all esurat migrators take ("esurat" in ASCII).
    static let lockKey: Int64 = 0x6573_7572_6174

    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Reads every `NNNN_name.sql` in `directory`. Other files are ignored; two files with
    /// one number are refused.
    public init(directory: String) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw Failure(description: "cannot read the migrations directory \(directory): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        var seen: [Int: String] = [:]
        for name in names.sorted() where name.hasSuffix(".sql") {
            let stem = name.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw Failure(description: "migration file \(name) is not named NNNN_name.sql")
            }
            if let other = seen[version] {
                throw Failure(description: "migrations \(other) and \(name) share the number \(version)")
            }
            seen[version] = name
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let sql = String(data: data, encoding: .utf8) else {
                throw Failure(description: "cannot read migration \(path) as UTF-8")
            }
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        self.init(migrations: migrations)
    }

    /// Applies what is pending and returns the versions it applied.
    @discardableResult
    public func migrate(_ pool: PostgresPool, logger: Logger) async throws -> [Int] {
        try await pool.withConnection { connection in
            // A migration may rightly take longer than a request's statement, and a second
            // replica waits for the first one's lock as long as it migrates: lifted for this
            // session, given back before the connection returns to the pool.
            try await connection.runScript("SET statement_timeout = 0; SET lock_timeout = 0")
            let restore = PostgresQuery(trustedSQL: pool.configuration.timeoutSettings)
            // A session-level lock: held across the per-file transactions below.
            try await connection.query("SELECT pg_advisory_lock($1)", [Self.lockKey])
            do {
                let applied = try await applyPending(connection, logger: logger)
                try await connection.queryIgnoringCancellation("SELECT pg_advisory_unlock(\(Self.lockKey))")
                try await connection.runScript(restore)
                return applied
            } catch {
                try? await connection.queryIgnoringCancellation("SELECT pg_advisory_unlock(\(Self.lockKey))")
                try? await connection.runScript(restore)
                throw error
            }
        }
    }

    private func applyPending(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.runScript("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var recorded: [Int: (name: String, checksum: String)] = [:]
        for row in try await connection.query("SELECT version, name, checksum FROM schema_migrations") {
            recorded[try row.decode("version")] = (try row.decode("name"), try row.decode("checksum"))
        }
        var applied: [Int] = []
        for migration in migrations {
            let checksum: String = try await connection.query(
                "SELECT encode(sha256(convert_to($1::text, 'UTF8')), 'hex') AS checksum", [migration.sql]
            ).single().decode("checksum")
            if let existing = recorded[migration.version] {
                guard existing.checksum == checksum else {
                    throw Failure(description: """
                        migration \(String(format: "%04d", migration.version))_\(migration.name).sql was changed after it \
                        was applied (recorded sha256 \(existing.checksum), file now \(checksum)); restore the file and \
                        add a new migration instead
                        """)
                }
                continue
            }
            try await connection.runScript("BEGIN")
            do {
                try await connection.runScript(PostgresQuery(trustedSQL: migration.sql))
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.name, checksum])
                try await connection.queryIgnoringCancellation("COMMIT")
            } catch {
                try? await connection.queryIgnoringCancellation("ROLLBACK")
                throw Failure(description: "migration \(migration.version)_\(migration.name) failed: \(error)")
            }
            logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }
}
