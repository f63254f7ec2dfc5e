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

        // Dinas of their own, each with a head (signer), a Kabid (reviewer) and a Kasubag TU
        // (drafter): as many as there are clients, and the clients run once all in the first
        // one, once each in its own. A unit's signings queue on its letter-number row (the
        // numbers are gapless), so one unit measures that queue; a Kabupaten's 61 OPDs sign
        // side by side.
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let pool = runtime.pool
        let recipient: UUID = try await pool.query("SELECT id FROM units WHERE code = 'PEMDA'").single().decode("id")
        let password = "bench-\(tag)-password"
        var dinas: [(unit: UUID, head: UUID, kabid: UUID)] = []
        for index in 0..<clients {
            let unit: UUID = try await pool.query(
                "INSERT INTO units (code, name, kind) VALUES ($1, $2, 'opd') RETURNING id", ["BENCH-\(tag)-\(index)", "Dinas Uji Beban \(index + 1)"]
            ).single().decode("id")
            let head: UUID = try await pool.query("INSERT INTO positions (unit_id, title, is_head) VALUES ($1, 'Kepala Dinas Uji', true) RETURNING id", [unit]).single().decode("id")
            let kabid: UUID = try await pool.query("INSERT INTO positions (unit_id, title, superior_id) VALUES ($1, 'Kepala Bidang', $2) RETURNING id", [unit, head]).single().decode("id")
            let tu: UUID = try await pool.query("INSERT INTO positions (unit_id, title, superior_id) VALUES ($1, 'Kasubag TU', $2) RETURNING id", [unit, kabid]).single().decode("id")
            _ = try await runtime.organisation.insertUserForBenchmark(username: "bench.\(tag).\(index).tu", password: password, unitID: unit, roles: [.clerk, .official], positionID: tu)
            _ = try await runtime.organisation.insertUserForBenchmark(username: "bench.\(tag).\(index).kabid", password: password, unitID: unit, roles: [.official], positionID: kabid)
            _ = try await runtime.organisation.insertUserForBenchmark(
                username: "bench.\(tag).\(index).kadis", password: password, unitID: unit, roles: [.official], positionID: head, nip: BenchFixtures.randomNIP())
            dinas.append((unit, head, kabid))
        }

        let port = try EmbeddedPostgres.freeLoopbackPort()
        var http = HTTPServerConfiguration()
        http.port = port
        let app = try HTTPServer.makeApplication(configuration: http, services: runtime.httpServices(metrics: PrometheusCollectorRegistry()), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app)], logger: logger))
        let server = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(500))
        let api = API(base: "http://127.0.0.1:\(port)")
        var actors: [WrkActors] = []
        for (index, office) in dinas.enumerated() {
            let signer = try await api.login("bench.\(tag).\(index).kadis", password)
            _ = try await api.post("/api/v1/me/signing-key", token: signer, json: #"{"passphrase": "frasa-sandi-uji", "password": "\#(password)"}"#)
            actors.append(WrkActors(
                drafter: try await api.login("bench.\(tag).\(index).tu", password), reviewer: try await api.login("bench.\(tag).\(index).kabid", password), signer: signer,
                draft: #"{"type": "nota_dinas", "subject": "Uji beban", "classificationCode": "000.1", "securityLevel": "biasa", "urgency": "biasa", "body": "Isi nota dinas untuk uji beban.", "recipients": [{"unitId": "\#(recipient.lowercasedString)", "role": "to"}], "signerPositionId": "\#(office.head.lowercasedString)", "reviewerPositionIds": ["\#(office.kabid.lowercasedString)"]}"#))
        }

        // The clients are wrk connections driven by a Lua script, one connection per wrk
        // thread so each keeps its own letter's state: a client in this process (URLSession)
        // cost more CPU than the server it measured on these two cores.
        let wrk = try WrkRun.executable()
        print("esurat bench letters: \(clients) clients, \(seconds) s each, draft → submit → approve → sign over HTTP (wrk + Lua)")
        var rates: [(label: String, rate: Double)] = []
        for (label, offices) in [("all in one unit", [actors[0]]), ("each in a unit of its own", actors)] {
            let script = FileManager.default.temporaryDirectory.appendingPathComponent("esurat-bench-letters-\(tag).lua")
            try Self.wrkScript(offices, passphrase: "frasa-sandi-uji").write(to: script, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: script) }
            let outcome = try await ChildProcess.runDetached(
                [wrk, "-t\(clients)", "-c\(clients)", "-d\(seconds)s", "-s", script.path, "http://127.0.0.1:\(port)"])
            let summary = outcome.output.split(separator: "\n").first { $0.hasPrefix("LETTERS ") }?.split(separator: " ") ?? []
            guard summary.count == 4, let letters = Int(summary[1]), let failures = Int(summary[2]), let elapsed = Double(summary[3]) else {
                throw ValidationError("wrk printed no letter count: \(outcome.output)")
            }
            guard failures == 0 else { throw ValidationError("\(failures) requests failed during the run: \(outcome.output)") }
            rates.append((label, Double(letters) / elapsed))
            // wrk's own count of requests that got no answer in 2 s (it says nothing when none).
            let stalled = outcome.output.split(separator: "\n").first { $0.contains("Socket errors:") }.map { "; wrk:" + $0.split(separator: ":", maxSplits: 1)[1] } ?? ""
            print("  \(label): " + String(format: "%.1f letters/s (%d in %.1f s)", Double(letters) / elapsed, letters, elapsed) + stalled)
        }
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
        let tpcb = try await ChildProcess.runDetached([pgbench, "-n", "-c", "\(clients)", "-j", "2", "-T", "\(seconds)", tpcbURL])
        let tps = tpcb.output.split(separator: "\n").first { $0.hasPrefix("tps = ") }.flatMap { Double($0.dropFirst(6).prefix { $0 != " " }) } ?? 0
        print(String(format: "  pgbench TPC-B (scale 10, %d clients): %.0f tps", clients, tps))
        for (label, rate) in rates {
            print("  ratio, \(label): " + String(format: "%.3f×", tps > 0 ? rate / tps : 0))
        }
        await runtime.shutdown()
        try? await embedded?.stop()
    }
}

extension BenchLetters {
    /// Who acts in one Dinas, and the draft its clerk sends.
    struct WrkActors {
        var drafter, reviewer, signer, draft: String
    }

    /// One letter at a time per connection: create, submit, approve, sign; the id comes from
    /// the create answer. Connection k works in Dinas k modulo their number. `done` prints
    /// "LETTERS signed failures seconds".
    static func wrkScript(_ offices: [WrkActors], passphrase: String) -> String {
        let table = offices.map {
            "{ drafter = \"\($0.drafter)\", reviewer = \"\($0.reviewer)\", signer = \"\($0.signer)\", draft = [==[\($0.draft)]==] }"
        }.joined(separator: ",\n  ")
        return """
        local offices = {
          \(table)
        }
        local sign = [==[{"passphrase": "\(passphrase)"}]==]
        local approve = [==[{"decision": "approve"}]==]
        local drafter, reviewer, signer, draft
        office = 1
        function init(args)
          local chosen = offices[(office - 1) % #offices + 1]
          drafter, reviewer, signer, draft = chosen.drafter, chosen.reviewer, chosen.signer, chosen.draft
        end
        local step, id = 0, nil
        signed, failures = 0, 0
        local threads = {}
        function setup(thread)
          table.insert(threads, thread)
          thread:set("office", #threads)
        end
        local function post(path, token, body)
          local headers = { ["Authorization"] = "Bearer " .. token }
          if body then headers["Content-Type"] = "application/json" end
          return wrk.format("POST", path, headers, body)
        end
        function request()
          if step == 0 then return post("/api/v1/letters", drafter, draft)
          elseif step == 1 then return post("/api/v1/letters/" .. id .. "/submit", drafter, nil)
          elseif step == 2 then return post("/api/v1/letters/" .. id .. "/review", reviewer, approve)
          else return post("/api/v1/letters/" .. id .. "/sign", signer, sign) end
        end
        function response(status, headers, body)
          if status >= 300 then
            failures = failures + 1
            io.stderr:write("HTTP " .. status .. " at step " .. step .. ": " .. body .. "\\n")
            step = 0
            return
          end
          if step == 0 then
            id = string.match(body, '"id"%s*:%s*"([%x%-]+)"')
            step = 1
          elseif step == 3 then
            signed = signed + 1
            step = 0
          else
            step = step + 1
          end
        end
        function done(summary, latency, requests)
          local total, failed = 0, 0
          for _, thread in ipairs(threads) do
            total = total + thread:get("signed")
            failed = failed + thread:get("failures")
          end
          io.write(string.format("LETTERS %d %d %.3f\\n", total, failed, summary.duration / 1e6))
        end
        """
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
