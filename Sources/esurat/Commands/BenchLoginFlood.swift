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

/// Signing latency over HTTP alone and under a flood of parallel wrong logins (issue 16: a
/// few thousand anonymous logins must not stall signing). The flood is wrk with many
/// connections, each login for a random account from a random address (the server trusts
/// X-Forwarded-For here, as behind its proxy), so neither per-username nor per-address
/// limits stop it early: only the hashing gate and the counted attempts do.
struct BenchLoginFlood: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login-flood",
        abstract: "Signing latency alone and under N parallel wrong logins; the pool's fewest idle connections and most waiters.")

    @Option(name: .long, help: "Parallel flood connections (wrk).")
    var connections: Int = 2000

    @Option(name: .long, help: "Letters signed one after another in each phase.")
    var letters: Int = 30

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        LoggingBootstrap.once(level: .error)
        let logger = Logger(label: "esurat.bench")
        let (url, embedded) = try await database.resolve(logger: logger)
        var local = database
        local.databaseURL = url
        let runtime = try await Runtime.start(database: local, logger: logger)
        try await runtime.bootstrapAdmin()
        let pool = runtime.pool
        let services = runtime.httpServices(metrics: .init())

        // A head who drafts and signs (the head of the OPD may sign their own letter), with
        // letters waiting for the signature prepared before each phase.
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let office = try await BenchFixtures.signingHead(
            runtime, code: "BANJIR-\(tag)", unitName: "Dinas Uji Banjir", title: "Kepala Dinas Uji", username: "banjir.\(tag)",
            passphrase: "frasa-sandi-uji")
        let (head, signer, token) = (office.head, office.signer, office.token)
        let recipient: UUID = try await pool.query("SELECT id FROM units WHERE code = 'PEMDA'").single().decode("id")
        func waitingLetters() async throws -> [UUID] {
            var ids: [UUID] = []
            for _ in 0..<letters {
                let draft = LetterDraft(
                    type: "nota_dinas", subject: "Uji banjir login", classificationCode: "000.1", securityLevel: "biasa", urgency: "biasa",
                    body: "Isi nota dinas.", recipients: [(recipient, "to")], signerPositionID: head, reviewerPositionIDs: [])
                let letter = try await services.letters.create(draft, caller: signer, request: .local)
                _ = try await services.letters.submit(letter.id, caller: signer, request: .local)
                ids.append(letter.id)
            }
            return ids
        }

        let port = try EmbeddedPostgres.freeLoopbackPort()
        var http = HTTPServerConfiguration()
        http.port = port
        http.trustForwardedFor = true
        let app = try HTTPServer.makeApplication(configuration: http, services: services, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app)], logger: logger))
        let server = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(500))
        let api = API(base: "http://127.0.0.1:\(port)")

        /// Signs each letter over HTTP, one after another; the latencies in milliseconds.
        func sign(_ ids: [UUID]) async throws -> [Double] {
            var latencies: [Double] = []
            for id in ids {
                let started = ContinuousClock.now
                _ = try await api.post("/api/v1/letters/\(id.lowercasedString)/sign", token: token, json: #"{"passphrase": "frasa-sandi-uji"}"#)
                latencies.append((ContinuousClock.now - started).inSeconds * 1000)
            }
            return latencies
        }
        func describe(_ latencies: [Double]) -> String {
            let sorted = latencies.sorted()
            func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))] }
            return String(format: "p50 %.1f ms, p90 %.1f ms, max %.1f ms", at(0.5), at(0.9), sorted.last ?? 0)
        }

        print("esurat bench login-flood: \(letters) signatures alone, then under \(connections) parallel wrong logins (wrk), pool of \(pool.configuration.size)")
        _ = try await sign(try await waitingLetters())  // warm: the key cache, prepared statements
        let alone = try await sign(try await waitingLetters())
        print("  signing alone:        " + describe(alone))

        let prepared = try await waitingLetters()
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("esurat-bench-flood-\(tag).lua")
        try Self.floodScript.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let wrk = try WrkRun.executable()
        let floodSeconds = 20
        let flood = Task {
            try await ChildProcess.runDetached([
                wrk, "-t2", "-c\(connections)", "-d\(floodSeconds)s", "--timeout", "10s", "-s", script.path, "http://127.0.0.1:\(port)",
            ])
        }
        // The pool, sampled every 5 ms while the flood runs.
        let sampling = Task {
            var fewestIdle = Int.max, mostWaiting = 0
            while !Task.isCancelled {
                let (idle, waiting) = (pool.idleConnections, pool.waitingCallers)
                fewestIdle = min(fewestIdle, idle + (pool.configuration.size - pool.openConnections))
                mostWaiting = max(mostWaiting, waiting)
                try? await Task.sleep(for: .milliseconds(5))
            }
            return (fewestIdle, mostWaiting)
        }
        try await Task.sleep(for: .seconds(3))  // the flood at full strength
        let flooded = try await sign(prepared)
        let outcome = try await flood.value
        sampling.cancel()
        let (fewestFree, mostWaiting) = await sampling.value
        print("  signing under flood:  " + describe(flooded))
        let ratio = flooded.sorted()[flooded.count / 2] / max(0.001, alone.sorted()[alone.count / 2])
        print(String(format: "  p50 under flood / alone: %.2f× (goal ≤ 3×)", ratio))
        print("  pool: fewest free connections \(fewestFree) of \(pool.configuration.size), most callers waiting \(mostWaiting) (goal: never empty, none waiting)")
        let statuses = outcome.output.split(separator: "\n").first { $0.hasPrefix("STATUSES ") }.map { String($0.dropFirst(9)) } ?? outcome.output
        let rate = outcome.output.split(separator: "\n").first { $0.contains("Requests/sec") }.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        print("  flood answers: \(statuses); \(rate)")
        await group.triggerGracefulShutdown()
        _ = try? await server.value
        await runtime.shutdown()
        try? await embedded?.stop()
    }

    /// Wrong logins for one of 500 accounts from one of 16 million addresses; `done` prints
    /// "STATUSES 401=… 429=… …" over every thread.
    static let floodScript = """
        local threads = {}
        function setup(thread)
          table.insert(threads, thread)
        end
        c200, c401, c429, c503, cother = 0, 0, 0, 0, 0
        local n = 0
        function request()
          n = n + 1
          local ip = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
          local body = '{"username": "tebak' .. math.random(1, 500) .. '", "password": "salah-' .. n .. '"}'
          return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip }, body)
        end
        function response(status, headers, body)
          if status == 401 then c401 = c401 + 1
          elseif status == 429 then c429 = c429 + 1
          elseif status == 503 then c503 = c503 + 1
          elseif status == 200 then c200 = c200 + 1
          else cother = cother + 1 end
        end
        function done(summary, latency, requests)
          local t = { c200 = 0, c401 = 0, c429 = 0, c503 = 0, cother = 0 }
          for _, thread in ipairs(threads) do
            for name, _ in pairs(t) do t[name] = t[name] + thread:get(name) end
          end
          io.write(string.format("STATUSES 401=%d 429=%d 503=%d 200=%d other=%d\\n", t.c401, t.c429, t.c503, t.c200, t.cother))
        end
        """
}
