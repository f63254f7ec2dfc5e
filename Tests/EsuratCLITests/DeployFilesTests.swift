import EsuratPostgres
import EsuratTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The shipped deploy files put esurat behind a reverse proxy. Without
/// `--trust-forwarded-for` every client is the proxy's 127.0.0.1: 20 failed logins from
/// anyone lock out everyone, and the audit trail records 127.0.0.1 (issue 16). Each file's own
/// `serve` arguments are run here, with only the port and directories moved into the test's.
@Suite struct DeployFilesTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The systemd unit's ExecStart, without the binary.
    static func systemdArguments() throws -> [String] {
        let unit = try String(contentsOf: repository.appendingPathComponent("deploy/esurat.service"), encoding: .utf8)
        let line = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") && $0.contains(" serve") })
        return Array(line.dropFirst("ExecStart=".count).split(separator: " ").map(String.init).dropFirst())
    }

    /// The Kubernetes Deployment's `args` of the esurat container (a JSON flow sequence).
    static func kubernetesArguments() throws -> [String] {
        let manifest = try String(contentsOf: repository.appendingPathComponent("deploy/kubernetes/esurat.yaml"), encoding: .utf8)
        let line = try #require(manifest.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("args:") && $0.contains("\"serve\"") })
        let array = String(line[line.firstIndex(of: "[")!...])
        return try #require(try JSONSerialization.jsonObject(with: Data(array.utf8)) as? [String])
    }

    @Test(arguments: ["systemd", "kubernetes"])
    func theShippedServeCommandRecordsTheClientTheProxySaw(_ file: String) async throws {
        let shipped = file == "systemd" ? try Self.systemdArguments() : try Self.kubernetesArguments()
        #expect(shipped.first == "serve")
        let pool = try await TestCluster.freshDatabase(poolSize: 2)
        defer { pool.close() }
        let esurat = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("esurat").path
        let port = try EmbeddedPostgres.freeLoopbackPort()
        let dataDir = NSTemporaryDirectory() + "esurat-deploy-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: esurat)
        // Later options win: only where it listens and keeps its files changes.
        process.arguments = shipped + [
            "--host", "127.0.0.1", "--port", "\(port)", "--schema-dir", Self.repository.appendingPathComponent("schema").path,
            "--data-dir", dataDir, "--pool-size", "4", "--log-level", "error",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "ESURAT_DATABASE_URL": pool.configuration.connectionString, "ESURAT_PKI_PASSPHRASE": "frasa-sandi-pki-uji-deploy",
            "ESURAT_ADMIN_PASSWORD": "kata-sandi-admin-uji",
        ]) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }

        var ready = false
        for _ in 0..<300 where !ready {
            try await Task.sleep(for: .milliseconds(100))
            guard process.isRunning else { break }
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            request.timeoutInterval = 2
            if let (_, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 { ready = true }
        }
        try #require(ready, "the server never became ready")

        // What nginx sends with `$proxy_add_x_forwarded_for`: whatever the client claimed,
        // then the address nginx saw. Only that last hop is believed.
        var login = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/auth/login")!)
        login.httpMethod = "POST"
        login.setValue("application/json", forHTTPHeaderField: "Content-Type")
        login.setValue("10.9.9.9, 198.51.100.7", forHTTPHeaderField: "X-Forwarded-For")
        login.httpBody = Data(#"{"username": "admin", "password": "tebakan-dari-luar"}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: login)
        #expect((response as? HTTPURLResponse)?.statusCode == 401)
        let counted = try await pool.query("SELECT client_address FROM login_failures").map { try $0.decode("client_address", as: String.self) }
        #expect(counted == ["198.51.100.7"], "the \(file) deploy file's serve command counts \(counted) as the client")
        // The audit trail of a login names the same client.
        login.httpBody = Data(#"{"username": "admin", "password": "kata-sandi-admin-uji"}"#.utf8)
        let (_, right) = try await URLSession.shared.data(for: login)
        #expect((right as? HTTPURLResponse)?.statusCode == 200)
        let recorded = try await pool.query("SELECT client_address FROM audit_events WHERE action = 'auth.login'").map {
            try $0.decode("client_address", as: String?.self)
        }
        #expect(recorded == ["198.51.100.7"], "the \(file) deploy file's serve command records \(recorded) as the client")
    }

    /// The proxy must append the address it saw as the last hop, which is the one esurat
    /// believes; a site that passed the client's header through untouched would let anyone
    /// choose their address.
    @Test func theNginxSiteAppendsThePeerItSaw() throws {
        let site = try String(contentsOf: Self.repository.appendingPathComponent("deploy/nginx-esurat.conf"), encoding: .utf8)
        let forwarded = site.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("proxy_set_header X-Forwarded-For") }
        #expect(!forwarded.isEmpty)
        #expect(forwarded.allSatisfy { $0.hasSuffix("$proxy_add_x_forwarded_for;") || $0.hasSuffix("$remote_addr;") }, "\(forwarded)")
    }
}
