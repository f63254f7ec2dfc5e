import EsuratTestSupport
import Foundation
import Testing

/// The `esurat pki`, `sign` and `verify` commands, run as an operator would, and their output
/// checked with the stock `openssl` command.
@Suite struct SigningCLITests {
    /// The `esurat` binary built beside this test bundle.
    static var esurat: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("esurat").path
    }

    @Test func initIssueSignVerifyRevoke() async throws {
        let directory = NSTemporaryDirectory() + "esurat-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let secrets = ["ESURAT_PKI_PASSPHRASE": "frasa-sandi-pki-uji", "ESURAT_SIGNER_PASSPHRASE": "frasa-sandi-penanda"]
        // Through ArchiveTools.run: each command waits on a thread of its own, not on one of
        // the cooperative threads the other tests share.
        func esurat(_ arguments: String...) async throws -> (status: Int32, output: String) {
            try await ArchiveTools.run(Self.esurat, arguments, in: directory, environment: secrets)
        }
        func openssl(_ arguments: String...) async throws -> (status: Int32, output: String) {
            try await ArchiveTools.run("/usr/bin/openssl", arguments, in: directory)
        }

        #expect(try await esurat("pki", "init", "--pki-dir", "pki", "--organization", "Pemerintah Kabupaten Uji").status == 0)
        // A second init would destroy the CA: refused.
        #expect(try await esurat("pki", "init", "--pki-dir", "pki").status != 0)
        let issued = try await esurat("pki", "issue", "--pki-dir", "pki", "--name", "Ahmad Fauzi", "--nip", "198001012005011001",
                                "--unit", "Dinas Komunikasi dan Informatika", "--out-key", "kadis.key", "--out-cert", "kadis.pem")
        #expect(issued.status == 0, "\(issued.output)")
        try Data(#"{"perihal":"Undangan Rapat"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/surat.json"))

        let signed = try await esurat("sign", "--pki-dir", "pki", "--key", "kadis.key", "--cert", "kadis.pem", "surat.json")
        #expect(signed.status == 0, "\(signed.output)")
        let stock = try await openssl("cms", "-verify", "-binary", "-inform", "DER", "-in", "surat.json.p7s", "-content", "surat.json", "-CAfile", "pki/chain.pem", "-out", "/dev/null")
        #expect(stock.status == 0, "\(stock.output)")

        let verified = try await esurat("verify", "--pki-dir", "pki", "surat.json", "surat.json.p7s")
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("\"indication\" : \"TOTAL_PASSED\""))
        #expect(verified.output.contains("198001012005011001"))
        let explicit = try await esurat("verify", "surat.json", "surat.json.p7s", "--ca", "pki/chain.pem", "--crl", "pki/crl.der", "--crl", "pki/root-crl.der")
        #expect(explicit.status == 0, "\(explicit.output)")

        // Revoked later, after the time-stamp: the signature stands. (CRLs state revocation
        // to the second; the same second as the time-stamp counts as before it.)
        try await Task.sleep(for: .milliseconds(1200))
        let serial = try await openssl("x509", "-noout", "-serial", "-in", "kadis.pem").output
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
        #expect(try await esurat("pki", "revoke", "--pki-dir", "pki", serial, "--reason", "keyCompromise").status == 0)
        let crlText = try await openssl("crl", "-inform", "DER", "-in", "pki/crl.der", "-noout", "-text").output
        #expect(crlText.contains(serial))
        #expect(try await esurat("verify", "--pki-dir", "pki", "surat.json", "surat.json.p7s").status == 0)

        // One flipped byte: exit 1 with HASH_FAILURE.
        try Data(#"{"perihal":"Undangan RapaT"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/surat.json"))
        let tampered = try await esurat("verify", "--pki-dir", "pki", "surat.json", "surat.json.p7s")
        #expect(tampered.status == 1)
        #expect(tampered.output.contains("HASH_FAILURE"))

        // A wrong passphrase is a clear error, not a crash.
        let wrong = try await ArchiveTools.run(Self.esurat, ["sign", "--pki-dir", "pki", "--key", "kadis.key", "--cert", "kadis.pem", "surat.json"], in: directory,
                                 environment: ["ESURAT_PKI_PASSPHRASE": "frasa-sandi-pki-uji", "ESURAT_SIGNER_PASSPHRASE": "bukan-ini"])
        #expect(wrong.status != 0)
        #expect(wrong.output.contains("passphrase does not unlock"))
    }
}
