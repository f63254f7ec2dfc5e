import ArgumentParser
import EsuratHTTP
import EsuratPostgres
import EsuratServices
import EsuratSigning
import Foundation
import Logging
import Prometheus

/// The database, migrated, and the services over it: what `serve`, `seed-demo` and the
/// benchmarks share.
struct Runtime {
    let pool: PostgresPool
    let embedded: EmbeddedPostgres?
    let blocking: BlockingWork
    let identity: IdentityService
    /// The password checks' thread (``BlockingWork/lowPriority()``).
    let hashing: BlockingWork
    let organisation: OrganisationService
    let pki: PKIService
    let keyCache: UnlockedKeyCache
    let printer: LetterPrinter

    /// `publicURL` is the address the letters' QR codes point to (ESURAT_PUBLIC_URL, or
    /// what `serve` listens on).
    static func start(database: DatabaseOptions, logger: Logger, publicURL: String? = nil) async throws -> Runtime {
        let migrator = try Migrator(directory: try database.migrationsDirectory())
        let (url, embedded) = try await database.resolve(logger: logger)
        let pool = PostgresPool(configuration: database.poolConfiguration(url: url))
        do {
            try await database.waitForDatabase(pool, logger: logger)
            try await migrator.migrate(pool, logger: logger)
            let hasher = PasswordHasher()
            let blocking = BlockingWork()
            // Password checks on a thread of their own: logins anyone can send must never
            // queue signing behind them (issue 16).
            let hashing = BlockingWork.lowPriority()
            let pki = PKIService(
                pool: pool, blocking: blocking, passphrase: try database.pkiPassphrase(logger: logger),
                organization: ProcessInfo.processInfo.environment["ESURAT_ORGANIZATION"] ?? "Pemerintah Daerah")
            try await pki.start()
            return Runtime(
                pool: pool, embedded: embedded, blocking: blocking,
                identity: try IdentityService(pool: pool, hasher: hasher, blocking: hashing), hashing: hashing,
                organisation: OrganisationService(pool: pool, hasher: hasher, blocking: blocking),
                pki: pki,
                keyCache: try UnlockedKeyCache(lifetime: .seconds(signingKeyCacheSeconds())),
                printer: try LetterPrinter(
                    publicURL: publicURL ?? ProcessInfo.processInfo.environment["ESURAT_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
                        ?? "http://127.0.0.1:8080"))
        } catch {
            pool.close()
            try? await embedded?.stop()
            throw error
        }
    }

    var letters: LetterService { LetterService(pool: pool, pki: pki, blocking: blocking, keyCache: keyCache, printer: printer) }

    func httpServices(metrics: PrometheusCollectorRegistry) -> HTTPServices {
        HTTPServices(
            pool: pool, metrics: metrics, identity: identity, organisation: organisation, pki: pki,
            letters: letters, blocking: blocking)
    }

    /// How long a signer's key stays unlocked after their passphrase opened it:
    /// ESURAT_SIGNING_KEY_CACHE_SECONDS, default 600; 0 unlocks it for every signature.
    static func signingKeyCacheSeconds() throws -> Int {
        guard let text = ProcessInfo.processInfo.environment["ESURAT_SIGNING_KEY_CACHE_SECONDS"], !text.isEmpty else { return 600 }
        guard let seconds = Int(text), (0...86_400).contains(seconds) else {
            throw ValidationError("ESURAT_SIGNING_KEY_CACHE_SECONDS must be a number of seconds from 0 to 86400")
        }
        return seconds
    }

    /// Creates `admin` on an empty database and says how to log in.
    func bootstrapAdmin() async throws {
        let password = ProcessInfo.processInfo.environment["ESURAT_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        switch try await Bootstrap.ensureAdmin(pool: pool, hasher: PasswordHasher(), blocking: blocking, password: password) {
        case .existing:
            break
        case .created:
            announce("Created the administrator account 'admin' with the password from ESURAT_ADMIN_PASSWORD.")
        case .createdWithGeneratedPassword(let generated):
            // Shown once, on the terminal only; it never goes to the log.
            announce("Created the administrator account 'admin' with the password: \(generated)\nStore it now: it is not shown again.")
        }
    }

    func seedDemo(logger: Logger) async throws {
        let logins = try await DemoSeed.seed(organisation: organisation, pool: pool)
        try await DemoLetters.seed(
            pool: pool, identity: identity, pki: pki, letters: letters,
            blocking: blocking, logger: logger)
        var lines = ["Demo data loaded. Demo logins (password for all: \(DemoSeed.password)):"]
        lines += logins.map { "  \($0.username.padding(toLength: 24, withPad: " ", startingAt: 0)) \($0.role)" }
        lines.append("Signing passphrase (TTE) of \(DemoLetters.signers.joined(separator: ", ")): \(DemoLetters.signingPassphrase)")
        lines.append("Start with diskominfo.kepala: a letter waits for its signature and incoming letters for dispositions.")
        announce(lines.joined(separator: "\n"))
    }

    func shutdown() async {
        pool.close()
        await blocking.shutdown()
        await hashing.shutdown()
        try? await embedded?.stop()
    }
}

/// Writes a line for the operator to standard output at once (stdout is a pipe under
/// systemd and CI, where print() would buffer it).
func announce(_ text: String) {
    print(text)
    fflush(nil)
}
