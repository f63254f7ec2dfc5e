import EsuratPostgres
import EsuratTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `esurat serve` answers, and on SIGTERM stops taking requests, finishes, and exits 0 —
/// promptly, with every background service (worker, escalation timer, audit sealer) stopped.
@Suite struct ServeShutdownTests {
    @Test func sigtermStopsTheServerPromptlyWithExitZero() async throws {
        let pool = try await TestCluster.freshDatabase(poolSize: 2)
        defer { pool.close() }
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schema").path
        let esurat = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("esurat").path
        let port = try EmbeddedPostgres.freeLoopbackPort()
        let dataDir = NSTemporaryDirectory() + "esurat-serve-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: esurat)
        process.arguments = ["serve", "--port", "\(port)", "--schema-dir", schema, "--data-dir", dataDir, "--pool-size", "4", "--log-level", "error"]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "ESURAT_DATABASE_URL": pool.configuration.connectionString, "ESURAT_PKI_PASSPHRASE": "frasa-sandi-pki-uji-serve",
            "ESURAT_ADMIN_PASSWORD": "kata-sandi-admin-uji",
        ]) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // Ready: /readyz answers 200 (a database round trip).
        var ready = false
        for _ in 0..<300 where !ready {
            try await Task.sleep(for: .milliseconds(100))
            guard process.isRunning else { break }
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            request.timeoutInterval = 2
            if let (_, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 { ready = true }
        }
        #expect(ready, "the server never became ready")

        let signalled = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning && ContinuousClock.now - signalled < .seconds(30) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!process.isRunning, "still running 30 s after SIGTERM")
        // Well under the escalation timer's one-minute pause and the sealer's interval.
        #expect(ContinuousClock.now - signalled < .seconds(20))
        if !process.isRunning { #expect(process.terminationStatus == 0) }
    }
}
