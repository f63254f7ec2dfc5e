import ArgumentParser
import EsuratHTTP
import EsuratPostgres
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the esurat HTTP API.",
        discussion: """
            Applies pending migrations, then serves until SIGINT or SIGTERM, when it stops taking \
            requests, finishes those in flight, closes the database pool and stops the embedded \
            PostgreSQL cluster if it started one.
            """)

    @Option(name: .long, help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on.")
    var port: Int = 8080

    @Option(name: .long, help: "Largest JSON request body in bytes; larger ones get 413.")
    var maxBodyBytes: Int = 1 << 20

    @Flag(name: .long, help: "Do not run the dispatch worker in this process (run `esurat worker` instead).")
    var noWorker = false

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap()
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let migrator = try Migrator(directory: try database.migrationsDirectory())
        let (url, embedded) = try await database.resolve(logger: logger)
        let pool = PostgresPool(configuration: database.poolConfiguration(url: url))
        do {
            try await migrator.migrate(pool, logger: logger)
            var http = HTTPServerConfiguration()
            http.host = host
            http.port = port
            http.maxJSONBodyBytes = maxBodyBytes
            let app = try HTTPServer.makeApplication(configuration: http, pool: pool, metrics: registry, logger: logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: PoolService(pool: pool)), .init(service: app)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            print("esurat is listening on http://\(host):\(port)  (health: /healthz, API document: /openapi.yaml)")
            fflush(nil)  // stdout is a pipe under systemd and CI: show the line now
            try await group.run()
        } catch {
            pool.close()
            try? await embedded?.stop()
            throw error
        }
        pool.close()
        try await embedded?.stop()
    }
}

/// Keeps the pool open until graceful shutdown; the group stops services in reverse order,
/// so the pool closes after the HTTP server has finished its requests.
struct PoolService: Service {
    let pool: PostgresPool

    func run() async throws {
        try? await gracefulShutdown()
        pool.close()
    }
}
