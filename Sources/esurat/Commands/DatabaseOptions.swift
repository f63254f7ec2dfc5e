import ArgumentParser
import EsuratDomain
import EsuratPostgres
import Foundation
import Logging

/// Where the database is: a URL, or the embedded cluster under the data directory.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "PostgreSQL connection URL (postgresql://user:password@host:port/db). Default: $ESURAT_DATABASE_URL; without either, an embedded cluster under <data-dir>/pg.",
        valueName: "url"))
    var databaseURL: String?

    @Option(name: .long, help: ArgumentHelp("Directory for esurat's own files, including the embedded PostgreSQL cluster.", valueName: "dir"))
    var dataDir: String = ".esurat"

    @Option(name: .long, help: ArgumentHelp("Directory of the numbered SQL migrations. Default: $ESURAT_SCHEMA_DIR, else ./schema, else the one installed beside the binary.", valueName: "dir"))
    var schemaDir: String?

    @Option(name: .long, help: "Database connections in the pool (each has its own thread).")
    var poolSize: Int = 16

    @Option(name: .long, help: ArgumentHelp(
        "Seconds to keep trying, with backoff, when PostgreSQL cannot be reached at start (it may still be starting at boot); 0 fails at once.",
        valueName: "seconds"))
    var databaseWait: Int = 60

    /// The database URL to use and, when esurat runs the cluster itself, its launcher.
    func resolve(logger: Logger) async throws -> (url: String, embedded: EmbeddedPostgres?) {
        if let url = databaseURL ?? ProcessInfo.processInfo.environment["ESURAT_DATABASE_URL"], !url.isEmpty {
            return (url, nil)
        }
        let directory = URL(fileURLWithPath: dataDir).standardizedFileURL.path + "/pg"
        let launcher = EmbeddedPostgres(
            configuration: .init(directory: directory, binDirectory: ProcessInfo.processInfo.environment["ESURAT_PG_BIN"]),
            logger: logger)
        return (try await launcher.start(), launcher)
    }

    /// Returns once the database answers, retrying a refused or failed connection with
    /// doubling delays (0.5 s up to 5 s) for `databaseWait` seconds; other errors at once.
    func waitForDatabase(_ pool: PostgresPool, logger: Logger) async throws {
        let deadline = ContinuousClock.now + .seconds(max(0, databaseWait))
        var delay = Duration.milliseconds(500)
        var attempt = 1
        while true {
            do {
                try await pool.withConnection { try await $0.runScript("SELECT 1") }
                if attempt > 1 { logger.notice("database reachable", metadata: ["attempt": "\(attempt)"]) }
                return
            } catch let error as PostgresError where error.code == .connectionFailed && ContinuousClock.now + delay < deadline {
                // libpq's message names host, port, user and database, never the password.
                logger.warning(
                    "database not reachable yet; retrying",
                    metadata: ["attempt": "\(attempt)", "retry_in_ms": "\(Int(delay.inSeconds * 1000))",
                               "error": "\(error.message)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
                attempt += 1
            }
        }
    }

    func poolConfiguration(url: String) -> PostgresPoolConfiguration {
        var configuration = PostgresPoolConfiguration(connectionString: url)
        configuration.size = poolSize
        return configuration
    }

    /// The passphrase of the internal CA's keys: ESURAT_PKI_PASSPHRASE, or — for a first
    /// start without one — a generated passphrase kept in `<data-dir>/pki-passphrase`
    /// (mode 0600). Move it to your secret store for production.
    func pkiPassphrase(logger: Logger) throws -> String {
        if let value = ProcessInfo.processInfo.environment["ESURAT_PKI_PASSPHRASE"], !value.isEmpty { return value }
        let path = URL(fileURLWithPath: dataDir).standardizedFileURL.path + "/pki-passphrase"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8), !existing.isEmpty {
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        let passphrase = (0..<32).map { _ in String(UInt8.random(in: 0...15, using: &generator), radix: 16) }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data(passphrase.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(path); set ESURAT_PKI_PASSPHRASE")
        }
        logger.warning("no ESURAT_PKI_PASSPHRASE: generated one for the internal CA and kept it in the data directory", metadata: ["file": "\(path)"])
        return passphrase
    }

    func migrationsDirectory() throws -> String {
        let fm = FileManager.default
        var candidates: [String] = []
        if let schemaDir { candidates.append(schemaDir) }
        if let env = ProcessInfo.processInfo.environment["ESURAT_SCHEMA_DIR"] { candidates.append(env) }
        candidates.append("schema")
        // .build/<triple>/<config>/esurat → the package root's schema/; /usr/bin → /usr/share/esurat/schema.
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent("../../../schema").standardizedFileURL.path)
        candidates.append(executable.appendingPathComponent("../share/esurat/schema").standardizedFileURL.path)
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue { return candidate }
        }
        throw ValidationError("no migrations directory found (tried \(candidates.joined(separator: ", "))); pass --schema-dir")
    }
}

/// Logging options shared by the commands.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "Least severe log level written: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func bootstrap() throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level \(logLevel)")
        }
        LoggingBootstrap.once(level: level)
        return Logger(label: "esurat")
    }
}
