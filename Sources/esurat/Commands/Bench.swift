import ArgumentParser
import EsuratDomain
import EsuratHTTP
import EsuratPostgres
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import EsuratServices
import EsuratSigning

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure esurat beside the stock tools, on this machine, in one run.",
        subcommands: [BenchDatabase.self, BenchHTTP.self, BenchAuth.self, BenchSign.self, BenchPDF.self, BenchLetters.self, BenchLoginFlood.self, BenchDispatch.self, BenchExport.self])
}

/// Throughput of the libpq pool beside pgbench running the same statements.
struct BenchDatabase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "SELECT 1 round trips/s and single-row INSERTs/s through the pool, beside pgbench.",
        discussion: "pgbench runs the same statements as custom scripts, prepared (-M prepared), with as many clients as esurat has concurrent tasks, against the same cluster.")

    @Option(name: .long, help: "Concurrent tasks (and pgbench clients).")
    var concurrency: Int = 8

    @Option(name: .long, help: "Seconds per measurement.")
    var seconds: Int = 10

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        LoggingBootstrap.once(level: .warning)
        let logger = Logger(label: "esurat.bench")
        let (url, embedded) = try await database.resolve(logger: logger)
        var configuration = database.poolConfiguration(url: url)
        configuration.size = concurrency
        let pool = PostgresPool(configuration: configuration)
        defer { pool.close() }
        try await pool.query("CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")

        let pgbench = try EmbeddedPostgres(configuration: .init(directory: "/nonexistent"), logger: logger).binary("pgbench")
        print("esurat bench db: \(concurrency) concurrent tasks, \(seconds) s each, pgbench at \(pgbench)")
        let rows: [(String, PostgresQuery, [any PostgresEncodable], String)] = [
            ("SELECT 1", "SELECT 1", [], "SELECT 1;\n"),
            ("INSERT one row", "INSERT INTO bench_insert (payload) VALUES ($1)", ["surat"], "INSERT INTO bench_insert (payload) VALUES ('surat');\n"),
        ]
        print("statement            esurat/s    pgbench/s   ratio")
        for (name, query, binds, script) in rows {
            _ = try await measure(pool: pool, query: query, binds: binds, seconds: 1)  // warm every connection
            let ours = try await measure(pool: pool, query: query, binds: binds, seconds: seconds)
            let theirs = try await runPGBench(pgbench, url: url, script: script)
            let pad = { (s: String, n: Int) in s.padding(toLength: n, withPad: " ", startingAt: 0) }
            print(pad(name, 20) + String(format: "%10.0f   %10.0f   %5.2f×", ours, theirs, ours / theirs))
        }
        try await pool.query("DROP TABLE bench_insert")
        pool.close()
        try await embedded?.stop()
    }

    private func measure(pool: PostgresPool, query: PostgresQuery, binds: [any PostgresEncodable], seconds: Int) async throws -> Double {
        let started = ContinuousClock.now
        let deadline = started + .seconds(seconds)
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    try await pool.withConnection { connection in
                        var done = 0
                        while ContinuousClock.now < deadline {
                            try await connection.query(query, binds)
                            done += 1
                        }
                        return done
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - started
        return Double(total) / elapsed.inSeconds
    }

    private func runPGBench(_ pgbench: String, url: String, script: String) async throws -> Double {
        let scriptPath = NSTemporaryDirectory() + "esurat-bench-\(UUID().uuidString).sql"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: scriptPath) }
        let threads = min(concurrency, ProcessInfo.processInfo.activeProcessorCount)
        let outcome = try await ChildProcess.runDetached(
            [pgbench, "-n", "-M", "prepared", "-c", "\(concurrency)", "-j", "\(threads)", "-T", "\(seconds)", "-f", scriptPath, url])
        let text = outcome.output
        guard outcome.status == 0,
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
              let tps = Double(line.dropFirst(6).prefix { $0 != " " })
        else {
            throw ValidationError("pgbench failed: \(text)")
        }
        return tps
    }
}

/// `/healthz` requests/s through the real server, measured with wrk.
struct BenchHTTP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "GET /healthz requests/s with wrk against an in-process server.")

    @Option(name: .long, help: "wrk connections.")
    var connections: Int = 64

    @Option(name: .long, help: "Seconds to run wrk.")
    var seconds: Int = 10

    @Option(name: .long, help: "Path to request.")
    var path: String = "/healthz"

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        LoggingBootstrap.once(level: .warning)
        let logger = Logger(label: "esurat.bench")
        let runtime = try await Runtime.start(database: database, logger: logger)
        let rate = try await WrkRun(connections: connections, seconds: seconds).measure(runtime: runtime, path: path, logger: logger)
        print("esurat bench http: GET \(path) \(rate)")
        await runtime.shutdown()
    }
}

/// What the benchmarks' own organisations need.
enum BenchFixtures {
    /// A valid NIP for a benchmark's signer, different each run (NIPs are unique per account).
    static func randomNIP() -> String {
        String(format: "19800101%04d%02d1%03d", Int.random(in: 2000...2020), Int.random(in: 1...12), Int.random(in: 1...999))
    }

    /// A Dinas of its own whose head drafts and signs (the head of the OPD may sign their own
    /// letter), logged in and with a signing key under `passphrase`.
    struct SigningHead {
        var head: UUID
        var token: String
        var signer: IdentityService.Authenticated
    }

    static func signingHead(
        _ runtime: Runtime, code: String, unitName: String, title: String, username: String, passphrase: String
    ) async throws -> SigningHead {
        let pool = runtime.pool
        let unit: UUID = try await pool.query("INSERT INTO units (code, name, kind) VALUES ($1, $2, 'opd') RETURNING id", [code, unitName]).single().decode("id")
        let head: UUID = try await pool.query("INSERT INTO positions (unit_id, title, is_head) VALUES ($1, $2, true) RETURNING id", [unit, title]).single().decode("id")
        let password = "bench-\(username)-password"
        _ = try await runtime.organisation.insertUserForBenchmark(
            username: username, password: password, unitID: unit, roles: [.clerk, .official], positionID: head, nip: randomNIP())
        let session = try await runtime.identity.login(username: username, password: password, request: .local)
        let signer = try await runtime.identity.authenticate(bearer: session.token)
        let confirmation = try await runtime.identity.confirmPassword(password, of: signer, request: .local)
        _ = try await runtime.pki.issueSigningKey(for: signer, passphrase: passphrase, confirmation: confirmation, request: .local)
        return SigningHead(head: head, token: session.token, signer: signer)
    }
}

/// Serves the API in-process on a free loopback port and measures one path with wrk.
struct WrkRun {
    var connections: Int
    var seconds: Int

    /// The installed wrk.
    static func executable() throws -> String {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw ValidationError("wrk is not installed: apt-get install -y wrk")
        }
        return wrk
    }

    /// "N requests/s (wrk …)", with the count of non-2xx answers when there were any.
    func measure(runtime: Runtime, path: String, headers: [String] = [], logger: Logger) async throws -> String {
        let wrk = try Self.executable()
        let port = try EmbeddedPostgres.freeLoopbackPort()
        var http = HTTPServerConfiguration()
        http.port = port
        let app = try HTTPServer.makeApplication(configuration: http, services: runtime.httpServices(metrics: PrometheusCollectorRegistry()), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app)], logger: logger))
        let server = Task { try await group.run() }
        defer { server.cancel() }
        try await Task.sleep(for: .milliseconds(500))
        let threads = ProcessInfo.processInfo.activeProcessorCount
        let outcome = try await ChildProcess.runDetached(
            [wrk, "-t\(threads)", "-c\(connections)", "-d\(seconds)s"] + headers.flatMap { ["-H", $0] } + ["http://127.0.0.1:\(port)\(path)"])
        await group.triggerGracefulShutdown()
        _ = try? await server.value
        let lines = outcome.output.split(separator: "\n")
        guard let line = lines.first(where: { $0.hasPrefix("Requests/sec:") }) else {
            throw ValidationError("wrk printed no rate: \(outcome.output)")
        }
        let non2xx = lines.first(where: { $0.contains("Non-2xx") }).map { " (\($0.trimmingCharacters(in: .whitespaces)))" } ?? ""
        return "\(line.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces)) requests/s (wrk -t\(threads) -c\(connections), \(seconds) s)\(non2xx)"
    }
}

/// Logins/s with the production scrypt parameters, and authenticated `GET /api/v1/me`
/// requests/s with wrk.
struct BenchAuth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Logins/s (scrypt) through the service, and authenticated GET /api/v1/me requests/s with wrk.")

    @Option(name: .long, help: "Concurrent logins.")
    var concurrency: Int = 4

    @Option(name: .long, help: "Seconds per measurement.")
    var seconds: Int = 10

    @Option(name: .long, help: "wrk connections.")
    var connections: Int = 64

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        LoggingBootstrap.once(level: .warning)
        let logger = Logger(label: "esurat.bench")
        let runtime = try await Runtime.start(database: database, logger: logger)
        try await runtime.bootstrapAdmin()
        let password = "bench-password-\(UInt32.random(in: 0...UInt32.max))"
        let username = "bench.\(UInt32.random(in: 0...UInt32.max))"
        let unit: UUID = try await runtime.pool.query("SELECT id FROM units ORDER BY created_at LIMIT 1").single().decode("id")
        _ = try await runtime.organisation.insertUserForBenchmark(username: username, password: password, unitID: unit)
        let hasher = PasswordHasher()
        print("esurat bench auth: scrypt N=2^\(hasher.logN) r=\(hasher.r) p=\(hasher.p), \(concurrency) concurrent logins, \(seconds) s")

        let started = ContinuousClock.now
        let deadline = started + .seconds(seconds)
        var token = ""
        let logins = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for n in 0..<concurrency {
                group.addTask {
                    var done = 0
                    var last = ""
                    while ContinuousClock.now < deadline {
                        last = try await runtime.identity.login(username: username, password: password, request: RequestInfo(clientAddress: "bench-\(n)")).token
                        done += 1
                    }
                    return (done, last)
                }
            }
            var total = 0
            for try await (done, last) in group {
                total += done
                token = last
            }
            return total
        }
        let elapsed = ContinuousClock.now - started
        let rate = Double(logins) / elapsed.inSeconds
        print(String(format: "logins: %.1f/s (%d in %.1f s)", rate, logins, elapsed.inSeconds))

        let meRate = try await WrkRun(connections: connections, seconds: seconds)
            .measure(runtime: runtime, path: "/api/v1/me", headers: ["Authorization: Bearer \(token)"], logger: logger)
        print("GET /api/v1/me: \(meRate)")
        await runtime.shutdown()
    }
}
