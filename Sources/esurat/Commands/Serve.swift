import ArgumentParser
import EsuratHTTP
import EsuratWeb
import EsuratPostgres
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals
import EsuratServices

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the esurat HTTP API.",
        discussion: """
            Applies pending migrations; on an empty database creates the account 'admin' with the \
            password in ESURAT_ADMIN_PASSWORD (or a generated one, printed once). Serves until \
            SIGINT or SIGTERM, when it stops taking requests, finishes those in flight, closes the \
            database pool and stops the embedded PostgreSQL cluster if it started one.
            """)

    @Option(name: .long, help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on.")
    var port: Int = 8080

    @Option(name: .long, help: "The address people reach esurat at (https://esurat.<pemda>.go.id): the letters' QR codes point to its /v/ page. Default: ESURAT_PUBLIC_URL, else http://HOST:PORT.")
    var publicURL: String?

    @Option(name: .long, help: "Largest JSON request body in bytes; larger ones get 413.")
    var maxBodyBytes: Int = 1 << 20

    @Flag(name: .long, help: "Take client addresses from X-Forwarded-For (only behind a reverse proxy that is the only way in).")
    var trustForwardedFor = false

    @Flag(name: .long, help: "Do not run the dispatch worker in this process (run `esurat worker` instead).")
    var noWorker = false

    @Flag(name: .long, help: "Load the demo Kabupaten (units, positions, accounts, letters in every state) unless it is there already.")
    var seedDemo = false

    @Flag(name: .long, help: "Mark the web session cookie Secure (set it whenever people reach esurat over https, e.g. behind the reverse proxy).")
    var secureCookies = false

    @Option(name: .long, help: "Time zone of the dates the web pages show (WIB Asia/Jakarta, WITA Asia/Makassar, WIT Asia/Jayapura).")
    var timeZone: String = "Asia/Jakarta"

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap()
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let runtime = try await Runtime.start(
            database: database, logger: logger,
            publicURL: publicURL ?? ProcessInfo.processInfo.environment["ESURAT_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://\(host):\(port)")
        do {
            try await runtime.bootstrapAdmin()
            if seedDemo { try await runtime.seedDemo(logger: logger) }
            var http = HTTPServerConfiguration()
            http.host = host
            http.port = port
            http.maxJSONBodyBytes = maxBodyBytes
            http.trustForwardedFor = trustForwardedFor
            let services = runtime.httpServices(metrics: registry)
            guard let zone = TimeZone(identifier: timeZone) else { throw ValidationError("--time-zone \(timeZone) is not a time zone") }
            var webConfiguration = WebConfiguration()
            webConfiguration.secureCookies = secureCookies
            webConfiguration.timeZone = zone
            let router = try HTTPServer.makeRouter(configuration: http, services: services, logger: logger)
            try await WebUI.make(services: services, configuration: webConfiguration).register(on: router)
            let app = try HTTPServer.makeApplication(router: router, configuration: http, logger: logger)
            var background: [ServiceGroupConfiguration.ServiceConfiguration] = [
                .init(service: EscalationTimer(letters: services.letters, dispositions: DispositionService(pool: runtime.pool), logger: logger)),
            ]
            if !noWorker {
                background.append(.init(service: DispatchWorker(pool: runtime.pool, evidence: (runtime.pki, runtime.blocking), logger: logger)))
            }
            background.append(.init(service: AuditSealer(
                chain: AuditChain(pool: runtime.pool, pki: runtime.pki, blocking: runtime.blocking),
                archive: ArchiveService(pool: runtime.pool, pki: runtime.pki, blocking: runtime.blocking), logger: logger)))
            background.append(.init(service: Housekeeping(pool: runtime.pool, logger: logger)))
            background.append(.init(service: TimestampRenewal(pdfs: services.pdfs, logger: logger)))
            background.append(.init(service: app))
            let group = ServiceGroup(
                configuration: .init(services: background, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            announce("esurat is listening on http://\(host):\(port)/  (web UI: open it in a browser; health: /healthz, API document: /openapi.yaml)")
            try await group.run()
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
    }
}

struct SeedDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-demo",
        abstract: "Load the demo Kabupaten: about twenty OPDs and kecamatan, their positions and an account for each.",
        discussion: "Does nothing when the demo is loaded already. Every demo account has the password esurat-demo-2026.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap()
        let runtime = try await Runtime.start(database: database, logger: logger)
        do {
            try await runtime.bootstrapAdmin()
            try await runtime.seedDemo(logger: logger)
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a standalone dispatch worker: deliver signed letters into the recipients' inboxes.",
        discussion: "Any number may run, on any machines, against one database. SIGTERM stops claiming, finishes the batch in hand, hands back unfinished leases and exits 0.")

    @Option(name: .long, help: "Seconds a claimed delivery stays leased; a worker that dies holds it no longer than this.")
    var leaseSeconds: Int = 30

    @Option(name: .long, help: "Deliveries claimed at once.")
    var batchSize: Int = DispatchWorker.Configuration().batchSize

    @Option(name: .long, help: "Batches in flight at once: one is claimed and signed while another waits on the database.")
    var concurrency: Int = DispatchWorker.Configuration().concurrency

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let logger = try logging.bootstrap()
        guard (1...3600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds is 1–3600") }
        guard (1...1000).contains(batchSize) else { throw ValidationError("--batch-size is 1–1000") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency is 1–64") }
        // Each batch in flight holds a connection; the heartbeat needs one too, or a worker
        // whose batches hold them all misses beats and has its leases taken.
        guard concurrency < database.poolSize else { throw ValidationError("--concurrency must be below --pool-size (\(database.poolSize))") }
        // The runtime: the pool, migrations, and the internal CA whose evidence key signs
        // each ContentConsignment record.
        let runtime = try await Runtime.start(database: database, logger: logger)
        var configuration = DispatchWorker.Configuration()
        configuration.lease = .seconds(leaseSeconds)
        configuration.batchSize = batchSize
        configuration.concurrency = concurrency
        let worker = DispatchWorker(pool: runtime.pool, evidence: (runtime.pki, runtime.blocking), configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        announce("esurat worker \(worker.configuration.owner) is delivering")
        do {
            try await group.run()
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
    }
}
