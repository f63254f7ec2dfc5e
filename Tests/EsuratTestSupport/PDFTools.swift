import Foundation
import Synchronization

/// The stock validators of signed PDFs: pyHanko (PyPI, pinned in Tests/pdf/requirements.txt,
/// in a virtualenv made once per set of pins), poppler's pdfsig with an NSS database that
/// trusts only the test's root, qpdf, pdftotext and openssl.
public enum PDFTools {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `pyhanko` command of the pinned virtualenv.
    public static func pyhanko() async throws -> String {
        try await ArchiveTools.offThePool { try ArchiveTools.virtualenvs.withLock { _ in try pyhankoUnlocked() } }
    }

    private static func pyhankoUnlocked() throws -> String {
        let requirements = root.appendingPathComponent("Tests/pdf/requirements.txt").path
        let pins = (try? String(contentsOfFile: requirements, encoding: .utf8)) ?? ""
        let key = String(UInt64(bitPattern: Int64(pins.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) })), radix: 16)
        let venv = NSTemporaryDirectory() + "esurat-test-pyhanko-venv-\(key)"
        let command = venv + "/bin/pyhanko"
        if FileManager.default.isExecutableFile(atPath: command), try ArchiveTools.runSync(command, ["--version"]).status == 0 { return command }
        let made = try ArchiveTools.runSync("/usr/bin/env", ["python3", "-m", "venv", venv])
        guard made.status == 0 else { throw ArchiveTools.ToolFailure(description: "python3 -m venv failed: \(made.output)") }
        let installed = try ArchiveTools.runSync(venv + "/bin/pip", ["install", "--quiet", "-r", requirements])
        guard installed.status == 0 else { throw ArchiveTools.ToolFailure(description: "pip install -r \(requirements) failed: \(installed.output)") }
        return command
    }

    /// The virtualenv's python, for pyHanko's API.
    public static func python() async throws -> String {
        URL(fileURLWithPath: try await pyhanko()).deletingLastPathComponent().appendingPathComponent("python").path
    }

    /// An NSS database in `directory` trusting `rootPEM` alone, for pdfsig.
    public static func nssDatabase(trusting rootPEM: String, in directory: String) async throws -> String {
        let database = directory + "/nss"
        try FileManager.default.createDirectory(atPath: database, withIntermediateDirectories: true)
        try rootPEM.write(toFile: directory + "/nss-root.pem", atomically: true, encoding: .utf8)
        let created = try await ArchiveTools.run("/usr/bin/certutil", ["-N", "-d", "sql:" + database, "--empty-password"])
        guard created.status == 0 else { throw ArchiveTools.ToolFailure(description: "certutil -N: \(created.output)") }
        let added = try await ArchiveTools.run("/usr/bin/certutil", ["-A", "-d", "sql:" + database, "-n", "root", "-t", "C,C,C", "-i", directory + "/nss-root.pem"])
        guard added.status == 0 else { throw ArchiveTools.ToolFailure(description: "certutil -A: \(added.output)") }
        return "sql:" + database
    }

    /// pdfsig's report. It exits 0 even for a bad signature, so callers read the text.
    /// (OCSP stays on: with -no-ocsp poppler 22.12 reports a stale NSS error as "Unknown
    /// issue with Certificate"; the test certificates name no OCSP responder, so nothing is
    /// fetched.)
    public static func pdfsig(_ file: String, nss: String) async throws -> String {
        try await ArchiveTools.run("/usr/bin/pdfsig", ["-nssdir", nss, file]).output
    }

    /// `pyhanko sign adesverify` (the AdES validation: chain, revocation from the file's DSS,
    /// time-stamps, modifications) with `rootPEM` as the only trust anchor.
    public static func adesverify(_ file: String, root rootPEM: String, validationTime: String? = nil) async throws -> (status: Int32, output: String) {
        let pyhanko = try await pyhanko()
        let anchor = file + ".root.pem"
        try rootPEM.write(toFile: anchor, atomically: true, encoding: .utf8)
        var arguments = ["sign", "adesverify", "--trust-replace", "--trust", anchor, "--executive-summary"]
        if let validationTime { arguments += ["--validation-time", validationTime] }
        return try await ArchiveTools.run(pyhanko, arguments + [file])
    }

    /// `pyhanko sign validate` without revocation checking (for B-T, which carries no
    /// revocation data).
    public static func validate(_ file: String, root rootPEM: String) async throws -> (status: Int32, output: String) {
        let pyhanko = try await pyhanko()
        let anchor = file + ".root.pem"
        try rootPEM.write(toFile: anchor, atomically: true, encoding: .utf8)
        return try await ArchiveTools.run(pyhanko, ["sign", "validate", "--trust-replace", "--trust", anchor, "--no-revocation-check", "--pretty-print", file])
    }

    /// The names of the first signature's signed attributes, through pyHanko's API.
    public static func signedAttributes(_ file: String) async throws -> String {
        let script = """
            import sys
            from pyhanko.pdf_utils.reader import PdfFileReader
            with open(sys.argv[1], 'rb') as f:
                s = PdfFileReader(f).embedded_regular_signatures[0]
                print(','.join(sorted(a['type'].native for a in s.signer_info['signed_attrs'])))
            """
        return try await ArchiveTools.run(try await python(), ["-W", "ignore", "-c", script, file]).output
            .split(separator: "\n").last.map(String.init) ?? ""
    }
}
