import EsuratPostgres
import EsuratTestSupport
import Foundation
import Logging
import Testing

/// `esurat worker` processes killed with SIGKILL at random moments and restarted until the
/// queue is empty: every recipient must hold every letter exactly once.
@Suite struct WorkerCrashTests {
    @Test func tenThousandDeliveriesSurviveKilledWorkers() async throws {
        try await HeavyTests.oneAtATime { try await soak() }
    }

    func soak() async throws {
        let pool = try await TestCluster.freshDatabase(poolSize: 4)
        defer { pool.close() }
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schema").path
        try await Migrator(directory: schema).migrate(pool, logger: Logger(label: "test"))
        let schemaDirectory = schema

        // 2,500 signed letters to 4 units: 10,000 deliveries, written straight into the tables.
        let sender: UUID = try await pool.query("INSERT INTO units (code, name, kind) VALUES ('SENDER', 'Pengirim', 'opd') RETURNING id").single().decode("id")
        let drafter: UUID = try await pool.query(
            "INSERT INTO users (username, full_name, password_hash, roles, unit_id) VALUES ('drafter', 'Drafter', 'x', '{clerk}', $1) RETURNING id", [sender]).single().decode("id")
        var units: [UUID] = []
        for n in 0..<4 {
            units.append(try await pool.query("INSERT INTO units (code, name, kind) VALUES ($1, $2, 'opd') RETURNING id", ["U\(n)", "Unit \(n)"]).single().decode("id"))
        }
        let state = #"{"status":"signed","route":[],"escalated":false,"drafterUserID":"\#(drafter.uuidString)"}"#
        try await pool.query(
            """
            WITH l AS (
                INSERT INTO letters (unit_id, drafter_user_id, type, subject, classification_code, security_level, urgency, body, status, workflow_state,
                                     pending_deliveries)
                SELECT $1, $2, 'nota_dinas', 'Uji ' || g, '000', 'biasa', 'biasa', '', 'signed', $3::jsonb, cardinality($4::uuid[]) FROM generate_series(1, 2500) g
                RETURNING id)
            INSERT INTO deliveries (letter_id, recipient_unit_id, role) SELECT l.id, u, 'to' FROM l, unnest($4::uuid[]) u
            """, [sender, drafter, state, units])
        #expect(try await pool.query("SELECT count(*) AS n FROM deliveries").single().decode("n", as: Int.self) == 10_000)

        let esurat = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("esurat").path
        let url = pool.configuration.connectionString
        func start() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: esurat)
            // Short leases, so a killed worker's deliveries come back quickly.
            process.arguments = ["worker", "--schema-dir", schemaDirectory, "--pool-size", "4", "--lease-seconds", "2", "--batch-size", "25", "--log-level", "error"]
            process.environment = ProcessInfo.processInfo.environment.merging(["ESURAT_DATABASE_URL": url, "ESURAT_PKI_PASSPHRASE": "frasa-sandi-pki-uji-crash"]) { $1 }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        var workers = [try start(), try start()]
        var kills = 0
        let deadline = ContinuousClock.now + .seconds(240)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...600)))
            let remaining: Int = try await pool.query("SELECT count(*) AS n FROM deliveries WHERE state <> 'delivered'").single().decode("n")
            if remaining == 0 { break }
            // Kill one at random, mid-batch, and start a new one.
            let victim = Int.random(in: 0..<workers.count)
            kill(workers[victim].processIdentifier, SIGKILL)
            workers[victim].waitUntilExit()
            kills += 1
            workers[victim] = try start()
        }
        for worker in workers {
            worker.terminate()
            worker.waitUntilExit()
        }
        #expect(kills > 0)
        #expect(try await pool.query("SELECT count(*) AS n FROM deliveries WHERE state <> 'delivered'").single().decode("n", as: Int.self) == 0)
        #expect(try await pool.query("SELECT count(*) AS n FROM inbox_entries").single().decode("n", as: Int.self) == 10_000)
        let duplicated: Int = try await pool.query(
            "SELECT count(*) AS n FROM (SELECT 1 FROM inbox_entries GROUP BY letter_id, unit_id HAVING count(*) > 1) d").single().decode("n")
        #expect(duplicated == 0)
        #expect(try await pool.query("SELECT min(attempts) AS n FROM deliveries").single().decode("n", as: Int.self) >= 1)
        #expect(try await pool.query("SELECT count(*) AS n FROM letters WHERE status <> 'delivered'").single().decode("n", as: Int.self) == 0)
        // Every delivery counted off its letter exactly once, whatever was killed when.
        #expect(try await pool.query("SELECT count(*) AS n FROM letters WHERE pending_deliveries <> 0").single().decode("n", as: Int.self) == 0)
    }
}
