import ArgumentParser
import EsuratDomain
import EsuratHTTP
import EsuratPostgres
import EsuratServices
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Prometheus
import ServiceLifecycle

/// Letters/s through the HTTP API along draft → submit → approve → sign, beside pgbench's
/// TPC-B on the same cluster.
struct BenchLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "letters",
        abstract: "Letters/s through the HTTP API (draft, submit, approve, sign) with N clients, beside pgbench TPC-B tps.")

    @Option(name: .long, help: "Concurrent clients (and pgbench clients).")
    var clients: Int = 8

    @Option(name: .long, help: "Seconds per measurement.")
    var seconds: Int = 10

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        LoggingBootstrap.once(level: .warning)
        let logger = Logger(label: "esurat.bench")
        let (url, embedded) = try await database.resolve(logger: logger)
        var local = database
        local.databaseURL = url
        let runtime = try await Runtime.start(database: local, logger: logger)
        try await runtime.bootstrapAdmin()

        // A Dinas of its own: head (signer), Kabid (reviewer), Kasubag TU (drafter).
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let pool = runtime.pool
        let unit: UUID = try await pool.query("INSERT INTO units (code, name, kind) VALUES ($1, $2, 'opd') RETURNING id", ["BENCH-\(tag)", "Dinas Uji Beban"]).single().decode("id")
        let recipient: UUID = try await pool.query("SELECT id FROM units WHERE code = 'PEMDA'").single().decode("id")
        let head: UUID = try await pool.query("INSERT INTO positions (unit_id, title, is_head) VALUES ($1, 'Kepala Dinas Uji', true) RETURNING id", [unit]).single().decode("id")
        let kabid: UUID = try await pool.query("INSERT INTO positions (unit_id, title, superior_id) VALUES ($1, 'Kepala Bidang', $2) RETURNING id", [unit, head]).single().decode("id")
        let tu: UUID = try await pool.query("INSERT INTO positions (unit_id, title, superior_id) VALUES ($1, 'Kasubag TU', $2) RETURNING id", [unit, kabid]).single().decode("id")
        let password = "bench-\(tag)-password"
        _ = try await runtime.organisation.insertUserForBenchmark(username: "bench.\(tag).tu", password: password, unitID: unit, roles: [.clerk, .official], positionID: tu)
        _ = try await runtime.organisation.insertUserForBenchmark(username: "bench.\(tag).kabid", password: password, unitID: unit, roles: [.official], positionID: kabid)
        _ = try await runtime.organisation.insertUserForBenchmark(username: "bench.\(tag).kadis", password: password, unitID: unit, roles: [.official], positionID: head, nip: "198001012005011001")

        let port = try EmbeddedPostgres.freeLoopbackPort()
        var http = HTTPServerConfiguration()
        http.port = port
        let app = try HTTPServer.makeApplication(configuration: http, services: runtime.httpServices(metrics: PrometheusCollectorRegistry()), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app)], logger: logger))
        let server = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(500))
        let api = API(base: "http://127.0.0.1:\(port)")
        let drafter = try await api.login("bench.\(tag).tu", password)
        let reviewer = try await api.login("bench.\(tag).kabid", password)
        let signer = try await api.login("bench.\(tag).kadis", password)
        _ = try await api.post("/api/v1/me/signing-key", token: signer, json: #"{"passphrase": "frasa-sandi-uji"}"#)
        let draft = #"{"type": "nota_dinas", "subject": "Uji beban", "classificationCode": "000.1", "securityLevel": "biasa", "urgency": "biasa", "body": "Isi nota dinas untuk uji beban.", "recipients": [{"unitId": "\#(recipient.uuidString.lowercased())", "role": "to"}], "signerPositionId": "\#(head.uuidString.lowercased())", "reviewerPositionIds": ["\#(kabid.uuidString.lowercased())"]}"#

        print("esurat bench letters: \(clients) clients, \(seconds) s, draft → submit → approve → sign over HTTP")
        let started = ContinuousClock.now
        let deadline = started + .seconds(seconds)
        let letters = try await withThrowingTaskGroup(of: Int.self) { tasks in
            for _ in 0..<clients {
                tasks.addTask {
                    var done = 0
                    while ContinuousClock.now < deadline {
                        let id = try await api.post("/api/v1/letters", token: drafter, json: draft)["id"] as? String ?? ""
                        _ = try await api.post("/api/v1/letters/\(id)/submit", token: drafter)
                        _ = try await api.post("/api/v1/letters/\(id)/review", token: reviewer, json: #"{"decision": "approve"}"#)
                        let signed = try await api.post("/api/v1/letters/\(id)/sign", token: signer, json: #"{"passphrase": "frasa-sandi-uji"}"#)
                        guard signed["number"] != nil else { throw ValidationError("signing failed: \(signed)") }
                        done += 1
                    }
                    return done
                }
            }
            return try await tasks.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - started
        let rate = Double(letters) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        await group.triggerGracefulShutdown()
        _ = try? await server.value

        // pgbench TPC-B on a database of its own in the same cluster.
        let pgbench = try EmbeddedPostgres(configuration: .init(directory: "/nonexistent"), logger: logger).binary("pgbench")
        if try await pool.query("SELECT 1 FROM pg_database WHERE datname = 'esurat_tpcb'").isEmpty {
            try await pool.withConnection { try await $0.runScript("CREATE DATABASE esurat_tpcb") }
        }
        guard var components = URLComponents(string: url) else { throw ValidationError("cannot read the database URL") }
        components.path = "/esurat_tpcb"
        let tpcbURL = components.string ?? url
        _ = try await ChildProcess.runDetached([pgbench, "-i", "-q", "-s", "10", tpcbURL])
        let outcome = try await ChildProcess.runDetached([pgbench, "-n", "-c", "\(clients)", "-j", "2", "-T", "\(seconds)", tpcbURL])
        let tps = outcome.output.split(separator: "\n").first { $0.hasPrefix("tps = ") }.flatMap { Double($0.dropFirst(6).prefix { $0 != " " }) } ?? 0
        print(String(format: "letters: %.1f/s (%d in %.1f s); pgbench TPC-B (scale 10): %.0f tps; ratio %.3f×", rate, letters, Double(elapsed.components.seconds), tps, tps > 0 ? rate / tps : 0))
        await runtime.shutdown()
        try? await embedded?.stop()
    }
}

/// A small JSON client over URLSession.
struct API: Sendable {
    let base: String

    func login(_ username: String, _ password: String) async throws -> String {
        let body = try await post("/api/v1/auth/login", token: nil, json: #"{"username": "\#(username)", "password": "\#(password)"}"#)
        guard let token = body["token"] as? String else { throw ValidationError("login of \(username) failed: \(body)") }
        return token
    }

    func post(_ path: String, token: String?, json: String? = nil) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else { throw ValidationError("POST \(path) answered \(status): \(String(decoding: data, as: UTF8.self))") }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}
