import ArgumentParser
import EsuratDomain
import EsuratHTTP
import EsuratPostgres
import EsuratServices
import Foundation
import Logging
import Prometheus

/// The dispatch worker's drain rate with 1, 2, 4… `esurat worker` processes, beside PyPI
/// pgqueuer draining the same number of no-op jobs on the same cluster; then sign → inbox
/// latency on an idle system.
struct BenchDispatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Deliveries/s draining a queue with 1, 2 and 4 worker processes, beside pgqueuer; sign → inbox latency p50/p99.")

    @Option(name: .long, help: "Deliveries queued per run (letters × 61 recipient units).")
    var deliveries: Int = 50_000

    @Option(name: .long, help: "Worker process counts to measure, comma-separated.")
    var workers: String = "1,2,4"

    @Option(name: .long, help: "Deliveries a worker claims at once.")
    var batchSize: Int = DispatchWorker.Configuration().batchSize

    @Option(name: .long, help: "Batches each worker process has in flight (esurat worker --concurrency).")
    var concurrency: Int = DispatchWorker.Configuration().concurrency

    @Option(name: .long, help: "Letters signed one at a time for the latency figures.")
    var latencySamples: Int = 200

    @Option(name: .long, help: "Times to repeat the drains of every worker count, esurat's and pgqueuer's in turn.")
    var rounds: Int = 1

    @Flag(name: .long, help: "Do not run the pgqueuer comparison (it needs python3-venv and PyPI).")
    var skipPgqueuer = false

    @OptionGroup var database: DatabaseOptions

    /// The Kabupaten in the issue: 61 OPDs receive each letter.
    static let recipientUnits = 61

    func run() async throws {
        LoggingBootstrap.once(level: .warning)
        let logger = Logger(label: "esurat.bench")
        let counts = workers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ (1...32).contains($0) }) else { throw ValidationError("--workers: counts from 1 to 32, e.g. 1,2,4") }
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds: from 1 to 20") }
        let (url, embedded) = try await database.resolve(logger: logger)
        var local = database
        local.databaseURL = url
        let runtime = try await Runtime.start(database: local, logger: logger)
        try await runtime.bootstrapAdmin()
        let pool = runtime.pool
        let services = runtime.httpServices(metrics: .init())

        // A sending Dinas with a head who signs, and 61 receiving units.
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let sender = try await BenchFixtures.signingHead(
            runtime, code: "KIRIM-\(tag)", unitName: "Dinas Uji Kirim", title: "Kepala Dinas Uji Kirim", username: "kirim.\(tag)",
            passphrase: "frasa-sandi-uji")
        let (head, signer) = (sender.head, sender.signer)
        let recipients: [UUID] = try await pool.query(
            """
            INSERT INTO units (code, name, kind) SELECT 'TERIMA-' || $1 || '-' || g, 'Dinas Penerima ' || g, 'opd' FROM generate_series(1, $2) g RETURNING id
            """, [tag, Self.recipientUnits]).map { try $0.decode("id") }

        func signLetter(to units: [UUID]) async throws -> UUID {
            let draft = LetterDraft(
                type: "surat_edaran", subject: "Uji pengiriman", classificationCode: "000.1", securityLevel: "biasa", urgency: "segera",
                body: "Surat edaran untuk uji pengiriman.", recipients: units.map { ($0, "to") }, signerPositionID: head, reviewerPositionIDs: [])
            let letter = try await services.letters.create(draft, caller: signer, request: .local)
            _ = try await services.letters.submit(letter.id, caller: signer, request: .local)
            _ = try await services.letters.sign(letter.id, passphrase: "frasa-sandi-uji", caller: signer, request: .local)
            return letter.id
        }
        // One real signed letter to all 61; the runs queue copies of it.
        let template = try await signLetter(to: recipients)
        try await pool.query("UPDATE deliveries SET state = 'delivered', lease_owner = NULL, lease_expires_at = NULL WHERE letter_id = $1", [template])

        let esurat = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        // Latency first, while the system is idle: one worker in-process, one letter at a time to
        // one unit. The worker tells when the letter's inbox entry has committed. (Looking for the
        // entry every 0.2 ms instead kept a core of the two busy with the looking.)
        let (committed, delivered) = AsyncStream.makeStream(of: DispatchWorker.Delivered.self)
        var workerConfiguration = DispatchWorker.Configuration()
        workerConfiguration.onDelivered = { for delivery in $0 { delivered.yield(delivery) } }
        let worker = DispatchWorker(pool: pool, evidence: (runtime.pki, runtime.blocking), configuration: workerConfiguration, logger: logger)
        var inboxed = committed.makeAsyncIterator()
        let running = Task { try await worker.run() }
        try await Task.sleep(for: .milliseconds(300))
        var signing: [Double] = [], dispatch: [Double] = []
        let clock = ContinuousClock()
        // One letter first, unmeasured: the worker's LISTEN connection may still be starting,
        // and that letter would wait for the poll instead of the notification.
        for index in -1..<latencySamples {
            let draft = LetterDraft(
                type: "nota_dinas", subject: "Uji latensi \(index)", classificationCode: "000.1", securityLevel: "biasa", urgency: "biasa",
                body: "Isi.", recipients: [(recipients[(index + recipients.count) % recipients.count], "to")], signerPositionID: head, reviewerPositionIDs: [])
            let letter = try await services.letters.create(draft, caller: signer, request: .local)
            _ = try await services.letters.submit(letter.id, caller: signer, request: .local)
            let before = clock.now
            _ = try await services.letters.sign(letter.id, passphrase: "frasa-sandi-uji", caller: signer, request: .local)
            let signed = clock.now
            // Told only of this worker's deliveries: should another worker drain this database,
            // the wait ends with an error instead of never.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(30))
                delivered.finish()
            }
            while true {
                guard let delivery = await inboxed.next() else {
                    throw ValidationError("letter \(letter.id) was not delivered by the benchmark's worker within 30 s: does another worker drain this database?")
                }
                if delivery.letter == letter.id { break }
            }
            watchdog.cancel()
            if index < 0 { continue }
            signing.append((signed - before).inSeconds * 1000)
            dispatch.append((clock.now - before).inSeconds * 1000)
        }
        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }
        let latencyLine = (String(format: "  sign → inbox (idle, %d letters): p50 %.1f ms, p99 %.1f ms (the signing request alone: p50 %.1f ms, p99 %.1f ms)",
                     latencySamples, percentile(dispatch, 0.5), percentile(dispatch, 0.99), percentile(signing, 0.5), percentile(signing, 0.99)))
        running.cancel()
        _ = try? await running.value
        delivered.finish()
        print("esurat bench dispatch: \(deliveries) deliveries per run (\(Self.recipientUnits) recipient units per letter), batch \(batchSize), \(concurrency) batches in flight per worker")
        print(latencyLine)
        var sequenceOffset = 1_000_000
        /// esurat's drain of a fresh queue with `count` worker processes: deliveries/s.
        func drainWithEsurat(_ count: Int) async throws -> Double {
            try await Self.quiesce(pool)
            let started = Date()
            let processes = try (0..<count).map { _ in try Self.startWorker(esurat, url: url, dataDir: database.dataDir, batchSize: batchSize, concurrency: concurrency) }
            defer { for process in processes where process.isRunning { process.terminate() } }
            // Ready when each has beaten its first heartbeat.
            while try await pool.query("SELECT count(*) AS n FROM dispatch_workers WHERE stopped_at IS NULL AND started_at >= $1", [started]).single().decode("n", as: Int.self) < count {
                guard processes.allSatisfy(\.isRunning) else { throw ValidationError("a worker process exited early") }
                try await Task.sleep(for: .milliseconds(100))
            }
            // The queue is written and analysed before the clock starts, as pgqueuer's is: its
            // deliveries fall due a few seconds ahead, the workers see nothing until then, and
            // the clock starts at that moment with a NOTIFY to wake them.
            let letters = (deliveries + Self.recipientUnits - 1) / Self.recipientUnits
            let (clones, due) = try await Self.queueCopies(
                of: template, letters: letters, to: recipients, sequenceOffset: sequenceOffset, dueIn: queueLead, pool: pool)
            sequenceOffset += letters
            try await Self.analyse(pool)
            let wait: Double = try await pool.query(
                "SELECT extract(epoch FROM $1::timestamptz - clock_timestamp())::float8 AS s, pg_sleep(greatest(0, extract(epoch FROM $1::timestamptz - clock_timestamp()))) AS slept",
                [due]).single().decode("s")
            guard wait > 0 else { throw ValidationError("analysing the queue took longer than its \(queueLead) lead") }
            let clock = ContinuousClock()
            let queuedAt = clock.now
            let busyBefore = MachineCPU.busySeconds()
            try await pool.query("SELECT pg_notify('deliveries', '')")
            let total = clones.count * recipients.count
            // Drained when every copy is delivered: a letter turns delivered in the transaction
            // that delivers to its last recipient. Looked at every 20 ms, only among the copies
            // not seen delivered yet, so the looking costs the run little.
            var undelivered = clones
            while !undelivered.isEmpty {
                undelivered = try await pool.query("SELECT id FROM letters WHERE id = ANY($1) AND status <> 'delivered'", [undelivered]).map { try $0.decode("id") }
                if undelivered.isEmpty { break }
                guard processes.allSatisfy(\.isRunning) else { throw ValidationError("a worker process died during the run") }
                try await Task.sleep(for: .milliseconds(20))
            }
            let elapsed = (clock.now - queuedAt).inSeconds
            let busy = MachineCPU.busySeconds().map { now in busyBefore.map { now - $0 } } ?? nil
            guard processes.allSatisfy(\.isRunning) else { throw ValidationError("a worker process died during the run") }
            let left: Int = try await pool.query(
                "SELECT count(*) AS n FROM deliveries WHERE letter_id = ANY($1) AND state <> 'delivered'", [clones]).single().decode("n")
            guard left == 0 else { throw ValidationError("\(left) deliveries not delivered") }
            let inboxed: Int = try await pool.query("SELECT count(*) AS n FROM inbox_entries WHERE letter_id = ANY($1)", [clones]).single().decode("n")
            guard inboxed == total else { throw ValidationError("\(inboxed) inbox entries for \(total) deliveries") }
            for process in processes { process.terminate() }
            for process in processes { process.waitUntilExit() }
            print(String(format: "  esurat worker ×%d: %d deliveries in %.2f s = %.0f deliveries/s (each with its inbox entry and signed evidence; audited per letter and batch)%@",
                         count, total, elapsed, Double(total) / elapsed,
                         busy.map { String(format: "; %.0f µs of CPU per delivery, all processes", $0 / Double(total) * 1e6) } ?? ""))
            try await pool.withConnection { try await $0.runScript("VACUUM ANALYZE deliveries") }
            return Double(total) / elapsed
        }

        var pgqueuer: (python: String, script: String, url: String)?
        if !skipPgqueuer {
            let python = try await Self.pgqueuerPython(dataDir: database.dataDir)
            guard let script = Self.pgqueuerScript() else { throw ValidationError("deploy/bench/pgqueuer_drain.py not found") }
            if try await pool.query("SELECT 1 FROM pg_database WHERE datname = 'esurat_pgqueuer'").isEmpty {
                try await pool.withConnection { try await $0.runScript("CREATE DATABASE esurat_pgqueuer") }
            }
            guard var components = URLComponents(string: url) else { throw ValidationError("cannot read the database URL") }
            components.path = "/esurat_pgqueuer"
            pgqueuer = (python, script, components.string ?? url)
        }
        /// pgqueuer's drain of `deliveries` no-op jobs with `count` worker processes: jobs/s.
        func drainWithPgqueuer(_ count: Int, _ pgqueuer: (python: String, script: String, url: String)) async throws -> Double {
            try await Self.quiesce(pool)
            let outcome = try await ChildProcess.runDetached([pgqueuer.python, pgqueuer.script, pgqueuer.url, "\(deliveries)", "\(count)", "10"])
            guard let line = outcome.output.split(separator: "\n").first(where: { $0.hasPrefix("PGQUEUER ") }) else {
                throw ValidationError("pgqueuer printed no result: \(outcome.output)")
            }
            let fields = line.split(separator: " ")
            guard fields.count == 5, let seconds = Double(fields[3]), let done = Int(fields[4]), done == deliveries else {
                throw ValidationError("pgqueuer did not drain its queue: \(line)")
            }
            return Double(deliveries) / seconds
        }

        // Each worker count's two drains run back to back, so that the ratio compares figures
        // taken minutes apart at most: this host's speed drifts by a quarter within an hour.
        var ratios: [Int: [Double]] = [:]
        for round in 1...rounds {
            if rounds > 1 { print("  round \(round) of \(rounds)") }
            for count in counts {
                let ours = try await drainWithEsurat(count)
                guard let pgqueuer else { continue }
                let theirs = try await drainWithPgqueuer(count, pgqueuer)
                ratios[count, default: []].append(ours / theirs)
                print(String(format: "  pgqueuer ×%d (no-op jobs, batch 10): %d jobs in %.2f s = %.0f jobs/s; esurat/pgqueuer = %.2f×",
                             count, deliveries, Double(deliveries) / theirs, theirs, ours / theirs))
            }
        }
        if rounds > 1, !ratios.isEmpty {
            print("  esurat/pgqueuer by worker count, each round's ratio (median): " + counts.map { count in
                let each = (ratios[count] ?? []).sorted()
                let median = each.isEmpty ? 0 : (each[(each.count - 1) / 2] + each[each.count / 2]) / 2
                return String(format: "×%d %@ (%.2f×)", count, each.map { String(format: "%.2f", $0) }.joined(separator: ", "), median)
            }.joined(separator: "; "))
        }

        await runtime.shutdown()
        try? await embedded?.stop()
    }

    /// Each measurement starts on a quiet cluster: a checkpoint writes out what the previous
    /// run dirtied, and autovacuum of its tables finishes first, so neither lands in the
    /// next run (the runs take turns on the same two cores: each worker count, esurat then pgqueuer).
    static func quiesce(_ pool: PostgresPool) async throws {
        try await pool.withConnection { try await $0.runScript("CHECKPOINT") }
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let busy: Int = try await pool.query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND state = 'active'").single().decode("n")
            if busy == 0 { return }
            try await Task.sleep(for: .milliseconds(250))
        }
    }


    static func startWorker(_ esurat: String, url: String, dataDir: String, batchSize: Int, concurrency: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: esurat)
        process.arguments = ["worker", "--database-url", url, "--data-dir", dataDir, "--pool-size", "4", "--batch-size", "\(batchSize)", "--concurrency", "\(concurrency)", "--log-level", "warning"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// How far ahead of its writing a run's queue falls due: time to analyse it first.
    var queueLead: Duration { .seconds(2) + .milliseconds(deliveries / 20) }

    /// Queues `letters` copies of the signed template (document and signature included),
    /// each to every recipient, in one statement, due `dueIn` from now: the workers see the
    /// whole queue at once. Returns the copies and the moment they fall due.
    static func queueCopies(
        of template: UUID, letters: Int, to recipients: [UUID], sequenceOffset: Int, dueIn: Duration, pool: PostgresPool
    ) async throws -> (letters: [UUID], due: Date) {
        let rows = try await pool.query(
            """
            WITH copies AS (
                INSERT INTO letters (unit_id, drafter_user_id, drafter_position_id, type, subject, classification_code, security_level, urgency,
                                     body, status, version, workflow_id, workflow_state, number, number_year, number_sequence, signed_at, pending_deliveries)
                SELECT unit_id, drafter_user_id, drafter_position_id, type, subject, classification_code, security_level, urgency,
                       body, status, version, workflow_id, workflow_state, number || '-' || g, number_year, $3 + g, signed_at, cardinality($4::uuid[])
                FROM letters, generate_series(1, $2) g WHERE id = $1
                RETURNING id),
            documents AS (
                INSERT INTO letter_documents (letter_id, document, signature, certificate_serial, signer_user_id, signer_position_id, signer_capacity, signed_at)
                SELECT copies.id, d.document, d.signature, d.certificate_serial, d.signer_user_id, d.signer_position_id, d.signer_capacity, d.signed_at
                FROM copies, letter_documents d WHERE d.letter_id = $1),
            queued AS (
                -- A letter's deliveries together, as signing writes them.
                INSERT INTO deliveries (letter_id, recipient_unit_id, role, next_attempt_at)
                SELECT copies.id, r.id, 'to', now() + make_interval(secs => $5)
                FROM copies, unnest($4::uuid[]) WITH ORDINALITY AS r(id, n) ORDER BY copies.id, r.n)
            SELECT id, now() + make_interval(secs => $5) AS due FROM copies
            """, [template, letters, sequenceOffset, recipients, dueIn.inSeconds])
        guard let due = try rows.first?.decode("due", as: Date.self) else { throw ValidationError("no copies were queued") }
        return (try rows.map { try $0.decode("id") }, due)
    }

    /// Fresh planner statistics for what the workers read and write: both sides of the comparison start from a queue
    /// the planner knows, as a queue in service does. Without them a plan depends on whether
    /// autovacuum's analyse happens to run during the measurement.
    static func analyse(_ pool: PostgresPool) async throws {
        try await pool.withConnection {
            try await $0.runScript("ANALYZE deliveries, letters, letter_documents, units, inbox_entries, delivery_evidence, audit_events")
        }
    }

    /// A virtualenv with pgqueuer under the data directory, made on first use.
    static func pgqueuerPython(dataDir: String) async throws -> String {
        let venv = URL(fileURLWithPath: dataDir).standardizedFileURL.appendingPathComponent("bench-venv").path
        let python = venv + "/bin/python"
        if !FileManager.default.isExecutableFile(atPath: python) {
            let made = try await ChildProcess.runDetached(["/usr/bin/python3", "-m", "venv", venv])
            guard made.status == 0 else { throw ValidationError("python3 -m venv failed (apt-get install -y python3-venv): \(made.output)") }
        }
        let installed = try await ChildProcess.runDetached([python, "-m", "pip", "install", "--quiet", "pgqueuer==1.6.0", "asyncpg"])
        guard installed.status == 0 else { throw ValidationError("pip install pgqueuer failed: \(installed.output)") }
        return python
    }

    static func pgqueuerScript() -> String? {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [FileManager.default.currentDirectoryPath + "/deploy/bench/pgqueuer_drain.py"]
        var directory = binary.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("deploy/bench/pgqueuer_drain.py").path)
            directory = directory.deletingLastPathComponent()
        }
        return candidates.first(where: FileManager.default.fileExists(atPath:))
    }
}

/// The whole machine's busy CPU time (every process, user and system), from /proc/stat: what
/// a run costs, which the host's speed of the hour changes less than its rate.
enum MachineCPU {
    static func busySeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        // user nice system idle iowait irq softirq steal …: busy is all but idle and iowait.
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return nil }
        let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
