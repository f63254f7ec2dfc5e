import EsuratPostgres
import EsuratTestSupport
import Foundation
import Logging
import Testing

/// `esurat export` and `esurat verify-archive` run as an operator would, on the demo
/// Kabupaten's database, and their archive judged by bagit and openssl.
@Suite struct ArchiveCLITests {
    static func day(offset: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Jakarta")!
        let c = calendar.dateComponents([.year, .month, .day], from: calendar.date(byAdding: .day, value: offset, to: Date())!)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    @Test func exportAndVerifyArchiveFromTheCommandLine() async throws {
        let pool = try await TestCluster.freshDatabase(poolSize: 2)
        defer { pool.close() }
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schema").path
        let scratch = NSTemporaryDirectory() + "esurat-archive-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let environment = [
            "ESURAT_DATABASE_URL": pool.configuration.connectionString, "ESURAT_PKI_PASSPHRASE": "frasa-sandi-pki-uji-arsip",
            "ESURAT_ADMIN_PASSWORD": "kata-sandi-admin-uji", "ESURAT_ORGANIZATION": "Pemerintah Kabupaten Bangkalan",
        ]
        func esurat(_ arguments: String...) async throws -> (status: Int32, output: String) {
            try await ArchiveTools.run(ArchiveTools.esurat, arguments + (["seed-demo", "export"].contains(arguments[0]) ? ["--schema-dir", schema, "--log-level", "error"] : []),
                                 in: scratch, environment: environment)
        }

        // The demo Kabupaten: its units, positions and accounts are audit events of today.
        let seeded = try await esurat("seed-demo")
        #expect(seeded.status == 0, "\(seeded.output)")
        let events: Int = try await pool.query("SELECT count(*) AS n FROM audit_events").single().decode("n")
        #expect(events > 20)

        // Bad input is named.
        let inverted = try await esurat("export", "--from", "2026-12-31", "--to", "2026-01-01", "--out", "x.tar")
        #expect(inverted.status != 0)
        #expect(inverted.output.contains("--to must not be before from"), "\(inverted.output)")
        let unknown = try await esurat("export", "--from", Self.day(offset: -1), "--to", Self.day(offset: 1), "--unit", "TIDAK-ADA", "--out", "x.tar")
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("--unit TIDAK-ADA is not a unit"), "\(unknown.output)")

        let exported = try await esurat("export", "--from", Self.day(offset: -1), "--to", Self.day(offset: 1), "--out", "arsip.tar")
        #expect(exported.status == 0, "\(exported.output)")
        // The demo's signed letters (five, through the real signing path) are in the archive.
        let progress = exported.output.firstMatch(of: /(\d+)\/(\d+) letters \(100%\)/)
        #expect(progress.map { $0.1 == $0.2 && Int($0.1)! >= 5 } == true, "progress on stderr: \(exported.output)")
        #expect(exported.output.contains("SHA-256 "))
        let tar = scratch + "/arsip.tar"
        // Without the published root fingerprint every item passes but the verdict is not a
        // success (exit 2); with it, it is.
        let unpinned = try await esurat("verify-archive", tar)
        #expect(unpinned.status == 2 && unpinned.output.contains("UNVERIFIED  trust anchor"), "\(unpinned.output)")
        let fingerprint = try #require(unpinned.output.firstMatch(of: /root CA SHA-256 fingerprint ([0-9A-F:]+)/)?.1)
        let verified = try await esurat("verify-archive", "--ca-fingerprint", String(fingerprint), tar)
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("PASS  audit chain"), "\(verified.output)")
        #expect(verified.output.contains("PASS  checkpoint"))

        let bag = try await ArchiveTools.extract(tar)
        let bagit = try await ArchiveTools.bagitValidate(bag)
        #expect(bagit.status == 0, "\(bagit.output)")
        #expect(try String(contentsOfFile: bag + "/bag-info.txt", encoding: .utf8).contains("Source-Organization: Pemerintah Kabupaten Bangkalan"))
        for (signature, content) in ArchiveTools.signatures(in: bag) {
            let stock = try await ArchiveTools.run("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", content,
                                                                  "-CAfile", bag + "/data/pki/ca.pem", "-out", "/dev/null"])
            #expect(stock.status == 0, "\(signature): \(stock.output)")
        }

        for mode in ["delete-event", "swap-events", "flip"] {
            let tampered = scratch + "/\(mode).tar"
            try await ArchiveTools.tamper(tar, tampered, mode: mode)
            let report = try await esurat("verify-archive", tampered)
            #expect(report.status == 1, "\(mode): \(report.output)")
            #expect(report.output.contains("does NOT verify"))
        }
        let missing = try await esurat("verify-archive", scratch + "/nothing.tar")
        #expect(missing.status != 0)
    }
}
