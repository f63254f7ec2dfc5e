import EsuratPostgres
import EsuratTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The web UI in a real browser: `esurat serve` on a throwaway database with the demo
/// Kabupaten, and the Playwright suite in Tests/browser driving Debian's chromium through it
/// (whole flows at 360 px, axe-core, CSRF, JavaScript off, Indonesian text, screenshots).
/// Needs the `chromium` and `fonts-liberation` packages, which deploy/test.sh installs.
@Suite struct BrowserUITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theWebUIPassesItsBrowserSuite() async throws {
        try await HeavyTests.oneAtATime { try await browserSuite() }
    }

    func browserSuite() async throws {
        let chromium = ProcessInfo.processInfo.environment["ESURAT_CHROMIUM"] ?? "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium),
                     "Debian's chromium is missing: run ./deploy/test.sh, which installs chromium and fonts-liberation")
        let python = try await ArchiveTools.offThePool { try Self.browserPython() }

        let pool = try await TestCluster.freshDatabase(poolSize: 2)
        defer { pool.close() }
        let schema = Self.root.appendingPathComponent("schema").path
        let scratch = NSTemporaryDirectory() + "esurat-browser-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let adminPassword = "kata-sandi-admin-peramban"
        let environment = [
            "ESURAT_DATABASE_URL": pool.configuration.connectionString, "ESURAT_PKI_PASSPHRASE": "frasa-sandi-pki-uji-peramban",
            "ESURAT_ADMIN_PASSWORD": adminPassword, "ESURAT_ORGANIZATION": "Pemerintah Kabupaten Bangkalan",
        ]
        let port = try EmbeddedPostgres.freeLoopbackPort()
        let log = scratch + "/serve.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ArchiveTools.esurat)
        process.arguments = ["serve", "--seed-demo", "--port", "\(port)", "--schema-dir", schema, "--data-dir", scratch + "/data", "--pool-size", "6",
                             "--log-level", "debug"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var ready = false
        for _ in 0..<1200 where !ready {
            try await Task.sleep(for: .milliseconds(100))
            guard process.isRunning else { break }
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/masuk")!)
            request.timeoutInterval = 2
            if let (_, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 { ready = true }
        }
        try #require(ready, "esurat serve never answered: \(String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self).suffix(4000))")

        let screenshots = Self.root.appendingPathComponent(".build/screenshots").path
        let suite = try await ArchiveTools.run(
            python, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short", Self.root.appendingPathComponent("Tests/browser").path],
            in: Self.root.appendingPathComponent("Tests/browser").path,
            environment: [
                "ESURAT_BASE_URL": "http://127.0.0.1:\(port)", "ESURAT_SCREENSHOTS": screenshots, "ESURAT_CHROMIUM": chromium,
                "ESURAT_ADMIN_PASSWORD": adminPassword,
            ])
        #expect(suite.status == 0, "\(suite.output.suffix(12000))")
        print("browser suite: \(suite.output.split(separator: "\n").last ?? "") — screenshots in \(screenshots)")

        process.terminate()
        process.waitUntilExit()
        try logHandle.close()
        // The passphrases the suite typed never reached the log (nor did the demo's).
        let written = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        #expect(written.contains("\"path\":\"/masuk\""), "the access log is where the check looks")
        for secret in ["frasa-tte-kepala-dinkes", "bukan-passphrase-ini", "tte-demo-2026\"", "kata-sandi-awal-2026", adminPassword, "esurat-demo-2026\""] {
            #expect(!written.contains(secret), "\(secret) is in the server's log")
        }
    }

    /// A virtualenv with the pinned Playwright, axe and pytest, made once per set of pins.
    static func browserPython() throws -> String {
        let requirements = root.appendingPathComponent("Tests/browser/requirements.txt").path
        let pins = (try? String(contentsOfFile: requirements, encoding: .utf8)) ?? ""
        let venv = NSTemporaryDirectory() + "esurat-test-browser-venv-\(String(UInt64(bitPattern: Int64(pins.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) })), radix: 16))"
        let python = venv + "/bin/python"
        if FileManager.default.fileExists(atPath: python), try ArchiveTools.runSync(python, ["-c", "import playwright, axe_playwright_python, pytest"]).status == 0 {
            return python
        }
        let made = try ArchiveTools.runSync("/usr/bin/env", ["python3", "-m", "venv", venv])
        guard made.status == 0 else { throw ArchiveTools.ToolFailure(description: "python3 -m venv failed: \(made.output)") }
        let installed = try ArchiveTools.runSync(venv + "/bin/pip", ["install", "--quiet", "-r", requirements])
        guard installed.status == 0 else { throw ArchiveTools.ToolFailure(description: "pip install -r \(requirements) failed: \(installed.output)") }
        return python
    }
}
