import ArgumentParser
import EsuratPostgres

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the pending SQL migrations and exit.",
        discussion: "Each schema/NNNN_name.sql file runs once, in its own transaction; a file changed after it was applied is refused.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap()
        let migrator = try Migrator(directory: try database.migrationsDirectory())
        let (url, embedded) = try await database.resolve(logger: logger)
        let pool = PostgresPool(configuration: database.poolConfiguration(url: url))
        do {
            try await database.waitForDatabase(pool, logger: logger)
            let applied = try await migrator.migrate(pool, logger: logger)
            print(applied.isEmpty ? "The schema is up to date." : "Applied migrations \(applied.map(String.init).joined(separator: ", ")).")
        } catch {
            pool.close()
            try await embedded?.stop()
            throw error
        }
        pool.close()
        try await embedded?.stop()
    }
}
