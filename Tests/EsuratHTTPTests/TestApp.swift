@testable import EsuratHTTP
import EsuratPostgres
import EsuratServices
import EsuratSigning
import EsuratTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

/// A migrated database of its own, the services over it, and the real router, for API tests.
struct TestApp {
    static let adminPassword = "admin-password-for-tests"
    static let pkiPassphrase = "pki-passphrase-for-tests"

    let pool: PostgresPool
    let identity: IdentityService
    let organisation: OrganisationService
    let pki: PKIService
    var services: HTTPServices
    let logs: LogCapture

    /// Lighter scrypt than production (2^12 instead of 2^15): tests hash many passwords.
    static let hasher = PasswordHasher(logN: 12)

    static func make(limits: IdentityService.Limits = .init(), maxJSONBytes: Int = 1 << 20) async throws -> TestApp {
        let pool = try await TestCluster.freshDatabase(poolSize: 6)
        try await Migrator(directory: schemaDirectory).migrate(pool, logger: Logger(label: "test"))
        let blocking = BlockingWork()
        let identity = try IdentityService(pool: pool, hasher: hasher, blocking: blocking, limits: limits)
        let organisation = OrganisationService(pool: pool, hasher: hasher, blocking: blocking)
        _ = try await Bootstrap.ensureAdmin(pool: pool, hasher: hasher, blocking: blocking, password: adminPassword)
        let pki = PKIService(pool: pool, blocking: blocking, passphrase: pkiPassphrase, organization: "Pemerintah Kabupaten Uji")
        try await pki.start()
        let services = HTTPServices(
            pool: pool, metrics: PrometheusCollectorRegistry(), identity: identity, organisation: organisation, pki: pki,
            letters: LetterService(pool: pool, pki: pki, blocking: blocking, keyCache: try UnlockedKeyCache(lifetime: .seconds(600)),
                                   printer: try printer.get()), blocking: blocking)
        return TestApp(pool: pool, identity: identity, organisation: organisation, pki: pki, services: services, logs: LogCapture())
    }

    /// Loading the fonts once is enough for every test.
    static let printer = Result { try LetterPrinter(publicURL: "https://esurat.uji.go.id") }

    static var schemaDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schema").path
    }

    /// The application, with optional probe routes registered like generated operations.
    func application(
        maxJSONBytes: Int = 1 << 20, trustForwardedFor: Bool = false,
        probes: (Router<HTTPServer.Context>, RouteTable) throws -> Void = { _, _ in }
    ) throws -> some ApplicationProtocol {
        var configuration = HTTPServerConfiguration()
        configuration.maxJSONBodyBytes = maxJSONBytes
        configuration.trustForwardedFor = trustForwardedFor
        let sink = logs.sink
        let factory: @Sendable (String) -> any LogHandler = { label in JSONLogHandler(label: label, level: .trace, sink: sink) }
        let logger = Logger(label: "test", factory: factory)
        let router = try HTTPServer.makeRouter(configuration: configuration, services: services, logger: logger, registerMore: probes)
        return Application(router: router, logger: logger)
    }

    func close() { pool.close() }
}

/// Collects log lines written through ``JSONLogHandler``.
final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])
    var sink: JSONLogHandler.Sink { { line in self.storage.withLock { $0.append(line) } } }
    var lines: [String] { storage.withLock { $0 } }
}

import Synchronization

/// JSON helpers for API tests.
extension TestClientProtocol {
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil && headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func login(_ username: String, _ password: String) async throws -> String {
        let response = try await send(.post, "/api/v1/auth/login", json: #"{"username": "\#(username)", "password": "\#(password)"}"#)
        #expect(response.status == .ok, "login of \(username): \(String(buffer: response.body))")
        return try response.json()["token"] as? String ?? ""
    }
}

extension TestResponse {
    func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
    }

    func problem() throws -> Problem {
        #expect(headers[.contentType]?.hasPrefix("application/problem+json") == true, "not a problem: \(String(buffer: body))")
        return try JSONDecoder().decode(Problem.self, from: Data(body.readableBytesView))
    }

    var text: String { String(buffer: body) }
}
